"""Decision tasks: one at a time, batching, paging, and every decision type."""

from __future__ import annotations

from typing import Any

import pytest

from cpe.runtime.backends.local import LocalSWF

from .helpers import (
    ACTIVITIES,
    ACTIVITY,
    DOMAIN,
    FakeClock,
    attrs,
    complete,
    decide,
    events,
    last,
    poll_activity,
    poll_decision,
    schedule,
    start,
    status,
    types,
)


def test_full_flow(registered: LocalSWF) -> None:
    swf = registered
    ex = start(swf, input="in")
    task = poll_decision(swf)
    assert task["startedEventId"] == 3
    assert task["previousStartedEventId"] == 0
    assert task["workflowExecution"] == ex
    assert [e["eventType"] for e in task["events"]] == [
        "WorkflowExecutionStarted",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
    ]
    assert attrs(task["events"][2]) == {"identity": "decider", "scheduledEventId": 2}
    swf.respond_decision_task_completed(
        taskToken=task["taskToken"],
        decisions=[schedule("a1", input="x", control="c")],
        executionContext="ctx-1",
    )
    done = last(swf, ex, "DecisionTaskCompleted")
    assert done == {
        "executionContext": "ctx-1",
        "scheduledEventId": 2,
        "startedEventId": 3,
    }
    assert last(swf, ex, "ActivityTaskScheduled") == {
        "activityType": ACTIVITY,
        "activityId": "a1",
        "input": "x",
        "control": "c",
        "taskList": ACTIVITIES,
        "scheduleToCloseTimeout": "NONE",
        "scheduleToStartTimeout": "NONE",
        "startToCloseTimeout": "600",
        "heartbeatTimeout": "NONE",
        "decisionTaskCompletedEventId": 4,
    }
    work = poll_activity(swf)
    assert work["activityId"] == "a1" and work["input"] == "x"
    assert work["activityType"] == ACTIVITY and work["workflowExecution"] == ex
    swf.respond_activity_task_completed(taskToken=work["taskToken"], result="r")
    assert last(swf, ex, "ActivityTaskCompleted") == {
        "result": "r",
        "scheduledEventId": 5,
        "startedEventId": 6,
    }
    second = poll_decision(swf)
    assert second["previousStartedEventId"] == 3
    assert second["startedEventId"] == 9
    swf.respond_decision_task_completed(
        taskToken=second["taskToken"], decisions=[complete("out")]
    )
    assert status(swf, ex) == ("CLOSED", "COMPLETED")
    assert last(swf, ex, "WorkflowExecutionCompleted") == {
        "result": "out",
        "decisionTaskCompletedEventId": 10,
    }
    info = swf.describe_workflow_execution(domain=DOMAIN, execution=ex)
    assert info["latestExecutionContext"] == "ctx-1"
    assert info["openCounts"]["openDecisionTasks"] == 0


def test_empty_poll(registered: LocalSWF) -> None:
    assert poll_decision(registered) == {
        "startedEventId": 0,
        "previousStartedEventId": 0,
    }
    assert poll_activity(registered) == {"startedEventId": 0}
    with pytest.raises(registered.exceptions.UnknownResourceFault):
        registered.poll_for_decision_task(domain="nope", taskList={"name": "x"})


def test_one_decision_task_at_a_time_and_batching(registered: LocalSWF) -> None:
    swf = registered
    ex = start(swf)
    swf.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName="s1")
    # Still scheduled: the signal joins the pending task.
    assert types(swf, ex).count("DecisionTaskScheduled") == 1
    task = poll_decision(swf)
    assert "WorkflowExecutionSignaled" in [e["eventType"] for e in task["events"]]
    swf.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName="s2")
    swf.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName="s3")
    # While started, new events wait for the next task; nobody else gets one.
    assert poll_decision(swf).get("taskToken") is None
    assert types(swf, ex).count("DecisionTaskScheduled") == 1
    swf.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[])
    assert types(swf, ex)[-2:] == ["DecisionTaskCompleted", "DecisionTaskScheduled"]
    nxt = poll_decision(swf)
    new = [e for e in nxt["events"] if e["eventId"] > nxt["previousStartedEventId"]]
    assert [e["eventType"] for e in new] == [
        "WorkflowExecutionSignaled",
        "WorkflowExecutionSignaled",
        "DecisionTaskCompleted",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
    ]
    swf.respond_decision_task_completed(taskToken=nxt["taskToken"], decisions=[])
    # Nothing new happened: no further decision task.
    assert types(swf, ex)[-1] == "DecisionTaskCompleted"
    assert poll_decision(swf).get("taskToken") is None


