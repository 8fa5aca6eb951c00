"""The decision poller against a scripted fake SWF, and once against moto."""

from __future__ import annotations

import logging
import threading
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from cpe.runtime.decision_poller import DecisionPoller
from cpe.runtime.swf_errors import REASON_LIMIT, RetryPolicy

from .fakes import FakeDecisionSwf, client_error, decision_pages

FAST = RetryPolicy(base=0.001, cap=0.005, respond_attempts=3)
IR = {"ir_version": 1, "name": "Flow", "version": "1"}
COMPLETE = [
    {
        "decisionType": "CompleteWorkflowExecution",
        "completeWorkflowExecutionDecisionAttributes": {"result": "{}"},
    }
]


def ir_for(name: str, version: str) -> dict[str, Any] | None:
    return IR if (name, version) == ("Flow", "1") else None


class Recorder:
    """A `decide` and an `on_decisions` that remember what they were given."""

    def __init__(self, answer: list[dict[str, Any]] | None = None) -> None:
        self.answer = COMPLETE if answer is None else answer
        self.histories: list[list[dict[str, Any]]] = []
        self.notified: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []

    def decide(
        self, ir: dict[str, Any], events: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        assert ir is IR
        self.histories.append(events)
        return self.answer

    def on_decisions(
        self, task: dict[str, Any], decisions: list[dict[str, Any]]
    ) -> None:
        self.notified.append((task, decisions))


def make_poller(swf: Any, recorder: Recorder, **options: Any) -> DecisionPoller:
    options.setdefault("decide", recorder.decide)
    options.setdefault("ir_for_type", ir_for)
    options.setdefault("on_decisions", recorder.on_decisions)
    return DecisionPoller(
        swf,
        domain="d",
        task_list="decisions",
        identity="decider-1",
        retry=FAST,
        **options,
    )


def fail_reason(swf: FakeDecisionSwf) -> str:
    assert len(swf.responds) == 1
    (decision,) = swf.responds[0]["decisions"]
    assert decision["decisionType"] == "FailWorkflowExecution"
    reason: str = decision["failWorkflowExecutionDecisionAttributes"]["reason"]
    assert len(reason) <= REASON_LIMIT
    return reason


def test_pages_through_the_whole_history() -> None:
    swf = FakeDecisionSwf(decision_pages(event_count=7, page_size=3))
    recorder = Recorder()
    assert make_poller(swf, recorder).poll_once() is True
    assert [e["eventId"] for e in recorder.histories[0]] == [1, 2, 3, 4, 5, 6, 7]
    tokens = [request.get("nextPageToken") for request in swf.requests]
    assert tokens == [None, "page-1", "page-2"]
    for request in swf.requests:
        assert request["domain"] == "d"
        assert request["taskList"] == {"name": "decisions"}
    assert swf.responds == [{"taskToken": "decision-token", "decisions": COMPLETE}]
    ((task, decisions),) = recorder.notified
    assert decisions == COMPLETE
    assert len(task["events"]) == 7
    assert "nextPageToken" not in task


def test_empty_poll_returns_false() -> None:
    swf = FakeDecisionSwf()
    recorder = Recorder()
    assert make_poller(swf, recorder).poll_once() is False
    assert swf.responds == [] and recorder.notified == []


def test_missing_ir_fails_the_workflow() -> None:
    swf = FakeDecisionSwf(decision_pages(3, 10, name="Other", version="7"))
    recorder = Recorder()
    make_poller(swf, recorder).poll_once()
    assert fail_reason(swf) == (
        "no compiled plan for workflow type Other version 7 is deployed"
    )
    assert recorder.histories == []


def test_a_raising_ir_lookup_fails_the_workflow() -> None:
    def broken(name: str, version: str) -> dict[str, Any] | None:
        raise OSError("registry unreadable")

    swf = FakeDecisionSwf(decision_pages(3, 10))
    make_poller(swf, Recorder(), ir_for_type=broken).poll_once()
    reason = fail_reason(swf)
    assert "Flow version 1" in reason and "OSError: registry unreadable" in reason


def test_a_raising_decide_fails_the_workflow(caplog: pytest.LogCaptureFixture) -> None:
    def buggy(ir: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise KeyError("activityId")

    swf = FakeDecisionSwf(decision_pages(3, 10))
    recorder = Recorder()
    with caplog.at_level(logging.ERROR, logger="cpe.runtime.decision_poller"):
        make_poller(swf, recorder, decide=buggy).poll_once()
    assert fail_reason(swf) == "the decider raised KeyError: 'activityId'"
    details = swf.responds[0]["decisions"][0][
        "failWorkflowExecutionDecisionAttributes"
    ]["details"]
    assert "Traceback" in details
    assert any(record.exc_info for record in caplog.records)
    assert len(recorder.notified) == 1


def test_a_long_decide_error_is_shortened() -> None:
    def buggy(ir: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise ValueError("z" * 1000)

    swf = FakeDecisionSwf(decision_pages(1, 10))
    make_poller(swf, Recorder(), decide=buggy).poll_once()
    reason = fail_reason(swf)
    assert len(reason) == REASON_LIMIT
    assert reason.startswith("the decider raised ValueError: zzz")
    assert reason.endswith("… [truncated]")


def test_on_decisions_only_after_the_respond_is_accepted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    swf = FakeDecisionSwf(decision_pages(2, 10))
    swf.respond_errors = [client_error("UnknownResourceFault")]
    recorder = Recorder()
    poller = make_poller(swf, recorder)
    with caplog.at_level(logging.WARNING, logger="cpe.runtime.decision_poller"):
        assert poller.poll_once() is True
    assert recorder.notified == []
    assert any("no longer known" in r.getMessage() for r in caplog.records)

    swf.pages = decision_pages(2, 10)
    assert poller.poll_once() is True
    assert len(recorder.notified) == 1


def test_transient_respond_errors_are_retried() -> None:
    swf = FakeDecisionSwf(decision_pages(2, 10))
    swf.respond_errors = [client_error("ThrottlingException")]
    recorder = Recorder()
    make_poller(swf, recorder).poll_once()
    assert len(swf.responds) == 1 and len(recorder.notified) == 1


def test_a_lost_history_page_abandons_the_task() -> None:
    swf = FakeDecisionSwf(decision_pages(6, 2))
    swf.page_errors = [client_error("ValidationException")]
    recorder = Recorder()
    assert make_poller(swf, recorder).poll_once() is True
    assert recorder.histories == [] and swf.responds == []


def test_a_transient_page_error_is_retried() -> None:
    swf = FakeDecisionSwf(decision_pages(6, 2))
    swf.page_errors = [EndpointConnectionError(endpoint_url="http://swf.invalid")]
    recorder = Recorder()
    make_poller(swf, recorder).poll_once()
    assert len(recorder.histories[0]) == 6


def test_a_raising_observer_is_ignored() -> None:
    swf = FakeDecisionSwf(decision_pages(2, 10))

    def observer(task: dict[str, Any], decisions: list[dict[str, Any]]) -> None:
        raise RuntimeError("display broke")

    poller = DecisionPoller(
        swf,
        domain="d",
        task_list="decisions",
        ir_for_type=ir_for,
        decide=Recorder().decide,
        on_decisions=observer,
    )
    assert poller.poll_once() is True
    assert len(swf.responds) == 1


def test_transient_poll_errors_are_retried_by_run() -> None:
    swf = FakeDecisionSwf(decision_pages(2, 10))
    swf.poll_errors = [
        EndpointConnectionError(endpoint_url="http://swf.invalid"),
        client_error("ThrottlingException"),
        client_error("InternalFailure"),
    ]
    stop = threading.Event()
    recorder = Recorder()
    poller = make_poller(swf, recorder, on_decisions=lambda task, decisions: stop.set())
    thread = threading.Thread(target=poller.run, args=(stop,))
    thread.start()
    thread.join(5)
    assert not thread.is_alive()
    assert len(swf.responds) == 1
    assert len(swf.requests) == 4


def test_default_decide_comes_from_the_decider_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys
    import types

    module = types.ModuleType("cpe.runtime.decider")
    recorder = Recorder()
    module.decide = recorder.decide  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cpe.runtime.decider", module)
    swf = FakeDecisionSwf(decision_pages(2, 10))
    DecisionPoller(
        swf, domain="d", task_list="decisions", ir_for_type=ir_for
    ).poll_once()
    assert len(recorder.histories) == 1


@mock_aws
@pytest.mark.usefixtures("aws_env")
def test_completes_a_workflow_on_moto() -> None:
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
    run = swf.start_workflow_execution(
        domain="d",
        workflowId="wf-1",
        workflowType={"name": "Flow", "version": "1"},
        input='{"a": 1}',
    )
    recorder = Recorder()
    poller = make_poller(swf, recorder)
    assert poller.poll_once() is True
    history = recorder.histories[0]
    assert history[0]["eventType"] == "WorkflowExecutionStarted"
    assert history[-1]["eventType"] == "DecisionTaskStarted"
    described = swf.describe_workflow_execution(
        domain="d", execution={"workflowId": "wf-1", "runId": run["runId"]}
    )
    assert described["executionInfo"]["executionStatus"] == "CLOSED"
    assert described["executionInfo"]["closeStatus"] == "COMPLETED"
    assert len(recorder.notified) == 1
    assert poller.poll_once() is False
