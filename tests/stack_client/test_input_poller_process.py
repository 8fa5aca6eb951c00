"""`cpec input-poller` as a process, with an SDK client on the embedded backend."""

from __future__ import annotations

import json
import signal
from typing import Any

import pytest

from cpe.runtime import protocol

from .conftest import DOMAIN, PollerProcess, Stack, client_config, example_job


def next_reply(stack: Stack, kind: str | None = None) -> dict[str, Any]:
    """The next message of the output queue (of type `kind`), within 30 s."""
    for message in stack.client().notifications(wait=30, poll_seconds=1):
        if kind is None or message["type"] == kind:
            return message
    raise AssertionError(f"no {kind or 'message'} came on the output queue")


def send_raw(stack: Stack, body: str) -> None:
    stack.sqs.send_message(QueueUrl=stack.input_queue, MessageBody=body)


def test_start_job_of_the_original_format_is_scheduled(
    stack: Stack, poller: PollerProcess
) -> None:
    job = example_job()
    # Exactly what the original PHP SDK sends: job_id, and the client in data.
    message = {
        "time": 1437447258.98,
        "type": "START_JOB",
        "job_id": "video1-job",
        "data": {**job, "client": client_config()},
    }
    send_raw(stack, json.dumps(message))

    reply = next_reply(stack)
    assert reply["type"] == protocol.WORKFLOW_SCHEDULED
    assert reply["jobId"] == reply["workflowId"] == "video1-job"
    assert reply["workflowType"] == {"name": "Transcode", "version": "2.0"}
    assert reply["input"]["input_asset"] == job["input_asset"]
    assert reply["alreadyStarted"] is False
    assert reply["data"]["workflow"] == {
        "workflowId": "video1-job",
        "runId": reply["runId"],
    }
    [execution] = stack.executions("video1-job")
    assert execution["execution"]["runId"] == reply["runId"]
    assert execution["tagList"] == ["cpe-client:ClientA"]

    # The workflow input is the job's data, client included, for the decider.
    history = stack.swf.get_workflow_execution_history(
        domain=DOMAIN, execution=execution["execution"]
    )
    started = history["events"][0]["workflowExecutionStartedEventAttributes"]
    assert json.loads(started["input"]) == {**job, "client": client_config()}
    assert started["taskList"] == {"name": "Transcode-2.0"}
    assert started["executionStartToCloseTimeout"] == "2592000"

    assert poller.stop() == 0
    [line] = poller.log_lines()
    assert line["outcome"] == "done"
    assert line["command"] == "START_JOB"
    assert line["reply"] == "WORKFLOW_SCHEDULED"


def test_a_start_job_delivered_twice_starts_one_workflow(
    stack: Stack, poller: PollerProcess
) -> None:
    client = stack.client()
    for _ in range(2):
        client.start_job("twice", example_job())
    first = next_reply(stack, protocol.WORKFLOW_SCHEDULED)
    second = next_reply(stack, protocol.WORKFLOW_SCHEDULED)

    assert len(stack.executions("twice")) == 1
    assert first["runId"] == second["runId"]
    assert [first["alreadyStarted"], second["alreadyStarted"]] == [False, True]


def test_a_job_started_again_after_it_closed_is_not_restarted(
    stack: Stack, poller: PollerProcess
) -> None:
    client = stack.client()
    client.start_job("closed-job", example_job())
    run_id = next_reply(stack, protocol.WORKFLOW_SCHEDULED)["runId"]
    stack.swf.terminate_workflow_execution(domain=DOMAIN, workflowId="closed-job")

    client.start_job("closed-job", example_job())
    again = next_reply(stack, protocol.WORKFLOW_SCHEDULED)
    assert again["runId"] == run_id
    assert again["alreadyStarted"] is True
    assert len(stack.executions("closed-job")) == 1


