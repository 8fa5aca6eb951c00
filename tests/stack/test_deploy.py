"""The registry, registration of types, and `cpec deploy` as a user runs it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cpe.compiler import compile_file
from cpe.runtime.backends.local import connect
from cpe.runtime.ir import content_hash
from cpe.runtime.registration import ensure_domain, register_plan_types
from cpe.runtime.registry import Registry, RegistryConflict, open_registry
from tests.cpec_process import cpec
from tests.stack.helpers import FIXTURES

SQUARE = FIXTURES / "plans" / "square.yml"


def _other_version(ir: dict[str, Any], version: str) -> dict[str, Any]:
    changed = copy.deepcopy(ir)
    changed["workflow"]["version"] = version
    changed.pop("content_hash")
    changed["content_hash"] = content_hash(changed)
    return changed


def _edited(ir: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(ir)
    changed["workflow"]["task_start_to_close_timeout"] = "99"
    changed.pop("content_hash")
    changed["content_hash"] = content_hash(changed)
    return changed


@pytest.fixture
def s3_registry() -> Iterator[Registry]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="plans")
        yield open_registry("s3://plans/team/prod", s3_client=client)


@pytest.fixture(params=["folder", "s3"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    if request.param == "folder":
        return open_registry(str(tmp_path / "registry"))
    found: Registry = request.getfixturevalue("s3_registry")
    return found


def test_a_registry_keeps_each_version_and_its_decision_task_list(
    registry: Registry,
) -> None:
    ir = compile_file(SQUARE)
    assert registry.store(ir) == "stored"
    assert registry.store(_other_version(ir, "2"), task_list="deciders-2") == "stored"
    deployed = registry.load_all()
    assert sorted(deployed) == [("Squares", "1"), ("Squares", "2")]
    assert deployed[("Squares", "1")].decision_task_list == "Squares-1"
    assert deployed[("Squares", "2")].decision_task_list == "deciders-2"
    assert deployed[("Squares", "1")].ir == ir


def test_another_ir_under_a_deployed_version_is_refused_unless_forced(
    registry: Registry,
) -> None:
    ir = compile_file(SQUARE)
    registry.store(ir)
    assert registry.store(ir) == "unchanged"
    edited = _edited(ir)
    with pytest.raises(RegistryConflict) as refused:
        registry.store(edited)
    assert ir["content_hash"] in str(refused.value)
    assert edited["content_hash"] in str(refused.value)
    assert registry.store(edited, force=True) == "replaced"
    assert registry.load_all()[("Squares", "1")].ir == edited


def test_a_damaged_entry_is_skipped_and_the_others_served(tmp_path: Path) -> None:
    registry = open_registry(str(tmp_path))
    ir = compile_file(SQUARE)
    registry.store(ir)
    registry.store(_other_version(ir, "2"))
    damaged = tmp_path / "workflows" / "Squares" / "2" / "ir.json"
    damaged.write_text(damaged.read_text().replace('"Square"', '"Squire"', 1))
    assert sorted(registry.load_all()) == [("Squares", "1")]
    # Writes leave no temporary file behind.
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]


def test_existing_types_with_other_defaults_are_warned_about(tmp_path: Path) -> None:
    swf, _ = connect(tmp_path / "cpe.sqlite")
    ensure_domain(swf, "d")
    ir = compile_file(SQUARE)
    first = register_plan_types(swf, "d", ir)
    assert "workflow Squares version 1" in first.made
    assert first.warnings == []
    again = register_plan_types(swf, "d", ir)
    assert again.made == [] and again.warnings == []
    changed = copy.deepcopy(ir)
    changed["activities"]["Square"]["heartbeat_timeout"] = "5"
    report = register_plan_types(swf, "d", changed, task_list="elsewhere")
    assert len(report.warnings) == 2
    workflow_warning, activity_warning = report.warnings
    assert "workflow type Squares version 1" in workflow_warning
    assert "defaultTaskList is 'Squares-1' registered, 'elsewhere'" in workflow_warning
    assert "activity type Square version 1" in activity_warning
    assert "defaultTaskHeartbeatTimeout is '20' registered, '5'" in activity_warning


def test_cpec_deploy_prints_diagnostics_of_a_bad_plan_and_exits_1(
    tmp_path: Path,
) -> None:
    plan = tmp_path / "bad.yml"
    plan.write_text(SQUARE.read_text().replace("activity: Square", "activity: Sqare"))
    result = cpec("deploy", plan, "--registry", tmp_path / "r", "--db", tmp_path / "db")
    assert result.returncode == 1
    assert f"{plan}:" in result.stderr and "error" in result.stderr
    assert not (tmp_path / "r").exists()


def test_cpec_deploy_refuses_a_changed_plan_under_the_same_version(
    tmp_path: Path,
) -> None:
    registry, db = tmp_path / "r", tmp_path / "db"
    assert cpec("deploy", SQUARE, "--registry", registry, "--db", db).returncode == 0
    plan = tmp_path / "changed.yml"
    plan.write_text(
        SQUARE.read_text().replace("heartbeat_timeout: 20", "heartbeat_timeout: 9")
    )
    refused = cpec("deploy", plan, "--registry", registry, "--db", db)
    assert refused.returncode == 1
    assert "is deployed in" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    forced = cpec("deploy", plan, "--registry", registry, "--db", db, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "replaced Squares version 1" in forced.stdout
    assert "defaultTaskHeartbeatTimeout is '20' registered, '9'" in forced.stderr
    stored = json.loads(
        (registry / "workflows" / "Squares" / "1" / "ir.json").read_text()
    )
    assert stored["activities"]["Square"]["heartbeat_timeout"] == "9"


def test_cpec_deploy_accepts_compiled_ir_and_a_task_list(tmp_path: Path) -> None:
    ir_file = tmp_path / "square.ir.json"
    assert cpec("compile", SQUARE, "-o", ir_file).returncode == 0
    registry = tmp_path / "r"
    result = cpec(
        "deploy",
        ir_file,
        "--registry",
        registry,
        "--db",
        tmp_path / "db",
        "--task-list",
        "deciders",
    )
    assert result.returncode == 0, result.stderr
    assert "decision task list deciders" in result.stdout
    stored = registry / "workflows" / "Squares" / "1"
    assert (stored / "ir.json").read_text() == ir_file.read_text()
    assert json.loads((stored / "deployment.json").read_text()) == {
        "decision_task_list": "deciders"
    }
    swf, _ = connect(tmp_path / "db")
    described = swf.describe_workflow_type(
        domain="cpe-local", workflowType={"name": "Squares", "version": "1"}
    )
    assert described["configuration"]["defaultTaskList"] == {"name": "deciders"}


def test_cpec_worker_names_activity_code_it_cannot_load(tmp_path: Path) -> None:
    commands = tmp_path / "commands.yml"
    commands.write_text("activities:\n  - {name: A, version: '1', argv: 'echo hi'}\n")
    result = cpec("worker", "--activities", commands, "--db", tmp_path / "db")
    assert result.returncode == 2
    assert "argv must be a list of strings" in result.stderr
    assert "Traceback" not in result.stderr
