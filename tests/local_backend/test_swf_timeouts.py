"""Timeouts, with a fake clock: each fires once, in time order, lazily."""

from __future__ import annotations

from cpe.runtime.backends.local import LocalSWF

from .helpers import (
    DOMAIN,
    FakeClock,
    attrs,
    decide,
    events,
    last,
    poll_activity,
    poll_decision,
    register_all,
    schedule,
    start,
    status,
    types,
)


def timeouts(**values: str) -> dict[str, str]:
    base = {
        "scheduleToStartTimeout": "NONE",
        "scheduleToCloseTimeout": "NONE",
        "startToCloseTimeout": "NONE",
        "heartbeatTimeout": "NONE",
    }
    return {**base, **values}


def test_schedule_to_start(registered: LocalSWF, clock: FakeClock) -> None:
    swf = registered
    ex = start(swf)
    decide(swf, schedule("a1", **timeouts(scheduleToStartTimeout="10")))
    clock.advance(9.9)
    assert "ActivityTaskTimedOut" not in types(swf, ex)
    clock.advance(0.1)
    assert last(swf, ex, "ActivityTaskTimedOut") == {
        "timeoutType": "SCHEDULE_TO_START",
        "scheduledEventId": 5,
        "startedEventId": 0,
    }
    assert types(swf, ex)[-1] == "DecisionTaskScheduled"
    assert poll_activity(swf) == {"startedEventId": 0}


def test_start_to_close(registered: LocalSWF, clock: FakeClock) -> None:
    swf = registered
    ex = start(swf)
    decide(swf, schedule("a1", **timeouts(startToCloseTimeout="20")))
    clock.advance(100)  # no schedule-to-start: waiting is fine
    work = poll_activity(swf)
    clock.advance(19)
    swf.record_activity_task_heartbeat(taskToken=work["taskToken"])
    clock.advance(1)
    timed_out = last(swf, ex, "ActivityTaskTimedOut")
    assert timed_out["timeoutType"] == "START_TO_CLOSE"
    assert timed_out["startedEventId"] == 6
    timed_event = next(
        e for e in events(swf, ex) if e["eventType"] == "ActivityTaskTimedOut"
    )
    assert timed_event["eventTimestamp"].timestamp() == clock.now


def test_schedule_to_close(registered: LocalSWF, clock: FakeClock) -> None:
    swf = registered
    ex = start(swf)
    decide(
        swf,
        schedule(
            "a1", **timeouts(scheduleToCloseTimeout="30", startToCloseTimeout="100")
        ),
    )
    clock.advance(20)
    poll_activity(swf)
    clock.advance(10)
    assert last(swf, ex, "ActivityTaskTimedOut")["timeoutType"] == "SCHEDULE_TO_CLOSE"


def test_heartbeat_timeout_and_details(registered: LocalSWF, clock: FakeClock) -> None:
    swf = registered
    ex = start(swf)
    decide(
        swf, schedule("a1", **timeouts(heartbeatTimeout="5", startToCloseTimeout="100"))
    )
    work = poll_activity(swf)
    for _ in range(4):
        clock.advance(4)
        swf.record_activity_task_heartbeat(taskToken=work["taskToken"], details="step")
    assert "ActivityTaskTimedOut" not in types(swf, ex)
    clock.advance(5)
    assert last(swf, ex, "ActivityTaskTimedOut") == {
        "timeoutType": "HEARTBEAT",
        "scheduledEventId": 5,
        "startedEventId": 6,
        "details": "step",
    }
    # Too late: the worker's token is dead.
    try:
        swf.respond_activity_task_completed(taskToken=work["taskToken"])
    except swf.exceptions.UnknownResourceFault:
        pass
    else:
        raise AssertionError("a timed-out task's token must be unknown")


def test_decision_task_timeout(registered: LocalSWF, clock: FakeClock) -> None:
    swf = registered
    ex = start(swf)
    stale = poll_decision(swf)
    clock.advance(30)  # the workflow type's task start-to-close
    assert types(swf, ex)[-2:] == ["DecisionTaskTimedOut", "DecisionTaskScheduled"]
    assert last(swf, ex, "DecisionTaskTimedOut") == {
        "timeoutType": "START_TO_CLOSE",
        "scheduledEventId": 2,
        "startedEventId": 3,
    }
    try:
        swf.respond_decision_task_completed(taskToken=stale["taskToken"], decisions=[])
    except swf.exceptions.UnknownResourceFault:
        pass
    else:
        raise AssertionError("a timed-out decision token must be unknown")
    fresh = poll_decision(swf)
    assert fresh["startedEventId"] == 6
    # Only completed decision tasks count as "previous".
    assert fresh["previousStartedEventId"] == 0


