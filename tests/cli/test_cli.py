"""`cpec` as a user runs it: output, exit codes, and never a traceback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cpec_process import cpec

ROOT = Path(__file__).parents[2]
COMPAT = ROOT / "tests" / "compat"
FIXTURES = ROOT / "tests" / "fixtures"


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout


@pytest.mark.parametrize(
    "command",
    [[], ["compile"], ["check"], ["decide"], ["run"], ["schema"]],
    ids=lambda c: " ".join(c) or "cpec",
)
def test_every_command_explains_itself(command: list[str]) -> None:
    result = cpec(*command, "--help")
    assert result.returncode == 0
    assert "usage: cpec" in result.stdout
    assert len(result.stdout.splitlines()) > 5


def test_no_command_is_a_usage_error() -> None:
    result = cpec()
    assert result.returncode == 2
    assert "usage: cpec" in result.stderr


def test_compile_writes_identical_ir_twice(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert cpec("compile", COMPAT / "ct_plan.yml", "-o", first).returncode == 0
    assert cpec("compile", COMPAT / "ct_plan.yml", "-o", second).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    assert json.loads(first.read_text())["workflow"]["name"] == "Transcode"


BROKEN_PLANS = {
    "cycle": (
        "name: W\nversion: '1'\nactivities: [{name: A, version: '1'}]\nsteps:\n"
        "  - {name: x, activity: A, requires: [y]}\n"
        "  - {name: y, activity: A, requires: [x]}\n",
        ["5:39: error: the steps form a cycle: x requires y requires x"],
    ),
    "unknown_references": (
        "name: W\nversion: '1'\nactivities: [{name: A, version: '1'}]\nsteps:\n"
        "  - name: x\n    activity: B\n    requires: [z]\n"
        "    input: '{\"a\": {{ q.r }}}'\n",
        [
            "6:15: error: step x runs activity 'B', which the plan does not declare",
            "7:16: error: step x requires 'z', which is not a step",
            "8:22: error: step x's input uses 'q'",
        ],
    ),
    "duplicate_keys": (
        "name: W\nversion: '1'\nversion: '2'\nactivities: [{name: A, version: '1'}]\n"
        "steps: [{name: x, activity: A, activity: A}]\n",
        [
            "3:1: error: duplicate key 'version' (first defined at line 2)",
            "5:32: error: duplicate key 'activity'",
        ],
    ),
    "bad_statuses": (
        "name: W\nversion: '1'\nactivities: [{name: A, version: '1'}]\nsteps:\n"
        "  - {name: x, activity: A}\n"
        "  - {name: y, activity: A, requires: [[x, done]]}\n"
        "  - {name: z, activity: A, requires: [[x, faild]]}\n",
        [
            "6:43: error: unknown status 'done'",
            "7:43: error: unknown status 'faild'",
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN_PLANS))
def test_broken_plans_give_every_diagnostic_with_position(
    name: str, tmp_path: Path
) -> None:
    text, expected = BROKEN_PLANS[name]
    plan = tmp_path / f"{name}.yml"
    plan.write_text(text)
    result = cpec("compile", plan)
    assert result.returncode == 1
    assert result.stdout == ""
    assert_no_traceback(result)
    for line in expected:
        assert f"{plan}:{line}" in result.stderr, result.stderr


def test_check_takes_several_files_and_reports_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(BROKEN_PLANS["cycle"][0])
    result = cpec("check", COMPAT / "ct_plan.yml", bad, "--format", "json")
    assert result.returncode == 1
    diagnostics = json.loads(result.stderr)
    assert {d["code"] for d in diagnostics} == {"E125"}
    assert diagnostics[0]["line"] == 5


def test_check_of_a_good_plan_succeeds() -> None:
    result = cpec("check", COMPAT / "ct_plan.yml")
    assert result.returncode == 0
    assert "0 error(s)" in result.stderr


@pytest.mark.parametrize(
    "arguments",
    [
        ["compile", "no/such/plan.yml"],
        ["decide", COMPAT / "ct_plan.yml", "--history", "no/such/history.json"],
        ["run", "no/such/plan.yml"],
        ["run", COMPAT / "ct_plan.yml", "--input", "{not json"],
        ["run", COMPAT / "ct_plan.yml", "--workers", "0"],
        ["compile"],
    ],
)
def test_wrong_usage_exits_2_without_traceback(arguments: list[str | Path]) -> None:
    result = cpec(*arguments)
    assert result.returncode == 2, result.stderr
    assert_no_traceback(result)
    assert "error" in result.stderr


def test_decide_prints_the_decisions_for_a_recorded_history() -> None:
    result = cpec(
        "decide",
        COMPAT / "ct_plan.yml",
        "--history",
        FIXTURES / "histories" / "ct_validated.json",
    )
    assert result.returncode == 0, result.stderr
    decisions = json.loads(result.stdout)["decisions"]
    assert [d["decisionType"] for d in decisions] == ["ScheduleActivityTask"]
    attributes = decisions[0]["scheduleActivityTaskDecisionAttributes"]
    assert attributes["activityId"] == "TranscodeAssetStep"
    assert (
        json.loads(attributes["input"])["input_asset_metadata"]["streams"][0]["width"]
        == 640
    )


def test_decide_reads_ir_and_yaml_histories_and_warns_on_another_type(
    tmp_path: Path,
) -> None:
    ir = tmp_path / "ct.json"
    assert cpec("compile", COMPAT / "ct_plan.yml", "-o", ir).returncode == 0
    result = cpec(
        "decide", ir, "--history", FIXTURES / "histories" / "other_type_started.yaml"
    )
    assert result.returncode == 0, result.stderr
    assert "warning: the history is of workflow type OtherFlow 3" in result.stderr
    decisions = json.loads(result.stdout)["decisions"]
    assert decisions[0]["scheduleActivityTaskDecisionAttributes"]["activityId"] == (
        "ValidateAssetStep"
    )


def test_decide_on_a_damaged_ir_is_refused(tmp_path: Path) -> None:
    ir = tmp_path / "ct.json"
    assert cpec("compile", COMPAT / "ct_plan.yml", "-o", ir).returncode == 0
    ir.write_text(ir.read_text().replace("ValidateAsset-v2", "Elsewhere"))
    result = cpec(
        "decide", ir, "--history", FIXTURES / "histories" / "ct_validated.json"
    )
    assert result.returncode == 1
    assert "content hash does not match" in result.stderr
    assert_no_traceback(result)


def test_decide_on_a_history_that_is_not_one(tmp_path: Path) -> None:
    history = tmp_path / "h.json"
    history.write_text('{"events": 3}')
    result = cpec("decide", COMPAT / "ct_plan.yml", "--history", history)
    assert result.returncode == 1
    assert "expected" in result.stderr
    assert_no_traceback(result)
