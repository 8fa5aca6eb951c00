"""The observers of cpe.runtime.notifications on built histories and fake queues."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from cpe.runtime import protocol
from cpe.runtime.notifications import build_decider_observer, build_worker_observer
from tests.history_builder import HistoryBuilder

OUTPUT = "https://sqs.example/000000000000/client-output"
CLIENT = {"name": "ClientA", "queues": {"input": "in", "output": OUTPUT}}
EXECUTION = {"workflowId": "job-1", "runId": "run-1"}


class RecordingSqs:
    """Keeps what was sent; `fail_with` makes every send raise it instead."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.batches: list[int] = []
        self.fail_with = fail_with
        self.refuse_id: str | None = None

    def send_message(self, *, QueueUrl: str, MessageBody: str) -> dict[str, Any]:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((QueueUrl, json.loads(MessageBody)))
        return {"MessageId": str(len(self.sent))}

    def send_message_batch(
        self, *, QueueUrl: str, Entries: list[dict[str, str]]
    ) -> dict[str, Any]:
        if self.fail_with is not None:
            raise self.fail_with
        assert len(Entries) <= 10
        self.batches.append(len(Entries))
        successful, failed = [], []
        for entry in Entries:
            message = json.loads(entry["MessageBody"])
            activity_id = message["data"].get("activity", {}).get("activityId")
            if self.refuse_id is not None and activity_id == self.refuse_id:
                failed.append(
                    {"Id": entry["Id"], "Code": "Refused", "SenderFault": True}
                )
            else:
                self.sent.append((QueueUrl, message))
                successful.append({"Id": entry["Id"], "MessageId": entry["Id"]})
        return {"Successful": successful, "Failed": failed}

    def types(self) -> list[str]:
        return [message["type"] for _, message in self.sent]


def task_of(builder: HistoryBuilder) -> dict[str, Any]:
    """A decision task for the history so far, as DecisionPoller hands it over."""
    started = [
        e["eventId"] for e in builder.events if e["eventType"] == "DecisionTaskStarted"
    ]
    return {
        "taskToken": "token",
        "events": list(builder.events),
        "workflowExecution": EXECUTION,
        "workflowType": {"name": "Transcode", "version": "1.0"},
        "startedEventId": started[-1],
        "previousStartedEventId": started[-2] if len(started) > 1 else 0,
    }


def schedule(activity_id: str, name: str = "A") -> dict[str, Any]:
    return {
        "decisionType": "ScheduleActivityTask",
        "scheduleActivityTaskDecisionAttributes": {
            "activityId": activity_id,
            "activityType": {"name": name, "version": "1"},
        },
    }


def test_each_outcome_is_told_once_across_decision_tasks() -> None:
    sqs = RecordingSqs()
    observe = build_decider_observer(sqs)
    history = HistoryBuilder().started({"client": CLIENT, "n": 1})
    observe(task_of(history), [schedule("a"), schedule("b")])
    history.scheduled("a").scheduled("b").completed("a", {"size": 3})
    observe(task_of(history), [])
    history.failed("b", reason="no disk", details="trace")
    observe(task_of(history), [schedule("c")])
    history.scheduled("c").timed_out("c", "HEARTBEAT")
    observe(
        task_of(history),
        [
            {
                "decisionType": "FailWorkflowExecution",
                "failWorkflowExecutionDecisionAttributes": {
                    "reason": "b failed",
                    "details": "d",
                },
            }
        ],
    )

    assert sqs.types() == [
        "ACTIVITY_SCHEDULED",
        "ACTIVITY_SCHEDULED",
        "ACTIVITY_COMPLETED",
        "ACTIVITY_FAILED",
        "ACTIVITY_SCHEDULED",
        "ACTIVITY_TIMEOUT",
        "WORKFLOW_FAILED",
    ]
    assert {queue for queue, _ in sqs.sent} == {OUTPUT}
    messages = [message for _, message in sqs.sent]
    assert all(
        m["jobId"] == "job-1" and m["data"]["workflow"] == EXECUTION for m in messages
    )
    assert messages[2]["data"]["activity"] == {
        "activityId": "a",
        "activityType": {"name": "A", "version": "1"},
        "result": {"size": 3},
    }
    assert messages[3]["data"]["activity"]["reason"] == "no disk"
    assert messages[3]["data"]["activity"]["details"] == "trace"
    assert messages[5]["data"]["activity"]["timeoutType"] == "HEARTBEAT"
    assert messages[6]["data"] == {
        "workflow": EXECUTION,
        "reason": "b failed",
        "details": "d",
    }