def test_execution_timeout(registered: LocalSWF, clock: FakeClock) -> None:
    swf = registered
    ex = start(swf, executionStartToCloseTimeout="50")
    decide(swf, schedule("a1"))
    work = poll_activity(swf)
    clock.advance(50)
    assert status(swf, ex) == ("CLOSED", "TIMED_OUT")
    closing = events(swf, ex)[-1]
    assert closing["eventType"] == "WorkflowExecutionTimedOut"
    assert attrs(closing) == {
        "timeoutType": "START_TO_CLOSE",
        "childPolicy": "TERMINATE",
    }
    try:
        swf.record_activity_task_heartbeat(taskToken=work["taskToken"])
    except swf.exceptions.UnknownResourceFault:
        pass
    else:
        raise AssertionError("tasks of a timed-out execution are finished")


def test_due_things_fire_in_time_order(swf: LocalSWF, clock: FakeClock) -> None:
    register_all(swf)
    ex = start(swf)
    decide(
        swf,
        schedule("late", **timeouts(scheduleToStartTimeout="20")),
        schedule("early", **timeouts(scheduleToStartTimeout="10")),
        {
            "decisionType": "StartTimer",
            "startTimerDecisionAttributes": {
                "timerId": "t",
                "startToFireTimeout": "15",
            },
        },
    )
    clock.advance(1000)  # everything is due; nobody looked in between
    history = events(swf, ex)
    fired = [
        (e["eventType"], e["eventTimestamp"].timestamp())
        for e in history
        if e["eventType"] in ("ActivityTaskTimedOut", "TimerFired")
    ]
    assert [kind for kind, _ in fired] == [
        "ActivityTaskTimedOut",
        "TimerFired",
        "ActivityTaskTimedOut",
    ]
    assert [t for _, t in fired] == sorted(t for _, t in fired)
    # All three outcomes are batched into a single decision task.
    assert [e["eventType"] for e in history].count("DecisionTaskScheduled") == 2


def test_temporary_task_list_override(registered: LocalSWF, clock: FakeClock) -> None:
    swf = registered
    execution = start(swf)
    task = poll_decision(swf)
    swf.respond_decision_task_completed(
        taskToken=task["taskToken"],
        decisions=[schedule("a")],
        taskList={"name": "elsewhere"},
        taskListScheduleToStartTimeout="20",
    )
    info = swf.describe_workflow_execution(domain=DOMAIN, execution=execution)
    assert info["executionConfiguration"]["taskList"] == {"name": "elsewhere"}
    done = poll_activity(swf)
    swf.respond_activity_task_completed(taskToken=done["taskToken"])
    scheduled = last(swf, execution, "DecisionTaskScheduled")
    assert scheduled["taskList"] == {"name": "elsewhere"}
    assert scheduled["scheduleToStartTimeout"] == "20"
    # Nobody polls "elsewhere": the task times out there and comes back home.
    clock.advance(21)
    again = poll_decision(swf)
    assert again["taskToken"]
    timed_out = last(swf, execution, "DecisionTaskTimedOut")
    assert timed_out["timeoutType"] == "SCHEDULE_TO_START"
    assert timed_out["startedEventId"] == 0
    info = swf.describe_workflow_execution(domain=DOMAIN, execution=execution)
    assert info["executionConfiguration"]["taskList"] == {"name": "decisions"}
    # A permanent override has no schedule-to-start timeout.
    swf.respond_decision_task_completed(
        taskToken=again["taskToken"], decisions=[], taskList={"name": "elsewhere"}
    )
    swf.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName="s")
    clock.advance(1000)
    moved = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": "elsewhere"})
    assert moved["taskToken"]
    assert "scheduleToStartTimeout" not in last(swf, execution, "DecisionTaskScheduled")