@pytest.mark.parametrize(
    ("decision", "failed_event", "close_status"),
    [
        (complete(), "CompleteWorkflowExecutionFailed", "COMPLETED"),
        (
            {
                "decisionType": "FailWorkflowExecution",
                "failWorkflowExecutionDecisionAttributes": {
                    "reason": "r",
                    "details": "d",
                },
            },
            "FailWorkflowExecutionFailed",
            "FAILED",
        ),
        (
            {
                "decisionType": "CancelWorkflowExecution",
                "cancelWorkflowExecutionDecisionAttributes": {"details": "d"},
            },
            "CancelWorkflowExecutionFailed",
            "CANCELED",
        ),
    ],
)
def test_close_decisions_fail_on_unseen_events(
    registered: LocalSWF, decision: dict[str, Any], failed_event: str, close_status: str
) -> None:
    swf = registered
    ex = start(swf)
    task = poll_decision(swf)
    swf.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName="late")
    swf.respond_decision_task_completed(
        taskToken=task["taskToken"], decisions=[decision]
    )
    assert status(swf, ex) == ("OPEN", None)
    assert last(swf, ex, failed_event) == {
        "cause": "UNHANDLED_DECISION",
        "decisionTaskCompletedEventId": 5,
    }
    assert types(swf, ex)[-1] == "DecisionTaskScheduled"
    decide(swf, decision)
    assert status(swf, ex) == ("CLOSED", close_status)
    closing = events(swf, ex)[-1]
    assert attrs(closing)["decisionTaskCompletedEventId"] == closing["eventId"] - 1


def test_schedule_activity_failures(registered: LocalSWF) -> None:
    swf = registered
    swf.register_activity_type(domain=DOMAIN, name="Old", version="1")
    swf.deprecate_activity_type(
        domain=DOMAIN, activityType={"name": "Old", "version": "1"}
    )
    swf.register_activity_type(domain=DOMAIN, name="Bare", version="1")
    ex = start(swf)

    def typed(name: str, activity_id: str, **kw: Any) -> dict[str, Any]:
        d = schedule(activity_id, **kw)
        d["scheduleActivityTaskDecisionAttributes"]["activityType"] = {
            "name": name,
            "version": "1",
        }
        return d

    full = {
        "taskList": ACTIVITIES,
        "scheduleToCloseTimeout": "NONE",
        "scheduleToStartTimeout": "NONE",
        "startToCloseTimeout": "10",
        "heartbeatTimeout": "NONE",
    }
    cases = [
        (typed("Missing", "m"), "ACTIVITY_TYPE_DOES_NOT_EXIST"),
        (typed("Old", "o"), "ACTIVITY_TYPE_DEPRECATED"),
        (schedule("a1"), None),
        (schedule("a1"), "ACTIVITY_ID_ALREADY_IN_USE"),
        (typed("Bare", "b1"), "DEFAULT_TASK_LIST_UNDEFINED"),
        (
            typed("Bare", "b2", **{**full, "scheduleToCloseTimeout": None}),
            "DEFAULT_SCHEDULE_TO_CLOSE_TIMEOUT_UNDEFINED",
        ),
        (
            typed("Bare", "b3", **{**full, "scheduleToStartTimeout": None}),
            "DEFAULT_SCHEDULE_TO_START_TIMEOUT_UNDEFINED",
        ),
        (
            typed("Bare", "b4", **{**full, "startToCloseTimeout": None}),
            "DEFAULT_START_TO_CLOSE_TIMEOUT_UNDEFINED",
        ),
        (
            typed("Bare", "b5", **{**full, "heartbeatTimeout": None}),
            "DEFAULT_HEARTBEAT_TIMEOUT_UNDEFINED",
        ),
        (typed("Bare", "b6", **full), None),
    ]
    for d in cases:
        attrs_ = d[0]["scheduleActivityTaskDecisionAttributes"]
        for key in [k for k, v in attrs_.items() if v is None]:
            del attrs_[key]
    decide(swf, *(d for d, _ in cases))
    history = events(swf, ex)
    completed = next(e for e in history if e["eventType"] == "DecisionTaskCompleted")
    outcomes = [
        e
        for e in history
        if e["eventType"] in ("ActivityTaskScheduled", "ScheduleActivityTaskFailed")
    ]
    assert [attrs(e).get("cause") for e in outcomes] == [c for _, c in cases]
    for e in outcomes:
        assert attrs(e)["decisionTaskCompletedEventId"] == completed["eventId"]
    assert attrs(outcomes[0])["activityType"] == {"name": "Missing", "version": "1"}
    # The failures ask for another decision task.
    assert history[-1]["eventType"] == "DecisionTaskScheduled"
    info = swf.describe_workflow_execution(domain=DOMAIN, execution=ex)
    assert info["openCounts"]["openActivityTasks"] == 2


