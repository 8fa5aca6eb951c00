"""The stack as real processes on the embedded backend: deploy, decider, worker."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from cpe.runtime.backends.local import connect
from cpe.runtime.blobs import LocalBlobStore, reference_in
from tests.cpec_process import cpec
from tests.stack.helpers import (
    BASIC,
    COMMANDS,
    CONTEXT,
    FAST,
    FIXTURES,
    Daemon,
    attributes,
    daemons,
    event_types,
    pid_is_gone,
    start,
    start_execution,
    wait_closed,
)

__all__ = ["daemons"]  # the fixture, used by name

DOMAIN = "cpe-local"


@pytest.fixture
def stack(tmp_path: Path) -> dict[str, Any]:
    db = tmp_path / "cpe.sqlite"
    registry = tmp_path / "registry"
    swf, _ = connect(db)
    return {"db": db, "registry": registry, "swf": swf, "tmp": tmp_path}


def _deploy(stack: dict[str, Any], plan: Path, *extra: str) -> str:
    result = cpec(
        "deploy", plan, "--registry", stack["registry"], "--db", stack["db"], *extra
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _decider(daemons: list[Daemon], stack: dict[str, Any], *extra: str) -> Daemon:
    daemon = start(
        daemons,
        "decider",
        "--registry",
        stack["registry"],
        "--db",
        stack["db"],
        "--refresh",
        "1",
        *FAST,
        *extra,
    )
    daemon.wait_for("polling decision task list")
    return daemon


def _worker(
    daemons: list[Daemon],
    stack: dict[str, Any],
    *extra: str | Path,
    polls: tuple[str, ...] = FAST,
) -> Daemon:
    daemon = start(
        daemons,
        "worker",
        "--registry",
        stack["registry"],
        "--db",
        stack["db"],
        "--heartbeat",
        "0.5",
        *polls,
        *extra,
    )
    daemon.wait_for("event=polling")
    return daemon


def test_a_deployed_plan_runs_on_a_decider_and_a_worker_process(
    daemons: list[Daemon], stack: dict[str, Any]
) -> None:
    said = _deploy(stack, FIXTURES / "plans" / "square.yml")
    assert "deployed Squares version 1" in said
    assert "registered activity Square version 1" in said
    decider = _decider(daemons, stack)
    worker = _worker(
        daemons,
        stack,
        "--activities",
        COMMANDS,
        "--activities",
        BASIC,
        "--concurrency",
        "2",
    )
    execution = start_execution(
        stack["swf"], DOMAIN, "Squares", "1", '{"n": 7}', "sq-1"
    )
    events = wait_closed(stack["swf"], DOMAIN, execution)
    assert event_types(events)[-1] == "WorkflowExecutionCompleted"
    result = json.loads(attributes(events[-1])["result"])
    assert result == {"square": {"square": 49}, "echo": {"squared": 49}}
    # One line per lifecycle event, with the ids.
    line = worker.wait_for("event=activity_completed")
    assert "workflow_id=sq-1" in line and "activity_id=square" in line
    assert "event=activity_progress" in worker.log
    assert "event=workflow_completed" in decider.wait_for("workflow sq-1 completed")
    assert decider.stop() == 0
    assert worker.stop() == 0


def test_the_compat_plan_runs_on_the_stack_with_the_example_activities(
    daemons: list[Daemon], stack: dict[str, Any], storage: Path, tmp_path: Path
) -> None:
    compat = FIXTURES.parent / "compat"
    _deploy(stack, compat / "ct_plan.yml")
    _decider(daemons, stack)
    _worker(
        daemons,
        stack,
        "--activities",
        FIXTURES.parents[1] / "plans" / "transcode" / "activities.py",
        "--concurrency",
        "2",
    )
    job = json.loads((compat / "input_video1.json").read_text())
    job["client"] = json.loads((compat / "clientConfigSample.json").read_text())
    execution = start_execution(
        stack["swf"], DOMAIN, "Transcode", "1.0", json.dumps(job), "ct-1"
    )
    events = wait_closed(stack["swf"], DOMAIN, execution, timeout=120)
    assert event_types(events)[-1] == "WorkflowExecutionCompleted", attributes(
        events[-1]
    )
    assert (storage / "cloudtranscode-dev" / "output" / "video1.mp4").is_file()


def test_the_decider_serves_a_version_deployed_after_it_started(
    daemons: list[Daemon], stack: dict[str, Any], tmp_path: Path
) -> None:
    _deploy(stack, FIXTURES / "plans" / "square.yml")
    decider = _decider(daemons, stack)
    _worker(daemons, stack, "--activities", BASIC)
    plan = (
        (FIXTURES / "plans" / "engine.yml")
        .read_text()
        .replace('version: "1"\ninput_spec', 'version: "2"\ninput_spec', 1)
    )
    assert 'version: "2"' in plan
    later = tmp_path / "engine-2.yml"
    later.write_text(plan)
    _deploy(stack, later)
    execution = start_execution(
        stack["swf"], DOMAIN, "Engine", "2", '{"mode": "ok"}', "e-2"
    )
    events = wait_closed(stack["swf"], DOMAIN, execution)
    assert event_types(events)[-1] == "WorkflowExecutionCompleted"
    assert "serving workflow type Engine version 2" in decider.log
    assert decider.stop() == 0


def test_an_execution_of_a_type_without_ir_fails_saying_so(
    daemons: list[Daemon], stack: dict[str, Any]
) -> None:
    _deploy(stack, FIXTURES / "plans" / "square.yml")
    _decider(daemons, stack)
    swf = stack["swf"]
    swf.register_workflow_type(
        domain=DOMAIN,
        name="Undeployed",
        version="1",
        defaultTaskList={"name": "Squares-1"},
        defaultTaskStartToCloseTimeout="10",
        defaultExecutionStartToCloseTimeout="60",
        defaultChildPolicy="TERMINATE",
    )
    execution = start_execution(swf, DOMAIN, "Undeployed", "1", "{}", "u-1")
    events = wait_closed(swf, DOMAIN, execution)
    assert event_types(events)[-1] == "WorkflowExecutionFailed"
    assert (
        "no compiled plan for workflow type Undeployed version 1"
        in (attributes(events[-1])["reason"])
    )


def test_a_worker_killed_mid_task_costs_a_heartbeat_timeout_not_the_job(
    daemons: list[Daemon], stack: dict[str, Any], tmp_path: Path
) -> None:
    # Plan language 1 has no retry: the timed-out task fails the workflow,
    # with the timeout as its reason; nothing is left waiting forever.
    _deploy(stack, FIXTURES / "plans" / "stubborn.yml")
    _decider(daemons, stack)
    worker = _worker(daemons, stack, "--activities", CONTEXT, "--log-level", "debug")
    pid_file = tmp_path / "activity.pid"
    execution = start_execution(
        stack["swf"],
        DOMAIN,
        "Stubborn",
        "1",
        json.dumps({"seconds": 60, "pid_file": str(pid_file)}),
        "kill-1",
    )
    worker.wait_for('heartbeat recorded (details: {"holding": true})')
    activity_pid = _wait_for_pid(pid_file)
    worker.stop(signal.SIGKILL)
    # The activity's process does not outlive its worker.
    assert pid_is_gone(activity_pid)
    events = wait_closed(stack["swf"], DOMAIN, execution)
    kinds = event_types(events)
    assert "ActivityTaskTimedOut" in kinds
    timed_out = attributes(events[kinds.index("ActivityTaskTimedOut")])
    assert timed_out["timeoutType"] == "HEARTBEAT"
    # The last progress reached SWF as heartbeat details: how far it got.
    assert json.loads(timed_out["details"]) == {"holding": True}
    assert kinds[-1] == "WorkflowExecutionFailed"
    assert "timed out" in attributes(events[-1])["reason"]


def _wait_for_pid(path: Path) -> int:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text():
            return int(path.read_text())
        time.sleep(0.1)
    raise AssertionError(f"{path} was never written")


def test_sigterm_lets_the_worker_finish_its_task_then_exit_0(
    daemons: list[Daemon], stack: dict[str, Any]
) -> None:
    _deploy(stack, FIXTURES / "plans" / "slow.yml")
    decider = _decider(daemons, stack)
    worker = _worker(daemons, stack, "--activities", BASIC)
    execution = start_execution(
        stack["swf"], DOMAIN, "Slow", "1", '{"seconds": 2}', "t-1"
    )
    worker.wait_for("event=activity_started")
    assert worker.stop(signal.SIGTERM) == 0
    assert "1 task(s) in hand (nap)" in worker.log
    assert "event=activity_completed" in worker.log
    events = wait_closed(stack["swf"], DOMAIN, execution)
    assert event_types(events)[-1] == "WorkflowExecutionCompleted"
    assert decider.stop(signal.SIGTERM) == 0
    assert "event=stopped" in decider.log


def test_a_task_still_running_after_the_grace_period_is_handed_back(
    daemons: list[Daemon], stack: dict[str, Any]
) -> None:
    _deploy(stack, FIXTURES / "plans" / "slow.yml")
    _decider(daemons, stack)
    worker = _worker(daemons, stack, "--activities", BASIC, "--grace", "0.5")
    start_execution(stack["swf"], DOMAIN, "Slow", "1", '{"seconds": 60}', "t-2")
    worker.wait_for("event=activity_started")
    assert worker.stop(signal.SIGINT) == 0
    line = worker.wait_for("event=task_handed_back")
    assert "activity_id=nap" in line and "workflow_id=t-2" in line
    assert "event=activity_completed" not in worker.log


def test_json_logs_carry_the_ids_as_fields(
    daemons: list[Daemon], stack: dict[str, Any]
) -> None:
    _deploy(stack, FIXTURES / "plans" / "square.yml")
    decider = _decider(daemons, stack, "--log-format", "json")
    _worker(daemons, stack, "--activities", COMMANDS, "--activities", BASIC)
    execution = start_execution(stack["swf"], DOMAIN, "Squares", "1", '{"n": 2}', "j-1")
    wait_closed(stack["swf"], DOMAIN, execution)
    line = decider.wait_for('"event": "workflow_completed"')
    entry = json.loads(line)
    assert entry["workflow_id"] == "j-1"
    assert entry["daemon"] == "decider"
    assert decider.stop() == 0


def test_a_task_of_an_unknown_type_makes_the_decider_reread_the_registry(
    daemons: list[Daemon], stack: dict[str, Any], tmp_path: Path
) -> None:
    # No periodic refresh within the test: only the unknown type can make
    # the decider find version 2, deployed on the decision task list it polls.
    _deploy(stack, FIXTURES / "plans" / "square.yml")
    decider = _decider(daemons, stack, "--refresh", "3600")
    _worker(daemons, stack, "--activities", COMMANDS, "--activities", BASIC)
    later = tmp_path / "square-2.yml"
    later.write_text(
        (FIXTURES / "plans" / "square.yml")
        .read_text()
        .replace('name: Squares\nversion: "1"', 'name: Squares\nversion: "2"')
    )
    _deploy(stack, later, "--task-list", "Squares-1")
    execution = start_execution(stack["swf"], DOMAIN, "Squares", "2", '{"n": 5}', "v-2")
    events = wait_closed(stack["swf"], DOMAIN, execution)
    assert event_types(events)[-1] == "WorkflowExecutionCompleted"
    assert "serving workflow type Squares version 2" in decider.log


def test_texts_too_long_for_swf_travel_through_the_blob_store(
    daemons: list[Daemon], stack: dict[str, Any]
) -> None:
    _deploy(stack, FIXTURES / "plans" / "big_texts.yml")
    _decider(daemons, stack)
    _worker(daemons, stack, "--activities", BASIC)
    execution = start_execution(
        stack["swf"], DOMAIN, "BigTexts", "1", '{"s": "x", "n": 40000}', "big-1"
    )
    events = wait_closed(stack["swf"], DOMAIN, execution)
    assert event_types(events)[-1] == "WorkflowExecutionCompleted", events[-1]
    # The workflow's result holds the long value too, so it is a reference.
    store = LocalBlobStore(f"{stack['db']}.blobs")
    reference = attributes(events[-1])["result"]
    assert reference_in(json.loads(reference)) is not None
    result = json.loads(store.get(reference))
    assert result["measure"] == {"value": 40000}
    assert result["big"] == {"value": "x" * 40000}
    # The input sent by the decider, the result answered by the worker and the
    # workflow's result, each kept once beside the database.
    assert len(list(store.directory.glob("*.txt"))) == 3


def test_an_execution_of_a_damaged_registry_entry_is_failed_not_left_open(
    daemons: list[Daemon], stack: dict[str, Any]
) -> None:
    _deploy(stack, FIXTURES / "plans" / "square.yml")
    entry = stack["registry"] / "workflows" / "Squares" / "1" / "ir.json"
    entry.write_text('{"broken')
    decider = _decider(daemons, stack)
    execution = start_execution(stack["swf"], DOMAIN, "Squares", "1", '{"n": 5}', "d-1")
    events = wait_closed(stack["swf"], DOMAIN, execution)
    assert event_types(events)[-1] == "WorkflowExecutionFailed"
    assert "no compiled plan" in attributes(events[-1])["reason"]
    assert "has no readable IR" in decider.log


def test_a_worker_with_more_task_lists_than_slots_takes_every_task_soon(
    daemons: list[Daemon], stack: dict[str, Any]
) -> None:
    # One slot polls the task lists of every activity it has code for in
    # turn; with SWF's minute-long poll on each idle list, a task would wait
    # minutes. No --poll-timeout: the worker chooses its own short poll.
    _deploy(stack, FIXTURES / "plans" / "square.yml")
    _decider(daemons, stack)
    worker = _worker(
        daemons,
        stack,
        "--activities",
        COMMANDS,
        "--activities",
        BASIC,
        "--concurrency",
        "1",
        polls=(),
    )
    began = time.monotonic()
    execution = start_execution(
        stack["swf"], DOMAIN, "Squares", "1", '{"n": 3}', "sq-lists"
    )
    events = wait_closed(stack["swf"], DOMAIN, execution)
    assert event_types(events)[-1] == "WorkflowExecutionCompleted"
    assert time.monotonic() - began < 30  # with 60 s polls: minutes
    assert worker.stop() == 0
