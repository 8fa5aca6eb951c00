"""plan.yml and job.json: they compile, and agree with the activity code."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import jsonschema
import pytest

from cpe.compiler import compile_file
from cpe.runtime.activity import load_activities
from tests.example.transcode_helpers import COMPAT, EXAMPLE


@pytest.fixture(scope="module")
def ir() -> dict[str, Any]:
    return compile_file(EXAMPLE / "plan.yml")


def test_the_activity_code_implements_the_plan(ir: dict[str, Any]) -> None:
    code = load_activities([str(EXAMPLE / "activities.py")])
    declared = {(a["name"], a["version"]) for a in ir["activities"].values()}
    assert declared == set(code)


def test_the_dag_forks_after_validation_and_joins(ir: dict[str, Any]) -> None:
    def required(step: str) -> set[str]:
        return {r["step"] for r in ir["steps"][step]["requires"]}

    assert required("TranscodeAssetStep") == {"ValidateAssetStep"}
    assert required("MakeThumbnailStep") == {"ValidateAssetStep"}
    assert {"TranscodeAssetStep", "MakeThumbnailStep"} <= required(ir["order"][-1])


def test_the_preset_enum_is_the_preset_table(
    ir: dict[str, Any], activities: ModuleType
) -> None:
    output_asset = ir["workflow"]["input_spec"]["properties"]["output_asset"]
    assert output_asset["properties"]["preset"]["enum"] == list(
        activities.media.PRESETS
    )


def test_the_job_inputs_match_the_input_spec(
    ir: dict[str, Any], job: dict[str, Any]
) -> None:
    schema = ir["workflow"]["input_spec"]
    jsonschema.validate(job, schema)
    client = json.loads((COMPAT / "clientConfigSample.json").read_text())
    jsonschema.validate(
        {**json.loads((COMPAT / "input_video1.json").read_text()), "client": client},
        schema,
    )
    del job["output_asset"]["bucket"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(job, schema)
