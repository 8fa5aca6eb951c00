"""The SWF simulator behaves as SWF does, with events shaped as botocore's model says.

Timers, signals and cancels are exercised here directly, since plans of
language 1 never use them; the decider tests of language 2 will.
"""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from .swf_simulator import SimulatedSwf, Simulator

MODEL = botocore.session.get_session().get_service_model("swf")


def assert_shaped_as_botocore(events: list[dict[str, Any]]) -> None:
    """Every event has the attributes, and only the attributes, SWF's model has."""
    history_event = MODEL.shape_for("HistoryEvent")
    for event in events:
        event_type = event["eventType"]
        key = event_type[0].lower() + event_type[1:] + "EventAttributes"
        shape = history_event.members[key]
        attributes = event[key]
        assert set(attributes) <= set(shape.members), (event_type, attributes)
        assert set(shape.required_members) <= set(attributes), (event_type, attributes)


def decision(kind: str, **attributes: Any) -> dict[str, Any]:
    return {
        "decisionType": kind,
        kind[0].lower() + kind[1:] + "DecisionAttributes": attributes,
    }


def schedule(activity_id: str, name: str = "Echo") -> dict[str, Any]:
    return decision(
        "ScheduleActivityTask",
        activityType={"name": name, "version": "1"},
        activityId=activity_id,
        taskList={"name": "work"},
        input="{}",
    )


def answer(simulator: Simulator, *decisions: dict[str, Any]) -> None:
    task = simulator.start_decision_task()
    assert task is not None and task.token is not None
    simulator.respond(task.token, list(decisions))


def types(simulator: Simulator, since: int = 0) -> list[str]:
    return [event["eventType"] for event in simulator.events[since:]]


@pytest.fixture
def simulator() -> Simulator:
    return Simulator(
        {"name": "Flow", "version": "1"}, "{}", unregistered={("Gone", "1")}
    )


def test_start_schedules_a_decision_task(simulator: Simulator) -> None:
    assert types(simulator) == ["WorkflowExecutionStarted", "DecisionTaskScheduled"]
    task = simulator.start_decision_task()
    assert task is not None and task.started_id == 3
    assert simulator.start_decision_task() is None  # one at a time


def test_activities_run_through_their_life(simulator: Simulator) -> None:
    answer(simulator, schedule("a"), schedule("b"), schedule("c"), schedule("d"))
    mark = len(simulator.events)
    simulator.start_activity("a")
    assert simulator.decision_task is None  # a start wakes no decider
    simulator.complete_activity("a", '{"x": 1}')
    simulator.fail_activity("b")
    simulator.time_out_activity("c", "SCHEDULE_TO_START")
    simulator.time_out_activity("d", "HEARTBEAT")  # starts it first
    assert types(simulator, mark) == [
        "ActivityTaskStarted",
        "ActivityTaskCompleted",
        "DecisionTaskScheduled",
        "ActivityTaskStarted",
        "ActivityTaskFailed",
        "ActivityTaskTimedOut",
        "ActivityTaskStarted",
        "ActivityTaskTimedOut",
    ]
    assert [(r.activity_id, r.outcome) for r in simulator.records] == [
        ("a", "completed"),
        ("b", "failed"),
        ("c", "timed_out"),
        ("d", "timed_out"),
    ]
    assert not simulator.activities
    assert_shaped_as_botocore(simulator.events)


def test_scheduling_an_open_id_or_an_unknown_type_fails(simulator: Simulator) -> None:
    answer(simulator, schedule("a"))
    simulator.signal("nudge")
    answer(simulator, schedule("a"), schedule("b", name="Gone"))
    failures = [
        e for e in simulator.events if e["eventType"] == "ScheduleActivityTaskFailed"
    ]
    causes = [e["scheduleActivityTaskFailedEventAttributes"]["cause"] for e in failures]
    assert causes == ["ACTIVITY_ID_ALREADY_IN_USE", "ACTIVITY_TYPE_DOES_NOT_EXIST"]
    assert simulator.decision_task is not None  # the failures wake the decider
    assert_shaped_as_botocore(simulator.events)


