"""The compatibility inputs stay exactly as their authors wrote them."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent
SHARED = HERE.parents[2] / "shared" / "compat"
FILES = ["ct_plan.yml", "input_video1.json", "clientConfigSample.json"]


@pytest.mark.parametrize("name", FILES)
def test_the_kept_copy_matches_the_shared_original(name: str) -> None:
    original = SHARED / name
    if not original.is_file():
        pytest.skip(f"{original} is not beside this checkout")
    assert (HERE / name).read_bytes() == original.read_bytes()