def test_request_cancel_activity(registered: LocalSWF) -> None:
    swf = registered
    ex = start(swf)
    decide(swf, schedule("queued"), schedule("running"))
    # Both are on the list; take one, the other stays scheduled.
    first = poll_activity(swf)
    running = first["activityId"]
    queued = "queued" if running == "running" else "running"
    cancel = [
        {
            "decisionType": "RequestCancelActivityTask",
            "requestCancelActivityTaskDecisionAttributes": {"activityId": a},
        }
        for a in (queued, running, "ghost")
    ]
    # A start is no reason for a decision; a signal is.
    assert poll_decision(swf).get("taskToken") is None
    swf.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName="stop")
    decide(swf, *cancel)
    history = events(swf, ex)
    kinds = [e["eventType"] for e in history]
    assert kinds.count("ActivityTaskCancelRequested") == 2
    canceled = last(swf, ex, "ActivityTaskCanceled")
    assert canceled["startedEventId"] == 0
    assert "latestCancelRequestedEventId" in canceled
    assert last(swf, ex, "RequestCancelActivityTaskFailed") == {
        "activityId": "ghost",
        "cause": "ACTIVITY_ID_UNKNOWN",
        "decisionTaskCompletedEventId": [
            e["eventId"] for e in history if e["eventType"] == "DecisionTaskCompleted"
        ][-1],
    }
    beat = swf.record_activity_task_heartbeat(
        taskToken=first["taskToken"], details="50%"
    )
    assert beat == {"cancelRequested": True}
    swf.respond_activity_task_canceled(taskToken=first["taskToken"], details="stopped")
    last_cancel = last(swf, ex, "ActivityTaskCanceled")
    assert last_cancel["details"] == "stopped"
    assert last_cancel["startedEventId"] > 0
    assert last_cancel["latestCancelRequestedEventId"] > 0


def test_markers_and_timers(registered: LocalSWF, clock: FakeClock) -> None:
    swf = registered
    ex = start(swf)
    decide(
        swf,
        {
            "decisionType": "RecordMarker",
            "recordMarkerDecisionAttributes": {"markerName": "m", "details": "d"},
        },
        {
            "decisionType": "StartTimer",
            "startTimerDecisionAttributes": {
                "timerId": "t1",
                "startToFireTimeout": "30",
                "control": "c",
            },
        },
        {
            "decisionType": "StartTimer",
            "startTimerDecisionAttributes": {
                "timerId": "t2",
                "startToFireTimeout": "60",
            },
        },
        {
            "decisionType": "StartTimer",
            "startTimerDecisionAttributes": {
                "timerId": "t1",
                "startToFireTimeout": "5",
            },
        },
        {
            "decisionType": "CancelTimer",
            "cancelTimerDecisionAttributes": {"timerId": "nope"},
        },
    )
    assert last(swf, ex, "MarkerRecorded") == {
        "markerName": "m",
        "details": "d",
        "decisionTaskCompletedEventId": 4,
    }
    assert last(swf, ex, "StartTimerFailed")["cause"] == "TIMER_ID_ALREADY_IN_USE"
    assert last(swf, ex, "CancelTimerFailed")["cause"] == "TIMER_ID_UNKNOWN"
    t1 = next(e for e in events(swf, ex) if e["eventType"] == "TimerStarted")
    assert attrs(t1) == {
        "timerId": "t1",
        "control": "c",
        "startToFireTimeout": "30",
        "decisionTaskCompletedEventId": 4,
    }
    info = swf.describe_workflow_execution(domain=DOMAIN, execution=ex)
    assert info["openCounts"]["openTimers"] == 2
    decide(
        swf,
        {
            "decisionType": "CancelTimer",
            "cancelTimerDecisionAttributes": {"timerId": "t2"},
        },
    )
    assert last(swf, ex, "TimerCanceled")["timerId"] == "t2"
    clock.advance(29)
    assert "TimerFired" not in types(swf, ex)
    clock.advance(1)
    fired = last(swf, ex, "TimerFired")
    assert fired == {"timerId": "t1", "startedEventId": t1["eventId"]}
    task = poll_decision(swf)
    assert task["events"][-2]["eventType"] == "DecisionTaskScheduled"


