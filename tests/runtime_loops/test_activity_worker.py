"""The activity worker against a scripted fake SWF, and once against moto."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from cpe.runtime.activity import ActivityDefinition, activity
from cpe.runtime.swf_errors import DETAILS_LIMIT, REASON_LIMIT, RetryPolicy
from cpe.runtime.worker import ActivityWorker

from .fakes import FakeActivitySwf, activity_task, client_error

FAST = RetryPolicy(base=0.001, cap=0.005, respond_attempts=3)


@activity(name="Echo", version="1")
def echo(value: Any) -> Any:
    return {"echo": value}


def table(*functions: Any) -> dict[tuple[str, str], ActivityDefinition]:
    definitions = [function.__cpe_activity__ for function in functions]
    return {definition.key: definition for definition in definitions}


def make_worker(
    swf: Any,
    *functions: Any,
    events: list[tuple[str, dict[str, Any]]] | None = None,
    **options: Any,
) -> ActivityWorker:
    def record(kind: str, info: dict[str, Any]) -> None:
        if events is not None:
            events.append((kind, info))

    options.setdefault("heartbeat_interval", 5.0)
    return ActivityWorker(
        swf,
        domain="d",
        task_lists=options.pop("task_lists", ["echo-1"]),
        activities=table(*(functions or (echo,))),
        identity="w1",
        on_event=record,
        retry=FAST,
        **options,
    )


def only_respond(swf: FakeActivitySwf) -> tuple[str, dict[str, Any]]:
    assert len(swf.responds) == 1, swf.responds
    return swf.responds[0]


def test_completed_task_reports_the_json_result() -> None:
    swf = FakeActivitySwf([activity_task(input='{"x": 1}')])
    events: list[tuple[str, dict[str, Any]]] = []
    assert make_worker(swf, events=events).poll_once("echo-1") is True
    method, call = only_respond(swf)
    assert method == "completed"
    assert call["taskToken"] == "token-1"
    assert json.loads(call["result"]) == {"echo": {"x": 1}}
    assert [kind for kind, _ in events] == ["started", "completed"]
    info = events[1][1]
    assert info["activity_id"] == "step-1"
    assert (info["activity_name"], info["activity_version"]) == ("Echo", "1")
    assert info["workflow_id"] == "wf-1"


@pytest.mark.parametrize("raw", [None, ""])
def test_absent_or_empty_input_is_none(raw: str | None) -> None:
    swf = FakeActivitySwf([activity_task(input=raw)])
    make_worker(swf).poll_once("echo-1")
    method, call = only_respond(swf)
    assert method == "completed"
    assert json.loads(call["result"]) == {"echo": None}


def test_empty_poll_returns_false() -> None:
    swf = FakeActivitySwf()
    assert make_worker(swf).poll_once("echo-1") is False
    assert swf.responds == []


def test_failing_function_reports_type_message_and_traceback() -> None:
    @activity(name="Boom", version="2")
    def boom(value: Any) -> Any:
        raise ValueError(f"cannot use {value['x']}")

    swf = FakeActivitySwf([activity_task(name="Boom", version="2")])
    events: list[tuple[str, dict[str, Any]]] = []
    make_worker(swf, boom, events=events).poll_once("echo-1")
    method, call = only_respond(swf)
    assert method == "failed"
    assert call["reason"] == "ValueError: cannot use 1"
    assert call["details"].startswith("Traceback (most recent call last):")
    assert "in boom" in call["details"]
    assert call["details"].rstrip().endswith("ValueError: cannot use 1")
    assert events[-1][0] == "failed"
    assert events[-1][1]["reason"] == "ValueError: cannot use 1"


def test_long_reason_and_details_are_truncated_with_a_marker() -> None:
    @activity(name="Loud", version="1")
    def loud(value: Any) -> Any:
        raise RuntimeError("x" * 50_000 + " END")

    swf = FakeActivitySwf([activity_task(name="Loud")])
    make_worker(swf, loud).poll_once("echo-1")
    _, call = only_respond(swf)
    assert len(call["reason"]) == REASON_LIMIT
    assert call["reason"].startswith("RuntimeError: xxx")
    assert call["reason"].endswith("… [truncated]")
    assert len(call["details"]) <= DETAILS_LIMIT
    assert call["details"].startswith("Traceback")
    assert "… [truncated]" in call["details"]
    # The end of a traceback says what the exception was: it is kept.
    assert call["details"].rstrip().endswith("x END")


def test_invalid_json_input_fails_the_task() -> None:
    called = []

    @activity(name="Echo", version="1")
    def spy(value: Any) -> Any:
        called.append(value)

    swf = FakeActivitySwf([activity_task(input="{not json")])
    make_worker(swf, spy).poll_once("echo-1")
    method, call = only_respond(swf)
    assert method == "failed"
    assert call["reason"].startswith("task input is not valid JSON:")
    assert call["details"] == "{not json"
    assert called == []


def test_unknown_activity_type_fails_with_worker_identity() -> None:
    swf = FakeActivitySwf([activity_task(name="Transcode", version="9")])
    make_worker(swf).poll_once("echo-1")
    method, call = only_respond(swf)
    assert method == "failed"
    assert call["reason"] == "no code for activity Transcode version 9 on worker w1"


@pytest.mark.parametrize("result", [object(), {"a": {1, 2}}, math.nan])
def test_unserialisable_result_fails_the_task(result: Any) -> None:
    @activity(name="Odd", version="1")
    def odd(value: Any) -> Any:
        return result

    swf = FakeActivitySwf([activity_task(name="Odd")])
    make_worker(swf, odd).poll_once("echo-1")
    method, call = only_respond(swf)
    assert method == "failed"
    assert "is not JSON-serialisable" in call["reason"]
    assert len(call["reason"]) <= REASON_LIMIT


def test_result_over_the_limit_fails_with_a_clear_reason() -> None:
    @activity(name="Big", version="1")
    def big(value: Any) -> Any:
        return "y" * DETAILS_LIMIT

    swf = FakeActivitySwf([activity_task(name="Big")])
    make_worker(swf, big).poll_once("echo-1")
    method, call = only_respond(swf)
    assert method == "failed"
    assert f"over SWF's limit of {DETAILS_LIMIT}" in call["reason"]
    assert f"{DETAILS_LIMIT + 2} characters" in call["reason"]
    assert len(call["details"]) <= DETAILS_LIMIT
    assert call["details"].endswith("… [truncated]")


def test_heartbeats_while_running_and_stops_after() -> None:
    swf = FakeActivitySwf([activity_task(name="Slow")])

    @activity(name="Slow", version="1")
    def slow(value: Any) -> Any:
        assert swf.heartbeat_seen.wait(5)
        return "done"

    make_worker(swf, slow, heartbeat_interval=0.01).poll_once("echo-1")
    assert only_respond(swf)[0] == "completed"
    beats = len(swf.heartbeats)
    assert beats >= 1
    assert swf.heartbeats[0]["taskToken"] == "token-1"
    time.sleep(0.05)
    assert len(swf.heartbeats) == beats


def test_cancel_requested_by_heartbeat_reports_canceled() -> None:
    swf = FakeActivitySwf([activity_task(name="Slow")])
    swf.cancel_requested = True

    @activity(name="Slow", version="1")
    def slow(value: Any) -> Any:
        assert swf.heartbeat_seen.wait(5)
        return "done"

    events: list[tuple[str, dict[str, Any]]] = []
    make_worker(swf, slow, events=events, heartbeat_interval=0.01).poll_once("echo-1")
    method, call = only_respond(swf)
    assert method == "canceled"
    assert call["taskToken"] == "token-1"
    assert "cancel requested" in call["details"]
    assert [kind for kind, _ in events] == ["started", "canceled"]


def test_heartbeat_errors_do_not_disturb_the_task() -> None:
    swf = FakeActivitySwf([activity_task(name="Slow")])
    beats = threading.Event()

    def failing_heartbeat(**kwargs: Any) -> dict[str, Any]:
        beats.set()
        raise client_error("UnknownResourceFault", "RecordActivityTaskHeartbeat")

    swf.record_activity_task_heartbeat = failing_heartbeat  # type: ignore[method-assign]

    @activity(name="Slow", version="1")
    def slow(value: Any) -> Any:
        assert beats.wait(5)
        return 1

    make_worker(swf, slow, heartbeat_interval=0.01).poll_once("echo-1")
    assert only_respond(swf)[0] == "completed"


def test_unknown_resource_on_respond_is_a_warning_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    swf = FakeActivitySwf([activity_task(token="t1"), activity_task(token="t2")])
    swf.respond_errors = [client_error("UnknownResourceFault")]
    events: list[tuple[str, dict[str, Any]]] = []
    worker = make_worker(swf, events=events)
    with caplog.at_level(logging.WARNING, logger="cpe.runtime.worker"):
        assert worker.poll_once("echo-1") is True
    assert any(
        record.levelno == logging.WARNING and "no longer known" in record.getMessage()
        for record in caplog.records
    )
    assert [kind for kind, _ in events] == ["started", "lost"]
    assert worker.poll_once("echo-1") is True
    assert only_respond(swf)[1]["taskToken"] == "t2"


def test_transient_respond_errors_are_retried() -> None:
    swf = FakeActivitySwf([activity_task()])
    swf.respond_errors = [
        client_error("ThrottlingException"),
        EndpointConnectionError(endpoint_url="http://swf.invalid"),
    ]
    make_worker(swf).poll_once("echo-1")
    assert only_respond(swf)[0] == "completed"


def test_rejected_respond_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    swf = FakeActivitySwf([activity_task()])
    swf.respond_errors = [client_error("ValidationException")]
    with caplog.at_level(logging.ERROR, logger="cpe.runtime.worker"):
        assert make_worker(swf).poll_once("echo-1") is True
    assert swf.responds == []
    assert any("ValidationException" in r.getMessage() for r in caplog.records)


def test_transient_poll_errors_are_retried_by_run() -> None:
    stop = threading.Event()

    @activity(name="Echo", version="1")
    def finish(value: Any) -> Any:
        stop.set()
        return "ok"

    swf = FakeActivitySwf(
        [
            EndpointConnectionError(endpoint_url="http://swf.invalid"),
            client_error("ThrottlingException", "PollForActivityTask"),
            client_error("AccessDeniedException", "PollForActivityTask"),
            activity_task(),
        ]
    )
    thread = threading.Thread(target=make_worker(swf, finish).run, args=(stop,))
    thread.start()
    thread.join(5)
    assert not thread.is_alive()
    assert len(swf.polled) == 4
    assert only_respond(swf)[0] == "completed"


def test_run_visits_task_lists_in_turn_and_stops() -> None:
    swf = FakeActivitySwf()
    stop = threading.Event()

    def stop_after_four() -> None:
        if len(swf.polled) == 4:
            stop.set()

    swf.on_poll = stop_after_four
    worker = make_worker(swf, task_lists=["a", "b"])
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    thread.join(5)
    assert not thread.is_alive()
    assert swf.polled == ["a", "b", "a", "b"]


def test_a_raising_observer_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    def observer(kind: str, info: dict[str, Any]) -> None:
        raise RuntimeError("display broke")

    swf = FakeActivitySwf([activity_task()])
    worker = ActivityWorker(
        swf,
        domain="d",
        task_lists=["echo-1"],
        activities=table(echo),
        on_event=observer,
    )
    with caplog.at_level(logging.WARNING, logger="cpe.runtime.worker"):
        assert worker.poll_once("echo-1") is True
    assert only_respond(swf)[0] == "completed"
    assert any("observer raised" in r.getMessage() for r in caplog.records)


def test_constructor_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        ActivityWorker(FakeActivitySwf(), domain="d", task_lists=[], activities={})
    with pytest.raises(ValueError):
        ActivityWorker(FakeActivitySwf(), domain="d", task_lists="abc", activities={})
    with pytest.raises(ValueError):
        ActivityWorker(
            FakeActivitySwf(),
            domain="d",
            task_lists=["a"],
            activities={},
            heartbeat_interval=0,
        )


@mock_aws
@pytest.mark.usefixtures("aws_env")
def test_completed_task_on_moto() -> None:
    swf = boto3.client("swf", region_name="us-east-1")
    swf.register_domain(name="d", workflowExecutionRetentionPeriodInDays="1")
    swf.register_workflow_type(
        domain="d",
        name="Flow",
        version="1",
        defaultTaskList={"name": "decisions"},
        defaultExecutionStartToCloseTimeout="600",
        defaultTaskStartToCloseTimeout="60",
        defaultChildPolicy="TERMINATE",
    )
    swf.register_activity_type(domain="d", name="Echo", version="1")
    run = swf.start_workflow_execution(
        domain="d", workflowId="wf-1", workflowType={"name": "Flow", "version": "1"}
    )
    decision = swf.poll_for_decision_task(domain="d", taskList={"name": "decisions"})
    swf.respond_decision_task_completed(
        taskToken=decision["taskToken"],
        decisions=[
            {
                "decisionType": "ScheduleActivityTask",
                "scheduleActivityTaskDecisionAttributes": {
                    "activityType": {"name": "Echo", "version": "1"},
                    "activityId": "step-1",
                    "taskList": {"name": "echo-1"},
                    "input": json.dumps({"x": 1}),
                    "scheduleToCloseTimeout": "60",
                    "scheduleToStartTimeout": "60",
                    "startToCloseTimeout": "60",
                    "heartbeatTimeout": "60",
                },
            }
        ],
    )
    events: list[tuple[str, dict[str, Any]]] = []
    assert make_worker(swf, events=events).poll_once("echo-1") is True
    history = swf.get_workflow_execution_history(
        domain="d", execution={"workflowId": "wf-1", "runId": run["runId"]}
    )["events"]
    completed = [e for e in history if e["eventType"] == "ActivityTaskCompleted"]
    assert len(completed) == 1
    result = completed[0]["activityTaskCompletedEventAttributes"]["result"]
    assert json.loads(result) == {"echo": {"x": 1}}
    assert [kind for kind, _ in events] == ["started", "completed"]
