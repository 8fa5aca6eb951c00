"""A job from START_JOB to its end, told to the client through the SDK.

The input poller, a DecisionPoller and an ActivityWorker run in this process
on one embedded database, with the observers of cpe.runtime.notifications
plugged in, and the fixture activities doing the work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cpe.compiler import compile_file
from cpe.runtime import protocol
from cpe.runtime.activity import load_activities
from cpe.runtime.backends.local import connect
from cpe.runtime.decision_poller import DecisionPoller
from cpe.runtime.input_poller import InputPoller
from cpe.runtime.job_commands import JobCommands, JobSettings
from cpe.runtime.notifications import build_decider_observer, build_worker_observer
from cpe.runtime.worker import ActivityWorker

from .conftest import DOMAIN, ENGINE_PLAN, FIXTURE_ACTIVITIES, Stack

ENGINE = compile_file(ENGINE_PLAN)


@pytest.fixture
def engine_running(stack: Stack) -> Iterator[None]:
    """A decider and a worker for the Engine plan, notifying clients."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=_decide, args=(stack, stop), daemon=True),
        threading.Thread(target=_work, args=(stack, stop), daemon=True),
    ]
    for thread in threads:
        thread.start()
    yield
    stop.set()
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()


def _decide(stack: Stack, stop: threading.Event) -> None:
    swf, sqs = connect(stack.db, poll_timeout=0.2, poll_interval=0.01)
    DecisionPoller(
        swf,
        domain=DOMAIN,
        task_list=ENGINE["workflow"]["task_list"],
        ir_for_type=lambda name, version: ENGINE,
        on_decisions=build_decider_observer(sqs),
    ).run(stop)


def _work(stack: Stack, stop: threading.Event) -> None:
    swf, sqs = connect(stack.db, poll_timeout=0.2, poll_interval=0.01)
    activities = load_activities([str(FIXTURE_ACTIVITIES)])
    ActivityWorker(
        swf,
        domain=DOMAIN,
        task_lists=sorted({a["task_list"] for a in ENGINE["activities"].values()}),
        activities=activities,
        on_event=build_worker_observer(sqs, swf, domain=DOMAIN),
    ).run(stop)


def run_job(stack: Stack, job_id: str, mode: str) -> list[dict[str, Any]]:
    """Start a job through the input poller; every message up to its end."""
    client = stack.client()
    client.start_job(job_id, {"mode": mode}, workflow=("Engine", "1"))
    poller = InputPoller(
        stack.sqs,
        JobCommands(stack.swf, JobSettings(domain=DOMAIN)),
        queue_url=stack.input_queue,
        wait_seconds=1,
    )
    handled = poller.poll_once()
    assert handled is not None and handled.outcome == "done"
    messages = []
    for message in client.notifications(wait=60, poll_seconds=1):
        messages.append(message)
        if message["type"] in (protocol.WORKFLOW_COMPLETED, protocol.WORKFLOW_FAILED):
            break
    return messages


def told(messages: list[dict[str, Any]], kind: str, activity_id: str) -> int:
    """The position of the one `kind` message about `activity_id`."""
    [position] = [
        i
        for i, m in enumerate(messages)
        if m["type"] == kind and m["data"]["activity"]["activityId"] == activity_id
    ]
    return position


def assert_activity_told(
    messages: list[dict[str, Any]], activity_id: str, end: str
) -> None:
    """Scheduled and started (in either order: the decider and the worker
    race to tell), then `end`, each exactly once."""
    scheduled = told(messages, protocol.ACTIVITY_SCHEDULED, activity_id)
    started = told(messages, protocol.ACTIVITY_STARTED, activity_id)
    ended = told(messages, end, activity_id)
    assert max(scheduled, started) < ended


@pytest.mark.usefixtures("engine_running")
def test_a_successful_job_is_told_step_by_step(stack: Stack) -> None:
    messages = run_job(stack, "told-ok", "ok")

    # The input poller's reply races the decider's first notification (both
    # follow the start of the workflow), so it is only known to come once.
    [scheduled_reply] = [
        m for m in messages if m["type"] == protocol.WORKFLOW_SCHEDULED
    ]
    assert messages[-1]["type"] == protocol.WORKFLOW_COMPLETED
    assert_activity_told(messages, "start", protocol.ACTIVITY_COMPLETED)
    assert_activity_told(messages, "explode", protocol.ACTIVITY_COMPLETED)
    assert told(messages, protocol.ACTIVITY_COMPLETED, "start") < told(
        messages, protocol.ACTIVITY_SCHEDULED, "explode"
    )
    assert len(messages) == 8  # nothing told twice, nothing about `recover`

    run_id = scheduled_reply["runId"]
    for message in messages:
        assert message["jobId"] == "told-ok"
        assert message["data"]["workflow"] == {"workflowId": "told-ok", "runId": run_id}
    completed = messages[told(messages, protocol.ACTIVITY_COMPLETED, "start")]
    assert completed["data"]["activity"] == {
        "activityId": "start",
        "activityType": {"name": "Echo", "version": "1"},
        "result": {"mode": "ok"},
    }
    scheduled = messages[told(messages, protocol.ACTIVITY_SCHEDULED, "start")]
    assert scheduled["data"]["activity"] == {
        "activityId": "start",
        "activityType": "Echo",
        "activityVersion": "1",
    }
    started = messages[told(messages, protocol.ACTIVITY_STARTED, "explode")]
    assert started["data"]["activity"]["activityType"] == {
        "name": "Boom",
        "version": "1",
    }
    assert "result" in messages[-1]["data"]


@pytest.mark.usefixtures("engine_running")
def test_a_failed_activity_is_told_with_its_reason(stack: Stack) -> None:
    messages = run_job(stack, "told-fail", "fail")

    assert_activity_told(messages, "explode", protocol.ACTIVITY_FAILED)
    failed = messages[told(messages, protocol.ACTIVITY_FAILED, "explode")]
    assert "boom: asked to" in failed["data"]["activity"]["reason"]
    assert_activity_told(messages, "recover", protocol.ACTIVITY_COMPLETED)
    assert messages[-1]["type"] in (
        protocol.WORKFLOW_COMPLETED,
        protocol.WORKFLOW_FAILED,
    )