def test_timers_start_fire_and_cancel(simulator: Simulator) -> None:
    answer(
        simulator,
        decision("StartTimer", timerId="pause", startToFireTimeout="30"),
        decision("StartTimer", timerId="other", startToFireTimeout="30"),
        decision("StartTimer", timerId="pause", startToFireTimeout="5"),
    )
    assert sorted(simulator.timers) == ["other", "pause"]
    answer(
        simulator,  # woken by StartTimerFailed
        decision("CancelTimer", timerId="other"),
        decision("CancelTimer", timerId="never"),
    )
    simulator.start_decision_task()
    simulator.fire_timer("pause")
    fired = simulator.events[-1]
    assert fired["eventType"] == "TimerFired"
    assert types(simulator).count("StartTimerFailed") == 1
    assert types(simulator).count("TimerCanceled") == 1
    assert types(simulator).count("CancelTimerFailed") == 1
    assert simulator.timers == {} and simulator.decide_again
    assert_shaped_as_botocore(simulator.events)


def test_signals_and_cancel_requests_wake_the_decider(simulator: Simulator) -> None:
    answer(simulator, schedule("a"))
    simulator.signal("approve", '{"ok": true}')
    assert simulator.decision_task is not None
    answer(simulator, decision("RequestCancelActivityTask", activityId="a"))
    simulator.request_cancel()
    answer(simulator, decision("RequestCancelActivityTask", activityId="gone"))
    simulator.cancel_activity("a")
    answer(simulator, decision("CancelWorkflowExecution"))
    assert simulator.closed == {"decisionType": "CancelWorkflowExecution"}
    assert "RequestCancelActivityTaskFailed" in types(simulator)
    assert types(simulator)[-1] == "WorkflowExecutionCanceled"
    assert_shaped_as_botocore(simulator.events)


def test_closing_with_unseen_events_fails_and_decides_again(
    simulator: Simulator,
) -> None:
    answer(simulator, schedule("a"))
    task = simulator.start_decision_task()
    assert task is None  # nothing happened yet
    simulator.complete_activity("a", "{}")
    task = simulator.start_decision_task()
    assert task is not None and task.token is not None
    simulator.signal("late")  # arrives while the decider thinks
    simulator.respond(task.token, [decision("CompleteWorkflowExecution", result="{}")])
    assert simulator.closed is None
    assert types(simulator)[-2:] == [
        "CompleteWorkflowExecutionFailed",
        "DecisionTaskScheduled",
    ]
    answer(simulator, decision("CompleteWorkflowExecution", result="{}"))
    assert simulator.closed == {
        "decisionType": "CompleteWorkflowExecution",
        "result": "{}",
    }
    assert_shaped_as_botocore(simulator.events)


def test_a_timed_out_decision_task_is_handed_out_again(simulator: Simulator) -> None:
    task = simulator.start_decision_task()
    assert task is not None and task.token is not None
    simulator.time_out_decision_task()
    with pytest.raises(ClientError, match="UnknownResourceFault"):
        simulator.respond(task.token, [])
    assert types(simulator)[-2:] == ["DecisionTaskTimedOut", "DecisionTaskScheduled"]
    answer(simulator, decision("FailWorkflowExecution", reason="enough"))
    assert simulator.closed is not None
    assert_shaped_as_botocore(simulator.events)


def test_the_client_pages_newest_first_and_reports_the_previous_task() -> None:
    simulator = Simulator({"name": "Flow", "version": "1"}, "{}")
    swf = SimulatedSwf(simulator)
    first = swf.poll_for_decision_task(reverseOrder=True, maximumPageSize=2)
    assert [e["eventId"] for e in first["events"]] == [3, 2]
    rest = swf.poll_for_decision_task(
        nextPageToken=first["nextPageToken"], maximumPageSize=2
    )
    assert [e["eventId"] for e in rest["events"]] == [1] and "nextPageToken" not in rest
    assert first["previousStartedEventId"] == 0
    swf.respond_decision_task_completed(
        taskToken=first["taskToken"], decisions=[schedule("a")]
    )
    simulator.complete_activity("a", "{}")
    second = swf.poll_for_decision_task()
    assert second["previousStartedEventId"] == 3
    assert [e["eventId"] for e in second["events"]] == list(range(1, 10))
    assert swf.answers == [(3, [schedule("a")])]
    assert swf.poll_for_decision_task() == {
        "startedEventId": 0,
        "previousStartedEventId": 0,
    }
