"""Activity tasks: results, failures, heartbeats, tokens that expire."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cpe.runtime.backends.local import LocalSWF

from .helpers import (
    DOMAIN,
    complete,
    decide,
    last,
    poll_activity,
    poll_decision,
    schedule,
    start,
    types,
)


def test_failed_activity_schedules_decision(registered: LocalSWF) -> None:
    swf = registered
    ex = start(swf)
    decide(swf, schedule("a1"))
    work = poll_activity(swf)
    assert last(swf, ex, "ActivityTaskStarted") == {
        "identity": "worker",
        "scheduledEventId": 5,
    }
    swf.respond_activity_task_failed(
        taskToken=work["taskToken"], reason="boom", details="trace"
    )
    assert last(swf, ex, "ActivityTaskFailed") == {
        "reason": "boom",
        "details": "trace",
        "scheduledEventId": 5,
        "startedEventId": 6,
    }
    assert types(swf, ex)[-1] == "DecisionTaskScheduled"
    # The activity id is free again once the task ended.
    decide(swf, schedule("a1"))
    assert types(swf, ex)[-1] == "ActivityTaskScheduled"


def test_finished_tokens_are_unknown(registered: LocalSWF) -> None:
    swf = registered
    start(swf)
    decide(swf, schedule("a1"), schedule("a2"))
    one = poll_activity(swf)
    two = poll_activity(swf)
    assert {one["activityId"], two["activityId"]} == {"a1", "a2"}
    assert poll_activity(swf) == {"startedEventId": 0}
    swf.respond_activity_task_completed(taskToken=one["taskToken"], result="ok")
    calls: list[Callable[[], object]] = [
        lambda: swf.respond_activity_task_completed(taskToken=one["taskToken"]),
        lambda: swf.respond_activity_task_failed(taskToken=one["taskToken"]),
        lambda: swf.respond_activity_task_canceled(taskToken=one["taskToken"]),
        lambda: swf.record_activity_task_heartbeat(taskToken=one["taskToken"]),
        lambda: swf.record_activity_task_heartbeat(taskToken="never-issued"),
    ]
    for call in calls:
        with pytest.raises(swf.exceptions.UnknownResourceFault):
            call()
    # Closing the execution finishes its tasks: their tokens die with it.
    decide(swf, complete())
    with pytest.raises(swf.exceptions.UnknownResourceFault):
        swf.record_activity_task_heartbeat(taskToken=two["taskToken"])
    with pytest.raises(swf.exceptions.UnknownResourceFault):
        swf.respond_activity_task_completed(taskToken=two["taskToken"])


def test_terminated_execution_finishes_tasks(registered: LocalSWF) -> None:
    swf = registered
    start(swf)
    decide(swf, schedule("a1"), schedule("a2"))
    work = poll_activity(swf)
    swf.terminate_workflow_execution(domain=DOMAIN, workflowId="wf-1")
    assert poll_activity(swf) == {"startedEventId": 0}
    with pytest.raises(swf.exceptions.UnknownResourceFault):
        swf.respond_activity_task_completed(taskToken=work["taskToken"])


def test_heartbeat_without_cancel(registered: LocalSWF) -> None:
    swf = registered
    start(swf)
    decide(swf, schedule("a1"))
    work = poll_activity(swf)
    assert swf.record_activity_task_heartbeat(taskToken=work["taskToken"]) == {
        "cancelRequested": False
    }
    assert swf.record_activity_task_heartbeat(
        taskToken=work["taskToken"], details="half"
    ) == {"cancelRequested": False}


def test_pending_counts(registered: LocalSWF) -> None:
    swf = registered
    start(swf)
    counted = swf.count_pending_decision_tasks(
        domain=DOMAIN, taskList={"name": "decisions"}
    )
    assert counted == {"count": 1, "truncated": False}
    decide(swf, schedule("a1"), schedule("a2"))
    assert swf.count_pending_activity_tasks(
        domain=DOMAIN, taskList={"name": "activities"}
    ) == {"count": 2, "truncated": False}
    assert poll_decision(swf) == {"startedEventId": 0, "previousStartedEventId": 0}


def test_priority_order(registered: LocalSWF) -> None:
    swf = registered
    start(swf)
    decide(swf, schedule("low", taskPriority="1"), schedule("high", taskPriority="9"))
    assert poll_activity(swf)["activityId"] == "high"
    assert poll_activity(swf)["activityId"] == "low"
