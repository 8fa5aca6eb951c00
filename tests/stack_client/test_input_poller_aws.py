"""`cpec input-poller --backend aws` as a process, against moto's server on
127.0.0.1 (started and stopped by the test; no request leaves the machine)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from cpe.compiler import compile_file
from cpe.runtime import protocol
from cpe.runtime.client import CpeClient
from cpe.runtime.registration import ensure_domain, ensure_types

from .conftest import DOMAIN, EXAMPLE_PLAN, PollerProcess, example_job

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    yield endpoint
    server.stop()


@pytest.fixture
def aws_client(moto_endpoint: str) -> CpeClient:
    swf = boto3.client("swf", endpoint_url=moto_endpoint)
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    ensure_domain(swf, DOMAIN)
    ensure_types(swf, DOMAIN, compile_file(EXAMPLE_PLAN))
    input_queue = sqs.create_queue(QueueName="cloudtranscode-test-input")["QueueUrl"]
    output_queue = sqs.create_queue(QueueName="cloudtranscode-test-output")["QueueUrl"]
    return CpeClient(sqs, input_queue, output_queue, name="ClientA")


@pytest.fixture
def aws_poller(aws_client: CpeClient, moto_endpoint: str) -> Iterator[PollerProcess]:
    process = PollerProcess(
        ["--backend", "aws", "--domain", DOMAIN, "--wait", "1", "--log-format", "json"],
        env={
            "INPUT_QUEUE": aws_client.input_queue_url,
            "AWS_ENDPOINT_URL": moto_endpoint,
        },
    )
    process.wait_for("input poller reading")
    yield process
    process.stop()


def next_of(client: CpeClient, kind: str) -> dict[str, Any]:
    message = client.wait_for(kind, wait=30)
    assert message is not None, f"no {kind} came on the output queue"
    return message


def test_the_input_poller_serves_a_client_on_aws(
    aws_client: CpeClient, aws_poller: PollerProcess
) -> None:
    aws_client.start_job("aws-video1", example_job())
    scheduled = next_of(aws_client, protocol.WORKFLOW_SCHEDULED)
    assert scheduled["workflowId"] == "aws-video1"
    assert scheduled["alreadyStarted"] is False

    aws_client.start_job("aws-video1", example_job())
    again = next_of(aws_client, protocol.WORKFLOW_SCHEDULED)
    assert again["runId"] == scheduled["runId"]
    assert again["alreadyStarted"] is True

    aws_client.sqs.send_message(
        QueueUrl=aws_client.input_queue_url,
        MessageBody=json.dumps(
            {"type": "START_JOB", "data": {"client": aws_client.client}}
        ),
    )
    refused = next_of(aws_client, protocol.COMMAND_FAILED)
    assert "needs a 'jobId'" in refused["data"]["reason"]

    aws_client.job_status("aws-video1")
    status = next_of(aws_client, protocol.JOB_STATUS)
    assert status["data"]["status"] == "OPEN"
    assert status["data"]["workflow"]["runId"] == scheduled["runId"]

    aws_client.job_list()
    listed = next_of(aws_client, protocol.JOB_LIST)
    assert [job["jobId"] for job in listed["data"]["jobs"]] == ["aws-video1"]

    # moto's SWF does not implement RequestCancelWorkflowExecution: it answers
    # 500, which is SWF failing, so the command stays on the queue.
    aws_client.cancel_job("aws-video1")
    aws_poller.wait_for("left on the queue for redelivery")

    assert aws_poller.stop() == 0
    outcomes = [line["outcome"] for line in aws_poller.log_lines()]
    assert outcomes == ["done", "done", "refused", "done", "done", "retry"]
    left = aws_client.sqs.get_queue_attributes(
        QueueUrl=aws_client.input_queue_url,
        AttributeNames=["ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert left["ApproximateNumberOfMessagesNotVisible"] == "1"
