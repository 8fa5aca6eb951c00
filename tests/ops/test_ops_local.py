"""The operations commands as processes, on an embedded database where one
execution ran to its end through `cpec run` and others wait, still open."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cpe.compiler.compile import check_file
from cpe.runtime.backends.local import connect
from cpe.runtime.registration import ensure_domain, ensure_types
from tests.cpec_process import cpec

FIXTURES = Path(__file__).parents[1] / "fixtures"
ENGINE = FIXTURES / "plans" / "engine.yml"
BASIC = FIXTURES / "activities" / "basic.py"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ops") / "cpe.sqlite"
    ran = cpec(
        "run", ENGINE, "--activities", BASIC, "--input", '{"mode": "fail"}',
        "--db", path, "--workflow-id", "driven", "--workers", "1",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    ir, _ = check_file(str(ENGINE))
    assert ir is not None
    swf, _ = connect(path)
    ensure_domain(swf, "cpe-local")
    ensure_types(swf, "cpe-local", ir)
    for workflow_id in ("waiting", "to-cancel", "to-terminate"):
        swf.start_workflow_execution(
            domain="cpe-local",
            workflowId=workflow_id,
            workflowType={"name": "Engine", "version": "1"},
            input='{"mode": "ok"}',
        )
    return path


def ops(db: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return cpec(*arguments, "--backend", "local", "--db", db)


def test_status_summarises_open_executions_per_type_and_recent_closes(
    db: Path,
) -> None:
    result = ops(db, "status")
    assert result.returncode == 0, result.stderr
    assert "3  Engine 1" in result.stdout
    closed = result.stdout.split("recently closed")[1]
    assert "driven" in closed and "COMPLETED" in closed


def test_status_of_a_driven_execution_shows_steps_and_result(db: Path) -> None:
    result = ops(db, "status", "driven")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "close status: COMPLETED" in lines
    assert "  explode  failed" in lines and "  recover  succeeded" in lines
    result_line = next(line for line in lines if line.startswith("result:"))
    assert json.loads(result_line.split(":", 1)[1])["recover"] == {"mode": "fail"}


def test_status_with_the_plan_folds_the_history_and_shows_every_step(
    db: Path,
) -> None:
    folded = ops(db, "status", "driven", "--plan", str(ENGINE))
    assert folded.returncode == 0, folded.stderr
    assert "  explode  failed: ValueError: boom: asked to" in folded.stdout
    waiting = ops(db, "status", "waiting", "--plan", str(ENGINE))
    assert "status:       OPEN" in waiting.stdout
    assert "  start    pending" in waiting.stdout


def test_history_as_a_table_and_as_json(db: Path) -> None:
    table = ops(db, "history", "driven")
    assert table.returncode == 0, table.stderr
    header, first = table.stdout.splitlines()[:2]
    assert header.split() == ["ID", "TIME", "TYPE", "ATTRIBUTES"]
    assert first.split()[2] == "WorkflowExecutionStarted"
    assert "activityId=explode" in table.stdout
    as_json = json.loads(ops(db, "history", "driven", "--format", "json").stdout)
    events = as_json["events"]
    assert [e["eventId"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["eventTimestamp"].endswith("+00:00")
    assert events[-1]["eventType"] == "WorkflowExecutionCompleted"
    newest = json.loads(
        ops(db, "history", "driven", "--format", "json", "--reverse").stdout
    )
    assert newest["events"] == list(reversed(events))


def test_executions_filters_by_status_type_and_time(db: Path) -> None:
    every = json.loads(ops(db, "executions", "--format", "json").stdout)
    ids = {i["execution"]["workflowId"] for i in every["executionInfos"]}
    assert {"driven", "waiting"} <= ids
    closed = ops(db, "executions", "--close-status", "completed", "--type", "Engine")
    assert closed.returncode == 0, closed.stderr
    assert "driven" in closed.stdout and "waiting" not in closed.stdout
    assert "waiting" in ops(db, "executions", "--status", "open").stdout
    other_type = ops(db, "executions", "--type", "Engine:2")
    assert other_type.returncode == 0 and "driven" not in other_type.stdout
    future = ops(db, "executions", "--since", "2999-01-01T00:00:00Z")
    assert "no executions match" in future.stderr
    assert "driven" in ops(db, "executions", "--since", "1h", "--until", "0s").stdout


def test_signal_cancel_and_terminate_act_on_open_executions(db: Path) -> None:
    signaled = ops(db, "signal", "waiting", "approve", "--input", '{"ok": true}')
    assert signaled.returncode == 0, signaled.stderr
    events = json.loads(ops(db, "history", "waiting", "--format", "json").stdout)
    signal = events["events"][-1]["workflowExecutionSignaledEventAttributes"]
    assert signal == {"signalName": "approve", "input": '{"ok": true}'}

    assert ops(db, "cancel", "to-cancel").returncode == 0
    assert "cancel:       requested" in ops(db, "status", "to-cancel").stdout

    ended = ops(db, "terminate", "to-terminate", "--reason", "no longer wanted")
    assert ended.returncode == 0, ended.stderr
    status = ops(db, "status", "to-terminate").stdout
    assert "close status: TERMINATED" in status
    assert "reason:       no longer wanted" in status


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["status", "nobody"], 1, "no execution with workflow id nobody"),
        (["signal", "driven", "go"], 1, "already closed (COMPLETED)"),
        (["cancel", "driven"], 1, "nothing to cancel"),
        (["terminate", "driven"], 1, "nothing to terminate"),
        (["status", "--domain", "elsewhere"], 1, "there is no domain elsewhere"),
        (["executions", "--since", "yesterday"], 2, "is not a time"),
        (["executions", "--status", "open", "--close-status", "FAILED"], 2, "--close"),
        (["signal", "waiting", "", "--input", "{}"], 2, "cannot be a signal name"),
        (["status", ""], 2, "'' cannot be a workflow id: it is empty"),
        (["history", "a|b"], 2, "cannot be a workflow id"),
        (["cancel", ""], 2, "cannot be a workflow id"),
        (["signal", "waiting", "go", "--input", "@/nonexistent"], 2, "/nonexistent"),
        (["executions", "--since", "99999999999d"], 2, "give a shorter span"),
        (["status", "--run-id", "r"], 2, "need a WORKFLOW_ID"),
    ],
)
def test_mistakes_are_one_line_with_the_right_exit_code(
    db: Path, arguments: list[str], code: int, message: str
) -> None:
    result = ops(db, *arguments)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 1 or code == 2


def test_a_database_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    result = ops(tmp_path / "missing.sqlite", "status")
    assert result.returncode == 2
    assert "there is no database file" in result.stderr
    assert not (tmp_path / "missing.sqlite").exists()


@pytest.mark.parametrize(
    "command", ["status", "history", "executions", "signal", "cancel", "terminate"]
)
def test_every_command_explains_itself(command: str) -> None:
    result = cpec(command, "--help")
    assert result.returncode == 0
    assert "--backend" in result.stdout and "--domain" in result.stdout
