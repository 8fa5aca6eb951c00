"""The published JSON Schema of plans agrees with the checker and accepts real plans."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from cpe.compiler.checker import ACTIVITY_KEYS, PLAN_KEYS, STEP_KEYS

ROOT = Path(__file__).parents[2]
PLANS = [
    ROOT / "tests" / "compat" / "ct_plan.yml",
    ROOT / "plans" / "transcode" / "plan.yml",
    *sorted((ROOT / "tests" / "fixtures" / "plans").glob("*.yml")),
]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    text = resources.files("cpe.compiler").joinpath("plan.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    Draft202012Validator.check_schema(loaded)
    return loaded


def test_the_schema_names_exactly_the_keys_the_checker_knows(
    schema: dict[str, Any],
) -> None:
    definitions = schema["$defs"]
    assert set(schema["properties"]) == set(PLAN_KEYS)
    assert set(schema["required"]) == {
        k for k, required in PLAN_KEYS.items() if required
    }
    assert set(definitions["activity"]["properties"]) == set(ACTIVITY_KEYS)
    assert set(definitions["step"]["properties"]) == set(STEP_KEYS)


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.name)
def test_real_plans_are_valid(schema: dict[str, Any], plan: Path) -> None:
    errors = list(
        Draft202012Validator(schema).iter_errors(yaml.safe_load(plan.read_text()))
    )
    assert errors == []


def test_a_typo_is_invalid(schema: dict[str, Any]) -> None:
    plan = yaml.safe_load((ROOT / "tests" / "compat" / "ct_plan.yml").read_text())
    plan["steps"][1]["requires"] = [["ValidateAssetStep", "succeded"]]
    plan["stpes"] = []
    assert len(list(Draft202012Validator(schema).iter_errors(plan))) >= 2
