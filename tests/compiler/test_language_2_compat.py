"""Plans that use nothing of plan language 2's new keys compile to the very
bytes they did before those keys existed (IR kept in ir_before_language_2/,
compiled from these plans by the compiler that had none of them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpe.compiler import compile_file
from cpe.compiler.ir import dumps

ROOT = Path(__file__).parents[2]
BEFORE = Path(__file__).parent / "ir_before_language_2"
PLANS = {
    "ct_plan": ROOT / "tests" / "compat" / "ct_plan.yml",
    "transcode": ROOT / "plans" / "transcode" / "plan.yml",
    **{
        name: ROOT / "tests" / "fixtures" / "plans" / f"{name}.yml"
        for name in ("conditional", "crash", "diamond", "engine", "slow")
    },
}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_the_ir_is_byte_identical_to_before(name: str) -> None:
    assert dumps(compile_file(PLANS[name])) == (BEFORE / f"{name}.json").read_text()


def test_every_kept_ir_has_its_plan() -> None:
    assert {path.stem for path in BEFORE.glob("*.json")} == set(PLANS)