def test_completion_cancel_and_schedule_failures_are_told() -> None:
    sqs = RecordingSqs()
    observe = build_decider_observer(sqs)
    history = HistoryBuilder().started({"client": CLIENT})
    observe(task_of(history.schedule_failed("a")), [])
    history.scheduled("b").canceled("b")
    observe(
        task_of(history),
        [
            {
                "decisionType": "CompleteWorkflowExecution",
                "completeWorkflowExecutionDecisionAttributes": {
                    "result": '{"ok": true}'
                },
            }
        ],
    )
    observe(
        task_of(history.cancel_requested()),
        [
            {
                "decisionType": "CancelWorkflowExecution",
                "cancelWorkflowExecutionDecisionAttributes": {},
            }
        ],
    )
    assert sqs.types() == [
        "ACTIVITY_FAILED",
        "ACTIVITY_CANCELED",
        "WORKFLOW_COMPLETED",
        "WORKFLOW_CANCELED",
    ]
    failed = sqs.sent[0][1]["data"]["activity"]
    assert failed["activityId"] == "a"
    assert "ACTIVITY_TYPE_DOES_NOT_EXIST" in failed["reason"]
    assert sqs.sent[2][1]["data"]["result"] == {"ok": True}


def test_a_job_without_a_client_is_not_told() -> None:
    sqs = RecordingSqs()
    observe = build_decider_observer(sqs)
    for workflow_input in ({"n": 1}, {"client": {"name": "x"}}, None):
        observe(task_of(HistoryBuilder().started(workflow_input)), [schedule("a")])
    observe(task_of(HistoryBuilder().started(raw="not json")), [schedule("a")])
    assert sqs.sent == []


def test_a_failing_queue_is_logged_never_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    missing = ClientError(
        {
            "Error": {
                "Code": "AWS.SimpleQueueService.NonExistentQueue",
                "Message": "gone",
            }
        },
        "SendMessage",
    )
    sqs = RecordingSqs(fail_with=missing)
    with caplog.at_level(logging.WARNING):
        build_decider_observer(sqs)(
            task_of(HistoryBuilder().started({"client": CLIENT})), [schedule("a")]
        )
        build_worker_observer(sqs, FakeSwf({"client": CLIENT}), domain="d")(
            "started", worker_info()
        )
    assert "1 messages (ACTIVITY_SCHEDULED) for" in caplog.text
    assert "ACTIVITY_STARTED message for" in caplog.text
    assert "NonExistentQueue" in caplog.text


