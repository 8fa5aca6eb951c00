"""Fixtures for the example transcoding plan (plans/transcode/)."""

from __future__ import annotations

import copy
import json
import shutil
from types import ModuleType
from typing import Any

import pytest

from cpe.runtime.activity import load_module
from tests.example.transcode_helpers import BUCKET, EXAMPLE


@pytest.fixture(scope="session")
def activities() -> ModuleType:
    """activities.py, imported by path the way a worker imports it."""
    return load_module(str(EXAMPLE / "activities.py"))


@pytest.fixture(scope="session")
def shipped_job() -> dict[str, Any]:
    return json.loads((EXAMPLE / "job.json").read_text())


@pytest.fixture
def job(shipped_job: dict[str, Any]) -> dict[str, Any]:
    """The example job input (a fresh copy for each test to change)."""
    return copy.deepcopy(shipped_job)


@pytest.fixture(scope="session")
def source_metadata(
    activities: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """ValidateAsset's output for the shipped video (computed once)."""
    root = tmp_path_factory.mktemp("probe")
    shutil.copytree(EXAMPLE / "storage", root / "storage", dirs_exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CPE_STORAGE_ROOT", str(root / "storage"))
        metadata: dict[str, Any] = activities.validate_asset(
            {"input_asset": {"bucket": BUCKET, "file": "/input/video1.mp4"}}
        )
    return metadata


@pytest.fixture
def transcode_input(
    job: dict[str, Any], source_metadata: dict[str, Any]
) -> dict[str, Any]:
    """TranscodeAsset's input as plan.yml renders it for the example job."""
    return {
        "client": job["client"],
        "input_asset": job["input_asset"],
        "input_asset_metadata": source_metadata,
        "output_asset": job["output_asset"],
    }
