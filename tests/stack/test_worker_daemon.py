"""The worker daemon's handling of one task: context, progress, cancel, crashes.

The daemon runs in a thread of the test, its tasks in real activity
processes; the test plays the decider by hand on the embedded backend, so
it can ask for cancels when it likes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cpe.runtime.backends.local import connect
from cpe.runtime.command_activity import load_activity_sources
from cpe.runtime.daemon import Stopping
from cpe.runtime.worker_daemon import WorkerDaemon, heartbeat_warnings, task_lists_for
from tests.stack.helpers import (
    BASIC,
    COMMANDS,
    CONTEXT,
    attributes,
    event_types,
    history,
)

DOMAIN = "cpe-local"
ACTIVITIES = ("Progress", "Patient", "Stubborn", "Square", "Crash")


class Harness:
    """A database, a worker daemon in a thread, and a hand-played decider."""

    def __init__(self, db: Path, cancel_grace: float) -> None:
        self.db = db
        self.swf, _ = connect(db, poll_timeout=0.2)
        self.swf.register_domain(
            name=DOMAIN, workflowExecutionRetentionPeriodInDays="1"
        )
        self.swf.register_workflow_type(
            domain=DOMAIN,
            name="Hand",
            version="1",
            defaultTaskList={"name": "hand"},
            defaultTaskStartToCloseTimeout="30",
            defaultExecutionStartToCloseTimeout="300",
            defaultChildPolicy="TERMINATE",
        )
        sources = [str(CONTEXT), str(COMMANDS), str(BASIC)]
        activities = load_activity_sources(sources)
        for name, version in activities:
            self.swf.register_activity_type(
                domain=DOMAIN,
                name=name,
                version=version,
                defaultTaskList={"name": f"{name}-{version}"},
                defaultTaskHeartbeatTimeout="30",
                defaultTaskScheduleToStartTimeout="60",
                defaultTaskScheduleToCloseTimeout="120",
                defaultTaskStartToCloseTimeout="60",
            )
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.stopping = Stopping()
        daemon = WorkerDaemon(
            lambda: connect(db, poll_timeout=0.2)[0],
            domain=DOMAIN,
            task_lists=task_lists_for(
                {k: v for k, v in activities.items() if k[0] in ACTIVITIES}, None, []
            ),
            activities=activities,
            sources=sources,
            concurrency=2,
            heartbeat_interval=0.3,
            cancel_grace=cancel_grace,
            on_event=lambda kind, info: self.events.append((kind, info)),
        )
        self.thread = threading.Thread(
            target=daemon.run, args=(self.stopping, 5.0), daemon=True
        )
        self.thread.start()
        self.count = 0

    def schedule(
        self, activity: str, task: Any, activity_id: str = "step"
    ) -> dict[str, str]:
        self.count += 1
        workflow_id = f"hand-{self.count}"
        run = self.swf.start_workflow_execution(
            domain=DOMAIN,
            workflowId=workflow_id,
            workflowType={"name": "Hand", "version": "1"},
        )
        execution = {"workflowId": workflow_id, "runId": run["runId"]}
        self.decide(
            execution,
            [
                {
                    "decisionType": "ScheduleActivityTask",
                    "scheduleActivityTaskDecisionAttributes": {
                        "activityType": {"name": activity, "version": "1"},
                        "activityId": activity_id,
                        "input": json.dumps(task),
                    },
                }
            ],
        )
        return execution

    def decide(
        self, execution: dict[str, str], decisions: list[dict[str, Any]]
    ) -> None:
        """Answer the next decision task of `execution` with `decisions`.

        Decision tasks of earlier executions (their activity closed) are
        answered with nothing.
        """
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            task = self.swf.poll_for_decision_task(
                domain=DOMAIN, taskList={"name": "hand"}
            )
            if not task.get("taskToken"):
                continue
            mine = task["workflowExecution"]["workflowId"] == execution["workflowId"]
            self.swf.respond_decision_task_completed(
                taskToken=task["taskToken"], decisions=decisions if mine else []
            )
            if mine:
                return
        raise AssertionError("no decision task came")

    def cancel(self, execution: dict[str, str], activity_id: str = "step") -> None:
        # A signal gives the hand-played decider a decision task to answer.
        self.swf.signal_workflow_execution(domain=DOMAIN, signalName="go", **execution)
        self.decide(
            execution,
            [
                {
                    "decisionType": "RequestCancelActivityTask",
                    "requestCancelActivityTaskDecisionAttributes": {
                        "activityId": activity_id
                    },
                }
            ],
        )

    def wait_for_event(self, execution: dict[str, str], kind: str) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            events = history(self.swf, DOMAIN, execution)
            for event in events:
                if event["eventType"] == kind:
                    return attributes(event)
            time.sleep(0.1)
        raise AssertionError(
            f"no {kind} in {event_types(history(self.swf, DOMAIN, execution))}"
        )

    def stop(self) -> None:
        self.stopping.requested.set()
        self.thread.join(30)
        assert not self.thread.is_alive()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    running = Harness(tmp_path / "cpe.sqlite", cancel_grace=0.5)
    yield running
    running.stop()


def test_activity_code_sees_its_context_and_reports_progress(harness: Harness) -> None:
    execution = harness.schedule("Progress", {}, activity_id="resize[3]#2")
    completed = harness.wait_for_event(execution, "ActivityTaskCompleted")
    assert json.loads(completed["result"]) == {
        "attempt": 2,
        "activity_id": "resize[3]#2",
        "workflow_id": execution["workflowId"],
        "same_context": True,
    }
    progress = [info["progress"] for kind, info in harness.events if kind == "progress"]
    assert progress == [{"percent": 25}, {"percent": 50}, {"percent": 100}]


def test_a_cancel_request_reaches_the_activity_and_reports_canceled(
    harness: Harness,
) -> None:
    execution = harness.schedule("Patient", {"seconds": 60})
    harness.wait_for_event(execution, "ActivityTaskStarted")
    harness.cancel(execution)
    canceled = harness.wait_for_event(execution, "ActivityTaskCanceled")
    assert "outcome of the activity was discarded" in canceled["details"]
    assert "canceled" in [kind for kind, _ in harness.events]


def test_an_activity_that_ignores_a_cancel_is_stopped_after_the_grace_period(
    harness: Harness, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    execution = harness.schedule("Stubborn", {"seconds": 60, "pid_file": str(pid_file)})
    harness.wait_for_event(execution, "ActivityTaskStarted")
    harness.cancel(execution)
    canceled = harness.wait_for_event(execution, "ActivityTaskCanceled")
    assert "did not return within 0.5 s" in canceled["details"]
    from tests.stack.helpers import pid_is_gone

    assert pid_is_gone(int(pid_file.read_text()))
    # The slot has a new process and takes the next task.
    again = harness.schedule("Progress", {})
    harness.wait_for_event(again, "ActivityTaskCompleted")


def test_a_command_activity_failure_carries_its_stderr(harness: Harness) -> None:
    execution = harness.schedule("Square", {"n": 1, "fail": "too odd"})
    failed = harness.wait_for_event(execution, "ActivityTaskFailed")
    assert failed["reason"].endswith("exited with code 3")
    assert "cannot square: too odd" in failed["details"]
    assert "CPE_PROGRESS" not in failed["details"]


def test_an_activity_process_that_dies_fails_its_task_and_is_replaced(
    harness: Harness,
) -> None:
    execution = harness.schedule("Crash", {})
    failed = harness.wait_for_event(execution, "ActivityTaskFailed")
    assert "exited with code 17" in failed["reason"]
    again = harness.schedule("Progress", {})
    harness.wait_for_event(again, "ActivityTaskCompleted")


def test_task_lists_and_heartbeat_warnings_come_from_the_deployed_plans() -> None:
    from cpe.compiler import compile_file
    from cpe.runtime.registry import Deployment
    from tests.stack.helpers import FIXTURES

    activities = load_activity_sources([str(CONTEXT), str(COMMANDS)])
    ir = compile_file(FIXTURES / "plans" / "stubborn.yml")
    deployed = [Deployment(ir=ir, decision_task_list="Stubborn-1")]
    lists = task_lists_for(activities, None, deployed)
    assert lists == ["Patient-1", "Progress-1", "Square-1", "Stubborn-1"]
    assert task_lists_for(activities, ["only"], deployed) == ["only"]
    (warning,) = heartbeat_warnings(activities, deployed, 10.0)
    assert "Stubborn version 1 has a heartbeat timeout of 2 s" in warning
    assert heartbeat_warnings(activities, deployed, 0.5) == []