def test_a_broken_history_does_not_raise_into_the_decider(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken: dict[str, Any] = {"events": "nonsense"}
    with caplog.at_level(logging.WARNING):
        build_decider_observer(RecordingSqs())(broken, [])
    assert "notifying the client of a decision failed" in caplog.text


class FakeSwf:
    """GetWorkflowExecutionHistory of one execution; counts the calls."""

    def __init__(self, workflow_input: Any, fail: bool = False) -> None:
        self.history = HistoryBuilder().started(workflow_input).events
        self.calls: list[dict[str, Any]] = []
        self.fail = fail

    def get_workflow_execution_history(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        if self.fail:
            raise ConnectionError("SWF is unreachable")
        return {"events": self.history[: request.get("maximumPageSize", 1000)]}


def worker_info(run_id: str = "run-1", **extra: Any) -> dict[str, Any]:
    return {
        "activity_id": "a",
        "activity_name": "A",
        "activity_version": "1",
        "workflow_id": "job-1",
        "run_id": run_id,
        "task_list": "t",
        **extra,
    }


def test_the_worker_tells_started_and_progress_reading_the_client_once_per_run() -> (
    None
):
    sqs = RecordingSqs()
    swf = FakeSwf({"client": CLIENT})
    observe = build_worker_observer(sqs, swf, domain="media")
    observe("started", worker_info())
    observe("progress", worker_info(progress={"percent": 40}))
    observe("completed", worker_info(result="{}"))  # told by the decider instead
    observe("failed", worker_info(reason="r"))
    observe("started", worker_info(run_id="run-2"))

    assert sqs.types() == ["ACTIVITY_STARTED", "ACTIVITY_PROGRESS", "ACTIVITY_STARTED"]
    assert [call["execution"]["runId"] for call in swf.calls] == ["run-1", "run-2"]
    assert swf.calls[0] == {
        "domain": "media",
        "execution": {"workflowId": "job-1", "runId": "run-1"},
        "maximumPageSize": 1,
    }
    progress = sqs.sent[1][1]
    assert progress["data"] == {
        "workflow": {"workflowId": "job-1", "runId": "run-1"},
        "activity": {
            "activityId": "a",
            "activityType": {"name": "A", "version": "1"},
            "progress": {"percent": 40},
        },
    }


def test_the_worker_cache_is_bounded_and_misses_are_retried() -> None:
    sqs = RecordingSqs()
    swf = FakeSwf({"client": CLIENT})
    observe = build_worker_observer(sqs, swf, domain="d", cache_size=2)
    for run in ("r1", "r2", "r3", "r1"):
        observe("started", worker_info(run_id=run))
    assert [call["execution"]["runId"] for call in swf.calls] == [
        "r1",
        "r2",
        "r3",
        "r1",
    ]

    unreachable = FakeSwf({"client": CLIENT}, fail=True)
    observe = build_worker_observer(sqs, unreachable, domain="d")
    observe("started", worker_info())
    observe("progress", worker_info(progress=1))
    assert len(unreachable.calls) == 2  # a failed look-up is not remembered


def test_the_worker_does_not_tell_a_job_without_a_client() -> None:
    sqs = RecordingSqs()
    swf = FakeSwf({"n": 1})
    observe = build_worker_observer(sqs, swf, domain="d")
    observe("started", worker_info())
    observe("progress", worker_info(progress=5))
    assert sqs.sent == []
    assert len(swf.calls) == 1  # "no client" is remembered too


def test_the_worker_domain_comes_from_the_task_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CPE_DOMAIN", "from-env")
    swf = FakeSwf({"client": CLIENT})
    build_worker_observer(RecordingSqs(), swf)("started", worker_info())
    build_worker_observer(RecordingSqs(), swf)(
        "started", worker_info(domain="from-task")
    )
    assert [call["domain"] for call in swf.calls] == ["from-env", "from-task"]


def test_messages_over_the_sqs_limit_are_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sqs = RecordingSqs()
    huge = "x" * (protocol.SQS_MESSAGE_LIMIT + 1)
    history = HistoryBuilder().started({"client": CLIENT})
    with caplog.at_level(logging.WARNING):
        build_decider_observer(sqs)(
            task_of(history),
            [
                {
                    "decisionType": "CompleteWorkflowExecution",
                    "completeWorkflowExecutionDecisionAttributes": {
                        "result": json.dumps(huge)
                    },
                }
            ],
        )
    assert sqs.sent == []
    assert "over SQS's limit" in caplog.text


OUTCOMES = ("completed", "failed", "timed_out", "canceled")


@settings(max_examples=60, deadline=None)
@given(
    plan=st.lists(
        st.tuples(st.sampled_from(OUTCOMES), st.booleans()), min_size=1, max_size=12
    )
)
def test_every_outcome_is_told_exactly_once_however_tasks_fall(
    plan: list[tuple[str, bool]],
) -> None:
    """Activities closing one after another; after each, a decision task is
    observed or not (a task whose answer SWF refused is not observed, and its
    events come again in the next one). Each outcome is told once in all."""
    sqs = RecordingSqs()
    observe = build_decider_observer(sqs)
    history = HistoryBuilder().started({"client": CLIENT})
    first = task_of(history)
    observe(first, [])
    observed_up_to = first["startedEventId"]
    for number, (outcome, observed) in enumerate(plan):
        activity = f"step{number}"
        history.scheduled(activity)
        getattr(history, outcome)(activity)
        if observed or number == len(plan) - 1:
            task = task_of(history)
            # previousStartedEventId is the last task SWF took an answer for.
            task["previousStartedEventId"] = observed_up_to
            observe(task, [])
            observed_up_to = task["startedEventId"]

    told = [m["data"]["activity"]["activityId"] for _, m in sqs.sent]
    assert told == [f"step{number}" for number in range(len(plan))]


def test_a_large_decision_is_told_in_batches_of_ten(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sqs = RecordingSqs()
    sqs.refuse_id = "item[7]"
    history = HistoryBuilder().started({"client": CLIENT})
    with caplog.at_level(logging.WARNING):
        build_decider_observer(sqs)(
            task_of(history), [schedule(f"item[{n}]") for n in range(25)]
        )
    assert sqs.batches == [10, 10, 5]
    told = [m["data"]["activity"]["activityId"] for _, m in sqs.sent]
    assert told == [f"item[{n}]" for n in range(25) if n != 7]
    assert "ACTIVITY_SCHEDULED message for" in caplog.text
    assert "Refused" in caplog.text