def test_bad_messages_get_error_replies_and_the_poller_goes_on(
    stack: Stack, poller: PollerProcess
) -> None:
    client = client_config()
    bad = [
        # Not JSON: no client can be read, so no reply; the message is dropped.
        "this is not JSON {",
        # JSON too deep for any parser to read: the same.
        '{"type": "START_JOB", "jobId": "deep", "data": '
        + "[" * 5000
        + "]" * 5000
        + "}",
        json.dumps({"type": "START_JOB", "data": {"client": client}}),
        json.dumps({"type": "EXPLODE", "jobId": "x", "data": {"client": client}}),
        json.dumps(
            {"type": "START_JOB", "jobId": "no-workflow", "data": {"client": client}}
        ),
        json.dumps(
            {
                "type": "START_JOB",
                "jobId": "unknown-type",
                "data": {
                    "client": client,
                    "workflow": {"name": "Nope", "version": "9"},
                },
            }
        ),
        json.dumps(
            {
                "type": "START_JOB",
                "jobId": "other-domain",
                "data": {
                    **example_job(),
                    "client": client,
                    "workflow": {
                        "name": "Transcode",
                        "version": "2.0",
                        "domain": "SADomain",
                    },
                },
            }
        ),
        json.dumps({"type": "START_JOB", "jobId": "a:b", "data": {"client": client}}),
    ]
    for body in bad:
        send_raw(stack, body)
    stack.client().start_job("after-the-bad-ones", example_job())

    failures = []
    for message in stack.client().notifications(wait=30, poll_seconds=1):
        if message["type"] == protocol.WORKFLOW_SCHEDULED:
            break
        failures.append(message)
    assert [m["type"] for m in failures] == [protocol.COMMAND_FAILED] * 6
    reasons = {m["jobId"]: m["data"]["reason"] for m in failures}
    assert "needs a 'jobId'" in reasons[""]
    assert "unknown command type 'EXPLODE'" in reasons["x"]
    assert "names no workflow" in reasons["no-workflow"]
    assert "Nope version 9 is not registered" in reasons["unknown-type"]
    assert "serves domain 'cpe-test'" in reasons["other-domain"]
    assert "cannot be a workflow id" in reasons["a:b"]
    assert stack.executions("after-the-bad-ones")

    assert poller.stop() == 0
    outcomes = [line["outcome"] for line in poller.log_lines()]
    assert outcomes == ["refused"] * 8 + ["done"]
    empty = stack.sqs.get_queue_attributes(
        QueueUrl=stack.input_queue,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
        ],
    )["Attributes"]
    assert empty == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }


def test_status_list_activity_status_and_cancel_answer(
    stack: Stack, poller: PollerProcess
) -> None:
    client = stack.client()
    client.start_job("asked-about", example_job())
    run_id = next_reply(stack, protocol.WORKFLOW_SCHEDULED)["runId"]

    client.job_status("asked-about")
    status = next_reply(stack, protocol.JOB_STATUS)
    assert status["data"]["status"] == "OPEN"
    assert status["data"]["workflow"] == {"workflowId": "asked-about", "runId": run_id}

    client.job_list()
    listed = next_reply(stack, protocol.JOB_LIST)["data"]
    assert [job["jobId"] for job in listed["jobs"]] == ["asked-about"]
    assert listed["client"] == "ClientA"

    client.activity_status("asked-about")
    activities = next_reply(stack, protocol.ACTIVITY_STATUS)["data"]
    assert activities["activities"] == []  # no decider runs in this test
    client.activity_status("asked-about", "ValidateAssetStep")
    one = next_reply(stack, protocol.ACTIVITY_STATUS)["data"]["activity"]
    assert one == {"activityId": "ValidateAssetStep", "status": "NOT_FOUND"}

    client.cancel_job("asked-about")
    cancel = next_reply(stack, protocol.JOB_CANCEL_REQUESTED)
    assert cancel["data"]["workflow"]["runId"] == run_id
    history = stack.swf.get_workflow_execution_history(
        domain=DOMAIN, execution={"workflowId": "asked-about", "runId": run_id}
    )
    assert "WorkflowExecutionCancelRequested" in [
        e["eventType"] for e in history["events"]
    ]

    client.job_status("never-started")
    missing = next_reply(stack, protocol.JOB_STATUS)
    assert missing["jobId"] == "never-started"
    assert missing["data"]["status"] == "NOT_FOUND"

    client.cancel_job("never-started")
    refused = next_reply(stack, protocol.COMMAND_FAILED)
    assert "there is no job 'never-started'" in refused["data"]["reason"]