def test_unknown_and_stale_tokens(registered: LocalSWF) -> None:
    swf = registered
    start(swf)
    task = poll_decision(swf)
    with pytest.raises(swf.exceptions.UnknownResourceFault):
        swf.respond_decision_task_completed(taskToken="forged", decisions=[])
    swf.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[])
    with pytest.raises(swf.exceptions.UnknownResourceFault) as err:
        swf.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[])
    assert err.value.operation_name == "RespondDecisionTaskCompleted"


def test_malformed_decisions_are_refused_whole(registered: LocalSWF) -> None:
    swf = registered
    ex = start(swf)
    task = poll_decision(swf)
    before = types(swf, ex)
    for bad in (
        [schedule("a1"), {"decisionType": "Dance"}],
        [{"decisionType": "ScheduleActivityTask"}],
        [schedule("a1", startToCloseTimeout="ten")],
    ):
        with pytest.raises(swf.exceptions.ClientError) as err:
            swf.respond_decision_task_completed(
                taskToken=task["taskToken"], decisions=bad
            )
        assert err.value.response["Error"]["Code"] == "ValidationException"
    assert types(swf, ex) == before
    swf.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[])


def test_unsupported_decisions_fail_visibly(registered: LocalSWF) -> None:
    swf = registered
    ex = start(swf)
    decide(
        swf,
        {
            "decisionType": "StartChildWorkflowExecution",
            "startChildWorkflowExecutionDecisionAttributes": {
                "workflowType": {"name": "Flow", "version": "1"},
                "workflowId": "child",
            },
        },
    )
    assert (
        last(swf, ex, "StartChildWorkflowExecutionFailed")["cause"]
        == "OPERATION_NOT_PERMITTED"
    )
    assert status(swf, ex) == ("OPEN", None)


def test_decision_task_history_pages(registered: LocalSWF) -> None:
    swf = registered
    ex = start(swf)
    for i in range(6):
        swf.signal_workflow_execution(
            domain=DOMAIN, workflowId="wf-1", signalName=f"s{i}"
        )
    first = poll_decision(swf, maximumPageSize=4)
    ids = [e["eventId"] for e in first["events"]]
    token = first.get("nextPageToken")
    while token:
        page = poll_decision(swf, maximumPageSize=4, nextPageToken=token)
        assert page["taskToken"] == first["taskToken"]
        assert page["startedEventId"] == first["startedEventId"]
        ids += [e["eventId"] for e in page["events"]]
        token = page.get("nextPageToken")
    assert ids == list(range(1, first["startedEventId"] + 1))
    # Paging claimed nothing new and the task is still ours to answer.
    swf.respond_decision_task_completed(
        taskToken=first["taskToken"], decisions=[complete()]
    )
    assert status(swf, ex) == ("CLOSED", "COMPLETED")
    rev = poll_decision(swf)
    assert rev == {"startedEventId": 0, "previousStartedEventId": 0}


def test_reverse_order_decision_task(registered: LocalSWF) -> None:
    start(registered)
    task = poll_decision(registered, reverseOrder=True)
    assert [e["eventId"] for e in task["events"]] == [3, 2, 1]


def test_new_task_list_from_respond(registered: LocalSWF) -> None:
    swf = registered
    start(swf)
    task = poll_decision(swf)
    swf.respond_decision_task_completed(
        taskToken=task["taskToken"],
        decisions=[schedule("a1")],
        taskList={"name": "elsewhere"},
    )
    work = poll_activity(swf)
    swf.respond_activity_task_completed(taskToken=work["taskToken"])
    assert poll_decision(swf).get("taskToken") is None
    moved = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": "elsewhere"})
    assert moved["taskToken"]
