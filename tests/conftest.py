"""Fixtures shared by the test folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[1] / "plans" / "transcode"


@pytest.fixture
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the example's shipped storage, set as CPE_STORAGE_ROOT.

    Child processes (cpec run and its workers) inherit the variable, so no test
    writes into the checkout.
    """
    root = tmp_path / "storage"
    shutil.copytree(
        EXAMPLE / "storage", root, ignore=shutil.ignore_patterns("output", ".*")
    )
    monkeypatch.setenv("CPE_STORAGE_ROOT", str(root))
    return root
