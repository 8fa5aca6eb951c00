"""SWF semantics the runtime relies on, asserted alike on the embedded backend and moto.

Each test takes `both` and so runs on both backends (see conftest.py); the
ones marked local_only name where moto departs from SWF's documented
behaviour or lacks the operation.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import Both
from .helpers import (
    ACTIVITIES,
    DOMAIN,
    WORKFLOW,
    attrs,
    complete,
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

EPOCH = {"oldestDate": 0}


@pytest.fixture
def env(both: Both) -> Both:
    register_all(both.swf)
    return both


def _timer(timer_id: str, seconds: str = "60") -> dict[str, Any]:
    return {
        "decisionType": "StartTimer",
        "startTimerDecisionAttributes": {
            "timerId": timer_id,
            "startToFireTimeout": seconds,
        },
    }


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


# Decision tasks.


def test_one_open_decision_task_and_batching(env: Both) -> None:
    swf = env.swf
    execution = start(swf)
    first = poll_decision(swf)
    assert first["taskToken"]
    swf.signal_workflow_execution(
        domain=DOMAIN, workflowId="wf-1", signalName="a", input="1"
    )
    swf.signal_workflow_execution(
        domain=DOMAIN, workflowId="wf-1", signalName="b", input="2"
    )
    # The task is open: nothing more to hand out until it is answered.
    assert not poll_decision(swf).get("taskToken")
    swf.respond_decision_task_completed(taskToken=first["taskToken"], decisions=[])
    second = poll_decision(swf)
    seen = [e["eventType"] for e in second["events"]]
    # Both signals, which the first task did not see, come in the one next task.
    signaled = [
        e["eventId"]
        for e in second["events"]
        if e["eventType"] == "WorkflowExecutionSignaled"
    ]
    assert len(signaled) == 2
    assert min(signaled) > first["startedEventId"]
    assert seen.count("DecisionTaskScheduled") == 2
    assert second["previousStartedEventId"] == first["startedEventId"]
    swf.respond_decision_task_completed(
        taskToken=second["taskToken"], decisions=[complete()]
    )
    kinds = types(swf, execution)
    assert kinds.count("DecisionTaskScheduled") == 2
    assert status(swf, execution) == ("CLOSED", "COMPLETED")


def test_empty_polls(env: Both) -> None:
    swf = env.swf
    assert poll_decision(swf) == {"startedEventId": 0, "previousStartedEventId": 0}
    assert poll_activity(swf) == {"startedEventId": 0}


def test_decision_token_stops_working_once_answered(env: Both) -> None:
    swf = env.swf
    start(swf)
    task = decide(swf)
    with pytest.raises(ClientError) as exc:
        swf.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[])
    assert _code(exc) == "UnknownResourceFault"


def test_activity_token_stops_working_once_answered(env: Both) -> None:
    swf = env.swf
    start(swf)
    decide(swf, schedule("a"))
    task = poll_activity(swf)
    swf.respond_activity_task_completed(taskToken=task["taskToken"], result="1")
    for call in (
        lambda: swf.respond_activity_task_completed(taskToken=task["taskToken"]),
        lambda: swf.respond_activity_task_failed(taskToken=task["taskToken"]),
        lambda: swf.record_activity_task_heartbeat(taskToken=task["taskToken"]),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert _code(exc) == "UnknownResourceFault"


# Timeouts: each fires as the clock passes it, with its timeoutType.


@pytest.mark.local_only("moto implements only the HEARTBEAT timeout of activity tasks")
@pytest.mark.parametrize(
    ("timeouts", "take", "wait", "expected"),
    [
        ({"scheduleToStartTimeout": "10"}, False, 11, "SCHEDULE_TO_START"),
        ({"startToCloseTimeout": "20"}, True, 21, "START_TO_CLOSE"),
        (
            {"scheduleToCloseTimeout": "15", "startToCloseTimeout": "100"},
            True,
            16,
            "SCHEDULE_TO_CLOSE",
        ),
        ({"heartbeatTimeout": "5"}, True, 6, "HEARTBEAT"),
    ],
)
def test_activity_timeouts(
    env: Both, timeouts: dict[str, str], take: bool, wait: int, expected: str
) -> None:
    swf = env.swf
    execution = start(swf)
    decide(swf, schedule("a", **timeouts))
    if take:
        poll_activity(swf)
    env.clock.advance(wait - 2)
    assert not poll_decision(swf).get("taskToken")  # not yet
    env.clock.advance(2)
    # A poller of another task list is the next to touch the backend: the
    # timeout fires and asks for the decision it is polling for.
    assert poll_decision(swf)["taskToken"]
    timed_out = last(swf, execution, "ActivityTaskTimedOut")
    assert timed_out["timeoutType"] == expected


def test_heartbeat_timeout(env: Both) -> None:
    swf = env.swf
    execution = start(swf)
    decide(swf, schedule("a", heartbeatTimeout="5"))
    poll_activity(swf)
    env.clock.advance(6)
    task = poll_decision(swf)
    timed_out = [e for e in task["events"] if e["eventType"] == "ActivityTaskTimedOut"]
    assert attrs(timed_out[-1])["timeoutType"] == "HEARTBEAT"
    assert status(swf, execution) == ("OPEN", None)


@pytest.mark.local_only(
    "moto fails with a server error (ValueError) for the token of a timed-out "
    "task where SWF answers UnknownResourceFault"
)
def test_timed_out_tokens_are_unknown(env: Both) -> None:
    swf = env.swf
    start(swf, taskStartToCloseTimeout="30")
    decision = poll_decision(swf)["taskToken"]
    env.clock.advance(31)
    replacement = poll_decision(swf)
    swf.respond_decision_task_completed(
        taskToken=replacement["taskToken"],
        decisions=[schedule("a", startToCloseTimeout="10")],
    )
    activity = poll_activity(swf)["taskToken"]
    env.clock.advance(11)
    for call in (
        lambda: swf.respond_decision_task_completed(taskToken=decision, decisions=[]),
        lambda: swf.respond_activity_task_completed(taskToken=activity),
        lambda: swf.record_activity_task_heartbeat(taskToken=activity),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert _code(exc) == "UnknownResourceFault"


def test_heartbeats_keep_an_activity_alive(env: Both) -> None:
    swf = env.swf
    execution = start(swf)
    decide(swf, schedule("a", heartbeatTimeout="10"))
    token = poll_activity(swf)["taskToken"]
    for _ in range(3):
        env.clock.advance(8)
        beat = swf.record_activity_task_heartbeat(taskToken=token, details="x")
        assert beat == {"cancelRequested": False}
    assert "ActivityTaskTimedOut" not in types(swf, execution)
    swf.respond_activity_task_completed(taskToken=token, result="ok")
    assert last(swf, execution, "ActivityTaskCompleted")["result"] == "ok"


def test_decision_task_start_to_close(env: Both) -> None:
    swf = env.swf
    execution = start(swf, taskStartToCloseTimeout="30")
    token = poll_decision(swf)["taskToken"]
    env.clock.advance(31)
    # A fresh decision task replaces the lost one.
    again = poll_decision(swf)
    assert again["taskToken"] and again["taskToken"] != token
    timed_out = last(swf, execution, "DecisionTaskTimedOut")
    assert timed_out["timeoutType"] == "START_TO_CLOSE"


def test_execution_timeout(env: Both) -> None:
    swf = env.swf
    execution = start(swf, executionStartToCloseTimeout="100")
    decide(swf, schedule("a"))
    env.clock.advance(101)
    assert status(swf, execution) == ("CLOSED", "TIMED_OUT")
    timed_out = last(swf, execution, "WorkflowExecutionTimedOut")
    assert timed_out["timeoutType"] == "START_TO_CLOSE"


@pytest.mark.local_only("moto still hands out the tasks of a timed-out execution")
def test_timed_out_execution_has_no_tasks(env: Both) -> None:
    swf = env.swf
    start(swf, executionStartToCloseTimeout="100")
    decide(swf, schedule("a"))
    env.clock.advance(101)
    assert poll_activity(swf) == {"startedEventId": 0}
    assert poll_decision(swf) == {"startedEventId": 0, "previousStartedEventId": 0}


# Timers.


@pytest.mark.local_only(
    "moto runs timers on real threads, not its clock, and names the cancel "
    "event TimerCancelled where SWF says TimerCanceled"
)
def test_timers_fire_and_cancel(env: Both) -> None:
    swf = env.swf
    execution = start(swf)
    decide(swf, _timer("t1", "30"), _timer("t2", "60"))
    assert not poll_decision(swf).get("taskToken")  # a started timer asks nothing
    env.clock.advance(31)
    fired = last(swf, execution, "TimerFired")
    assert fired["timerId"] == "t1"
    started = [e for e in events(swf, execution) if e["eventType"] == "TimerStarted"]
    assert fired["startedEventId"] == started[0]["eventId"]
    decide(
        swf,
        {
            "decisionType": "CancelTimer",
            "cancelTimerDecisionAttributes": {"timerId": "t2"},
        },
        {
            "decisionType": "CancelTimer",
            "cancelTimerDecisionAttributes": {"timerId": "t1"},
        },
    )
    canceled = last(swf, execution, "TimerCanceled")
    assert (canceled["timerId"], canceled["startedEventId"]) == (
        "t2",
        started[1]["eventId"],
    )
    # t1 has fired, so it is no longer a timer that can be canceled.
    failed = last(swf, execution, "CancelTimerFailed")
    assert (failed["timerId"], failed["cause"]) == ("t1", "TIMER_ID_UNKNOWN")
    decide(swf)  # the failure asked for a decision
    env.clock.advance(60)
    assert types(swf, execution).count("TimerFired") == 1


def test_timer_id_already_in_use(env: Both) -> None:
    swf = env.swf
    execution = start(swf)
    decide(swf, _timer("t1"), _timer("t1"))
    failed = last(swf, execution, "StartTimerFailed")
    assert (failed["timerId"], failed["cause"]) == ("t1", "TIMER_ID_ALREADY_IN_USE")
    assert types(swf, execution).count("TimerStarted") == 1


# Signals, cancel requests, terminate.


def test_signal_reaches_the_decider(env: Both) -> None:
    swf = env.swf
    execution = start(swf)
    decide(swf)
    swf.signal_workflow_execution(
        domain=DOMAIN, workflowId="wf-1", signalName="approve", input='{"ok": 1}'
    )
    task = poll_decision(swf)
    signaled = [
        e for e in task["events"] if e["eventType"] == "WorkflowExecutionSignaled"
    ]
    assert attrs(signaled[-1]) == {"signalName": "approve", "input": '{"ok": 1}'}
    assert status(swf, execution) == ("OPEN", None)


@pytest.mark.local_only("moto has no RequestCancelWorkflowExecution")
def test_cancel_request_of_an_execution(env: Both) -> None:
    swf = env.swf
    execution = start(swf)
    decide(swf)
    swf.request_cancel_workflow_execution(domain=DOMAIN, workflowId="wf-1")
    info = swf.describe_workflow_execution(domain=DOMAIN, execution=execution)
    assert info["executionInfo"]["cancelRequested"] is True
    task = poll_decision(swf)
    assert "WorkflowExecutionCancelRequested" in [
        e["eventType"] for e in task["events"]
    ]
    swf.respond_decision_task_completed(
        taskToken=task["taskToken"],
        decisions=[{"decisionType": "CancelWorkflowExecution"}],
    )
    assert status(swf, execution) == ("CLOSED", "CANCELED")


@pytest.mark.local_only(
    "moto refuses the RequestCancelActivityTask decision (NotImplementedError) "
    "and has no RespondActivityTaskCanceled"
)
def test_cancel_requested_on_heartbeat(env: Both) -> None:
    swf = env.swf
    execution = start(swf)
    decide(swf, schedule("a"))
    token = poll_activity(swf)["taskToken"]
    swf.signal_workflow_execution(
        domain=DOMAIN, workflowId="wf-1", signalName="stop", input="now"
    )
    decide(
        swf,
        {
            "decisionType": "RequestCancelActivityTask",
            "requestCancelActivityTaskDecisionAttributes": {"activityId": "a"},
        },
    )
    beat = swf.record_activity_task_heartbeat(taskToken=token)
    assert beat == {"cancelRequested": True}
    swf.respond_activity_task_canceled(taskToken=token, details="stopped")
    canceled = last(swf, execution, "ActivityTaskCanceled")
    requested = [
        e
        for e in events(swf, execution)
        if e["eventType"] == "ActivityTaskCancelRequested"
    ]
    assert canceled["latestCancelRequestedEventId"] == requested[0]["eventId"]


def test_terminate_closes_everything(env: Both) -> None:
    swf = env.swf
    execution = start(swf)
    decide(swf, schedule("a"))
    token = poll_activity(swf)["taskToken"]
    swf.terminate_workflow_execution(
        domain=DOMAIN, workflowId="wf-1", reason="stop", details="now"
    )
    assert status(swf, execution) == ("CLOSED", "TERMINATED")
    terminated = last(swf, execution, "WorkflowExecutionTerminated")
    assert terminated["reason"] == "stop"
    with pytest.raises(ClientError) as exc:
        swf.respond_activity_task_completed(taskToken=token)
    assert _code(exc) == "UnknownResourceFault"
    with pytest.raises(ClientError) as exc:
        swf.signal_workflow_execution(
            domain=DOMAIN, workflowId="wf-1", signalName="s", input="x"
        )
    assert _code(exc) == "UnknownResourceFault"


# Workflow ids.


def test_one_open_execution_per_workflow_id(env: Both) -> None:
    swf = env.swf
    first = start(swf)
    with pytest.raises(ClientError) as exc:
        start(swf)
    assert _code(exc) == "WorkflowExecutionAlreadyStartedFault"
    swf.terminate_workflow_execution(domain=DOMAIN, workflowId="wf-1")
    second = start(swf)
    assert second["runId"] != first["runId"]
    # Without a runId, the open run is the one meant.
    info = swf.describe_workflow_execution(domain=DOMAIN, execution=second)
    assert info["executionInfo"]["executionStatus"] == "OPEN"
    assert status(swf, first) == ("CLOSED", "TERMINATED")


# History and its pages.


def _long_history(swf: Any) -> dict[str, str]:
    execution = start(swf)
    decide(swf)
    for n in range(6):
        swf.signal_workflow_execution(
            domain=DOMAIN, workflowId="wf-1", signalName=f"s{n}", input=str(n)
        )
    return execution


def test_history_reverse_order(env: Both) -> None:
    swf = env.swf
    execution = _long_history(swf)
    forward = events(swf, execution)
    backward = swf.get_workflow_execution_history(
        domain=DOMAIN, execution=execution, reverseOrder=True
    )["events"]
    assert [e["eventId"] for e in backward] == [e["eventId"] for e in forward][::-1]


@pytest.mark.local_only("moto ignores maximumPageSize and never pages a history")
@pytest.mark.parametrize("reverse", [False, True])
def test_history_pages(env: Both, reverse: bool) -> None:
    swf = env.swf
    execution = _long_history(swf)
    whole = swf.get_workflow_execution_history(
        domain=DOMAIN, execution=execution, reverseOrder=reverse
    )["events"]
    seen: list[int] = []
    token: str | None = None
    while True:
        extra = {"nextPageToken": token} if token else {}
        page = swf.get_workflow_execution_history(
            domain=DOMAIN,
            execution=execution,
            maximumPageSize=4,
            reverseOrder=reverse,
            **extra,
        )
        assert len(page["events"]) <= 4
        seen += [e["eventId"] for e in page["events"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert seen == [e["eventId"] for e in whole]


@pytest.mark.local_only("moto ignores maximumPageSize on PollForDecisionTask")
def test_decision_poll_pages(env: Both) -> None:
    swf = env.swf
    _long_history(swf)
    first = poll_decision(swf, maximumPageSize=3, reverseOrder=True)
    ids = [e["eventId"] for e in first["events"]]
    token = first["nextPageToken"]
    while token:
        page = poll_decision(
            swf, maximumPageSize=3, reverseOrder=True, nextPageToken=token
        )
        # Every page belongs to the same task.
        assert page["taskToken"] == first["taskToken"]
        ids += [e["eventId"] for e in page["events"]]
        token = page.get("nextPageToken")
    assert ids == list(range(first["startedEventId"], 0, -1))


# Listings, counts, describe.


def _three_runs(env: Both) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    swf = env.swf
    a = start(swf, "a", tagList=["red"])
    env.clock.advance(10)
    b = start(swf, "b")
    env.clock.advance(10)
    c = start(swf, "c", tagList=["blue"])
    env.clock.advance(10)
    swf.terminate_workflow_execution(domain=DOMAIN, workflowId="a")
    return a, b, c


def _ids(listing: dict[str, Any]) -> list[str]:
    return [i["execution"]["workflowId"] for i in listing["executionInfos"]]


def _open_ids(swf: Any, **filters: Any) -> list[str]:
    return sorted(_ids(swf.list_open_workflow_executions(domain=DOMAIN, **filters)))


def test_list_open_executions_by_tag(env: Both) -> None:
    swf = env.swf
    _a, _b, c = _three_runs(env)
    assert _open_ids(swf, startTimeFilter=EPOCH) == ["b", "c"]
    assert _open_ids(swf, startTimeFilter=EPOCH, tagFilter={"tag": "blue"}) == ["c"]
    info = swf.describe_workflow_execution(domain=DOMAIN, execution=c)
    assert info["executionInfo"]["tagList"] == ["blue"]
    assert info["openCounts"]["openDecisionTasks"] == 1
    assert info["executionConfiguration"]["taskList"] == {"name": "decisions"}


@pytest.mark.local_only(
    "moto's ListOpenWorkflowExecutions ignores executionFilter, typeFilter and "
    "the startTimeFilter window"
)
def test_list_open_executions_by_id_type_and_time(env: Both) -> None:
    swf = env.swf
    _three_runs(env)
    assert _open_ids(
        swf, startTimeFilter=EPOCH, executionFilter={"workflowId": "c"}
    ) == ["c"]
    by_type = {"name": WORKFLOW["name"], "version": WORKFLOW["version"]}
    assert _open_ids(swf, startTimeFilter=EPOCH, typeFilter=by_type) == ["b", "c"]
    other = {"name": WORKFLOW["name"], "version": "2"}
    assert _open_ids(swf, startTimeFilter=EPOCH, typeFilter=other) == []
    window = {"oldestDate": env.clock.now - 25, "latestDate": env.clock.now - 15}
    assert _open_ids(swf, startTimeFilter=window) == ["b"]


def test_list_closed_executions_and_filters(env: Both) -> None:
    swf = env.swf
    a, _b, _c = _three_runs(env)
    closed = swf.list_closed_workflow_executions(domain=DOMAIN, startTimeFilter=EPOCH)
    assert [i["execution"] for i in closed["executionInfos"]] == [a]
    assert closed["executionInfos"][0]["closeStatus"] == "TERMINATED"
    by_status = swf.list_closed_workflow_executions(
        domain=DOMAIN, closeTimeFilter=EPOCH, closeStatusFilter={"status": "COMPLETED"}
    )
    assert by_status["executionInfos"] == []
    by_tag = swf.list_closed_workflow_executions(
        domain=DOMAIN, startTimeFilter=EPOCH, tagFilter={"tag": "red"}
    )
    assert _ids(by_tag) == ["a"]


def test_only_one_exclusive_filter(env: Both) -> None:
    swf = env.swf
    _three_runs(env)
    with pytest.raises(ClientError) as exc:
        swf.list_open_workflow_executions(
            domain=DOMAIN,
            startTimeFilter=EPOCH,
            executionFilter={"workflowId": "b"},
            tagFilter={"tag": "blue"},
        )
    assert "ValidationException" in _code(exc)
    with pytest.raises(ClientError):
        swf.list_closed_workflow_executions(
            domain=DOMAIN,
            startTimeFilter=EPOCH,
            typeFilter={"name": WORKFLOW["name"]},
            closeStatusFilter={"status": "TERMINATED"},
        )


@pytest.mark.local_only("moto ignores maximumPageSize on execution listings")
def test_listing_pages_newest_first(env: Both) -> None:
    swf = env.swf
    _three_runs(env)
    start(swf, "d")
    first = swf.list_open_workflow_executions(
        domain=DOMAIN, startTimeFilter=EPOCH, maximumPageSize=2
    )
    rest = swf.list_open_workflow_executions(
        domain=DOMAIN,
        startTimeFilter=EPOCH,
        maximumPageSize=2,
        nextPageToken=first["nextPageToken"],
    )
    assert _ids(first) + _ids(rest) == ["d", "c", "b"]
    assert "nextPageToken" not in rest
    oldest = swf.list_open_workflow_executions(
        domain=DOMAIN, startTimeFilter=EPOCH, reverseOrder=True
    )
    assert _ids(oldest) == ["b", "c", "d"]


@pytest.mark.local_only("moto has no CountOpen/CountClosedWorkflowExecutions")
def test_counts(env: Both) -> None:
    swf = env.swf
    _three_runs(env)
    opened = swf.count_open_workflow_executions(domain=DOMAIN, startTimeFilter=EPOCH)
    assert opened == {"count": 2, "truncated": False}
    closed = swf.count_closed_workflow_executions(
        domain=DOMAIN, closeTimeFilter=EPOCH, closeStatusFilter={"status": "TERMINATED"}
    )
    assert closed["count"] == 1
    tagged = swf.count_open_workflow_executions(
        domain=DOMAIN, startTimeFilter=EPOCH, tagFilter={"tag": "blue"}
    )
    assert tagged["count"] == 1
    with pytest.raises(ClientError):
        swf.count_open_workflow_executions(
            domain=DOMAIN,
            startTimeFilter=EPOCH,
            tagFilter={"tag": "blue"},
            typeFilter={"name": WORKFLOW["name"]},
        )


def test_pending_task_counts(env: Both) -> None:
    swf = env.swf
    start(swf)
    pending = swf.count_pending_decision_tasks(
        domain=DOMAIN, taskList={"name": "decisions"}
    )
    assert pending["count"] == 1
    decide(swf, schedule("a"), schedule("b"))
    activities = swf.count_pending_activity_tasks(domain=DOMAIN, taskList=ACTIVITIES)
    assert activities["count"] == 2