def test_an_swf_failure_leaves_the_message_for_redelivery(
    stack: Stack, poller: PollerProcess
) -> None:
    # A deprecated domain: SWF refuses every start until an operator acts.
    stack.swf.deprecate_domain(name=DOMAIN)
    stack.client().start_job("while-swf-is-down", example_job())
    poller.wait_for("left on the queue for redelivery")
    assert poller.stop() == 0
    [line] = [entry for entry in poller.log_lines() if entry["jobId"]]
    assert line["outcome"] == "retry"
    assert "Domain is deprecated" in line["reason"]
    # The message is still on the queue (invisible until its timeout ends).
    left = stack.sqs.get_queue_attributes(
        QueueUrl=stack.input_queue,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
        ],
    )["Attributes"]
    assert (
        int(left["ApproximateNumberOfMessages"])
        + int(left["ApproximateNumberOfMessagesNotVisible"])
        == 1
    )
    assert stack.executions("while-swf-is-down") == []


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_idle_exits_zero(
    stack: Stack, poller: PollerProcess, signal_number: int
) -> None:
    assert poller.stop(signal_number) == 0
    assert "input poller stopped" in poller.stderr


def test_a_missing_queue_is_a_clear_error(stack: Stack) -> None:
    process = PollerProcess(
        ["--queue", "http://127.0.0.1/local/000000000000/nope", "--db", str(stack.db)]
    )
    assert process.process.wait(timeout=60) == 1
    process.stop()
    assert (
        "the input queue http://127.0.0.1/local/000000000000/nope does not exist"
        in (process.stderr)
    )
    assert "Traceback" not in process.stderr


def test_no_queue_is_a_usage_error(stack: Stack) -> None:
    process = PollerProcess(["--db", str(stack.db)], env={"INPUT_QUEUE": ""})
    assert process.process.wait(timeout=60) == 2
    process.stop()
    assert "--queue URL" in process.stderr


def test_the_environment_of_the_original_configures_a_client(stack: Stack) -> None:
    """INPUT_QUEUE and OUTPUT_QUEUE as the original's `-n` mode read them; the
    client and the workflow then need not be in every message."""
    process = PollerProcess(
        ["--db", str(stack.db), "--domain", DOMAIN, "--wait", "1"],
        env={
            "INPUT_QUEUE": stack.input_queue,
            "OUTPUT_QUEUE": stack.output_queue,
            "CLIENT_NAME": "ClientA",
            "CPE_DEFAULT_WORKFLOW": "Engine:1",
        },
    )
    process.wait_for("input poller reading")
    send_raw(
        stack,
        json.dumps({"type": "START_JOB", "jobId": "bare", "data": {"mode": "ok"}}),
    )
    scheduled = next_reply(stack)
    assert scheduled["type"] == protocol.WORKFLOW_SCHEDULED
    assert scheduled["workflowType"] == {"name": "Engine", "version": "1"}
    assert scheduled["input"] == {"mode": "ok", "client": client_config()}

    send_raw(stack, "<xml/>")
    refused = next_reply(stack)
    assert refused["type"] == protocol.COMMAND_FAILED
    assert refused["data"]["message"] == "<xml/>"

    assert process.stop() == 0
    assert "START_JOB job bare: done, replied WORKFLOW_SCHEDULED" in process.stderr
    assert "message job -: refused (the message is not JSON" in process.stderr
