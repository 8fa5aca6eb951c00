"""A plan of language 2 driven as a user drives it, with cpec commands only:
`cpec run` in one process; `cpec signal`, `cpec cancel` and `cpec history`
from others; then `cpec decide` replaying the history that was recorded."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cpec_process import ROOT, cpec, cpec_command

PLAN = ROOT / "tests" / "fixtures" / "plans" / "language2_run.yml"
BASIC = ROOT / "tests" / "fixtures" / "activities" / "basic.py"
WORKFLOW_ID = "lang2-run"


@pytest.fixture
def run(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """`cpec run` of the plan, started in the background on its own database."""
    db = tmp_path / "run.sqlite"
    process = subprocess.Popen(
        [
            *cpec_command(),
            "run",
            str(PLAN),
            "--input",
            '{"numbers": [1, 2, 3]}',
            "--activities",
            str(BASIC),
            "--workers",
            "2",
            "--db",
            str(db),
            "--workflow-id",
            WORKFLOW_ID,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    yield process, db
    if process.poll() is None:
        process.kill()
        process.communicate()


def until(what: str, holds: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not holds():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def history(db: Path) -> list[dict[str, object]]:
    shown = cpec("history", WORKFLOW_ID, "--db", db, "--format", "json")
    if shown.returncode != 0:
        return []
    events: list[dict[str, object]] = json.loads(shown.stdout)["events"]
    return events


def test_retries_fan_out_wait_and_signal_run_to_the_output(
    run: tuple[subprocess.Popen[str], Path], tmp_path: Path
) -> None:
    process, db = run
    # A signal that comes before its step is ready counts, so it is sent as
    # soon as the execution exists.
    until(
        "the signal to be accepted",
        lambda: (
            cpec(
                "signal", WORKFLOW_ID, "approve", "--input", '{"by": "qa"}', "--db", db
            ).returncode
            == 0
        ),
    )
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert json.loads(stdout) == {
        "squares": [1, 4, 9],
        "attempts": [1, 2, 1],
        "approved_by": "qa",
    }
    assert "will retry (attempt 2 of 2)" in stderr

    events = history(db)
    types = [event["eventType"] for event in events]
    assert types[-1] == "WorkflowExecutionCompleted"
    assert {"TimerStarted", "TimerFired", "WorkflowExecutionSignaled"} <= set(types)
    # Replaying the recorded history up to the last decision task gives the
    # decision that was made there: complete, with the same result.
    last_task = max(i for i, t in enumerate(types) if t == "DecisionTaskStarted")
    recorded = tmp_path / "history.json"
    recorded.write_text(json.dumps({"events": events[: last_task + 1]}))
    replayed = cpec("decide", PLAN, "--history", recorded)
    assert replayed.returncode == 0, replayed.stderr
    (decision,) = json.loads(replayed.stdout)["decisions"]
    assert decision["decisionType"] == "CompleteWorkflowExecution"
    result = decision["completeWorkflowExecutionDecisionAttributes"]["result"]
    assert json.loads(result) == json.loads(stdout)


def test_a_cancel_while_waiting_for_a_signal_cancels_its_timer_and_the_workflow(
    run: tuple[subprocess.Popen[str], Path],
) -> None:
    process, db = run
    until(
        "the signal step's timeout timer",
        lambda: any(
            event["eventType"] == "TimerStarted"
            and "approval@timeout" in json.dumps(event)
            for event in history(db)
        ),
    )
    canceled = cpec("cancel", WORKFLOW_ID, "--db", db)
    assert canceled.returncode == 0, canceled.stderr
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert "workflow canceled" in stderr
    types = [event["eventType"] for event in history(db)]
    assert types[-2:] == ["TimerCanceled", "WorkflowExecutionCanceled"]
