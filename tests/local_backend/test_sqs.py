"""SQS: queues, send/receive, visibility, receipt handles, dead letters."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from cpe.runtime.backends.local import LocalSQS

from .helpers import FakeClock, conforms


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def receive(sqs: LocalSQS, url: str, **params: Any) -> list[dict[str, Any]]:
    response = sqs.receive_message(QueueUrl=url, **params)
    conforms("sqs", "ReceiveMessage", response)
    if not response:
        return []
    assert response["Messages"], "boto3 never returns an empty Messages list"
    messages: list[dict[str, Any]] = response["Messages"]
    return messages


def test_queue_lifecycle(sqs: LocalSQS) -> None:
    created = sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "5"})
    conforms("sqs", "CreateQueue", created)
    url = created["QueueUrl"]
    assert url == "http://127.0.0.1/local/000000000000/jobs"
    # Same attributes: the same queue; different ones: refused.
    assert (
        sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "5"})
        == created
    )
    with pytest.raises(sqs.exceptions.QueueNameExists) as err:
        sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "6"})
    assert code(err) == "QueueAlreadyExists"
    assert sqs.get_queue_url(QueueName="jobs") == {"QueueUrl": url}
    sqs.create_queue(QueueName="other")
    listed = sqs.list_queues()
    conforms("sqs", "ListQueues", listed)
    assert listed["QueueUrls"] == [url, "http://127.0.0.1/local/000000000000/other"]
    assert sqs.list_queues(QueueNamePrefix="ot")["QueueUrls"][0].endswith("/other")
    page = sqs.list_queues(MaxResults=1)
    assert len(page["QueueUrls"]) == 1
    rest = sqs.list_queues(MaxResults=1, NextToken=page["NextToken"])
    assert rest["QueueUrls"][0].endswith("/other")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as err:
        sqs.get_queue_url(QueueName="jobs")
    assert code(err) == "AWS.SimpleQueueService.NonExistentQueue"
    assert err.value.operation_name == "GetQueueUrl"
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName="other")["QueueUrl"])
    assert sqs.list_queues() == {}


def test_bad_queue_requests(sqs: LocalSQS) -> None:
    with pytest.raises(ParamValidationError):
        sqs.create_queue()
    with pytest.raises(ClientError) as err:
        sqs.create_queue(QueueName="bad name")
    assert code(err) == "InvalidParameterValue"
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.create_queue(QueueName="q", Attributes={"Colour": "blue"})
    with pytest.raises(sqs.exceptions.InvalidAttributeValue):
        sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "99999"})
    with pytest.raises(sqs.exceptions.InvalidAttributeValue):
        sqs.create_queue(
            QueueName="q",
            Attributes={
                "RedrivePolicy": json.dumps(
                    {
                        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:0:none",
                        "maxReceiveCount": 1,
                    }
                )
            },
        )
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(
            QueueUrl="http://127.0.0.1/local/000000000000/none", MessageBody="x"
        )


def test_aws_urls_address_local_queues(sqs: LocalSQS) -> None:
    sqs.create_queue(QueueName="cloudtranscode-test-output")
    aws = "https://sqs.us-east-1.amazonaws.com/000000000000/cloudtranscode-test-output"
    sqs.send_message(QueueUrl=aws, MessageBody="hello")
    assert [m["Body"] for m in receive(sqs, aws)] == ["hello"]


def test_send_receive_delete(sqs: LocalSQS, clock: FakeClock) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="héllo")
    conforms("sqs", "SendMessage", sent)
    assert sent["MD5OfMessageBody"] == hashlib.md5("héllo".encode()).hexdigest()
    [msg] = receive(
        sqs,
        url,
        AttributeNames=["ApproximateReceiveCount"],
        MessageSystemAttributeNames=[
            "SentTimestamp",
            "ApproximateFirstReceiveTimestamp",
        ],
    )
    assert msg["Body"] == "héllo"
    assert msg["MessageId"] == sent["MessageId"]
    assert msg["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert msg["Attributes"] == {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": str(int(clock.now * 1000)),
        "ApproximateFirstReceiveTimestamp": str(int(clock.now * 1000)),
    }
    assert receive(sqs, url) == []  # invisible for the queue's 30 s
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    clock.advance(31)
    assert receive(sqs, url) == []
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid) as err:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage!")
    assert code(err) == "ReceiptHandleIsInvalid"


def test_visibility_and_receipt_handles(sqs: LocalSQS, clock: FakeClock) -> None:
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "10"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    [first] = receive(sqs, url)
    clock.advance(10)
    [second] = receive(sqs, url, AttributeNames=["All"], VisibilityTimeout=100)
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert set(second["Attributes"]) == {
        "SenderId",
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
    }
    # The old handle no longer deletes it.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    with pytest.raises(ClientError) as stale:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
        )
    assert code(stale) == "InvalidParameterValue"
    clock.advance(50)
    assert receive(sqs, url) == []
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0
    )
    [third] = receive(sqs, url)
    assert third["MessageId"] == second["MessageId"]
    clock.advance(10)
    with pytest.raises(sqs.exceptions.MessageNotInflight):
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=third["ReceiptHandle"], VisibilityTimeout=5
        )
    with pytest.raises(ClientError) as err:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=third["ReceiptHandle"], VisibilityTimeout=50000
        )
    assert code(err) == "InvalidParameterValue"


def test_delay_and_attributes_counts(sqs: LocalSQS, clock: FakeClock) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="now")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    sqs.send_message(QueueUrl=url, MessageBody="taken")
    receive(sqs, url)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    conforms("sqs", "GetQueueAttributes", attrs)
    a = attrs["Attributes"]
    assert (
        a["ApproximateNumberOfMessages"],
        a["ApproximateNumberOfMessagesNotVisible"],
        a["ApproximateNumberOfMessagesDelayed"],
    ) == ("1", "1", "1")
    assert a["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:q"
    assert a["VisibilityTimeout"] == "30"
    assert sqs.get_queue_attributes(QueueUrl=url) == {}
    only = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])
    assert only == {"Attributes": {"DelaySeconds": "0"}}
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Nope"])
    clock.advance(60)
    bodies = {m["Body"] for m in receive(sqs, url, MaxNumberOfMessages=10)}
    # 60 s is past the 30 s visibility timeout too.
    assert bodies == {"now", "later", "taken"}
    with pytest.raises(ClientError) as err:
        receive(sqs, url, MaxNumberOfMessages=11)
    assert code(err) == "InvalidParameterValue"
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    with pytest.raises(sqs.exceptions.InvalidMessageContents):
        sqs.send_message(QueueUrl=url, MessageBody="bad \x00 char")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "60"})
    sqs.send_message(QueueUrl=url, MessageBody="expires")
    clock.advance(61)
    counts = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert counts == {"Attributes": {"ApproximateNumberOfMessages": "0"}}


def test_message_attributes(sqs: LocalSQS) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    attributes = {
        "kind": {"DataType": "String", "StringValue": "job"},
        "n": {"DataType": "Number", "StringValue": "3"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }
    sent = sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes=attributes)
    [msg] = receive(sqs, url, MessageAttributeNames=["All"], VisibilityTimeout=0)
    assert msg["MessageAttributes"] == attributes
    assert msg["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    [plain] = receive(sqs, url, VisibilityTimeout=0)
    assert "MessageAttributes" not in plain and "Attributes" not in plain
    [some] = receive(sqs, url, MessageAttributeNames=["kind"])
    assert set(some["MessageAttributes"]) == {"kind"}


def test_digests_match_real_sqs_via_moto(
    monkeypatch: pytest.MonkeyPatch, sqs: LocalSQS
) -> None:
    """moto reproduces AWS's digests; ours must agree on the same message."""
    moto = pytest.importorskip("moto")
    import boto3

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    attributes = {
        "a": {"DataType": "String", "StringValue": "x"},
        "b": {"DataType": "Number.int", "StringValue": "12"},
        "c": {"DataType": "Binary", "BinaryValue": b"\xff\x00"},
    }
    with moto.mock_aws():
        real = boto3.client("sqs", region_name="us-east-1")
        real_url = real.create_queue(QueueName="q")["QueueUrl"]
        expected = real.send_message(
            QueueUrl=real_url, MessageBody="body ✓", MessageAttributes=attributes
        )
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    got = sqs.send_message(
        QueueUrl=url, MessageBody="body ✓", MessageAttributes=attributes
    )
    assert got["MD5OfMessageBody"] == expected["MD5OfMessageBody"]
    assert got["MD5OfMessageAttributes"] == expected["MD5OfMessageAttributes"]


def test_batches(sqs: LocalSQS) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sent = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": "1"},
            {"Id": "b", "MessageBody": "2", "DelaySeconds": 5000},
            {"Id": "c", "MessageBody": "3"},
        ],
    )
    conforms("sqs", "SendMessageBatch", sent)
    assert [s["Id"] for s in sent["Successful"]] == ["a", "c"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in sent["Failed"]] == [
        ("b", "InvalidParameterValue", True)
    ]
    with pytest.raises(sqs.exceptions.EmptyBatchRequest):
        sqs.send_message_batch(QueueUrl=url, Entries=[])
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)],
        )
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": "x", "MessageBody": "x"}] * 2
        )
    with pytest.raises(sqs.exceptions.InvalidBatchEntryId):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": "no spaces", "MessageBody": "x"}]
        )
    messages = receive(sqs, url, MaxNumberOfMessages=10)
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
        ]
        + [{"Id": "bad", "ReceiptHandle": "???"}],
    )
    conforms("sqs", "DeleteMessageBatch", deleted)
    assert len(deleted["Successful"]) == 2
    assert [f["Code"] for f in deleted["Failed"]] == ["ReceiptHandleIsInvalid"]
    assert receive(sqs, url, VisibilityTimeout=0) == []


def test_dead_letter_queue(sqs: LocalSQS, clock: FakeClock) -> None:
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    url = sqs.create_queue(
        QueueName="work",
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": arn, "maxReceiveCount": "2"}
            ),
        },
    )["QueueUrl"]
    policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
    assert json.loads(policy["Attributes"]["RedrivePolicy"])["maxReceiveCount"] == 2
    sent = sqs.send_message(QueueUrl=url, MessageBody="poison")
    for _ in range(2):
        [m] = receive(sqs, url)
        assert m["MessageId"] == sent["MessageId"]
        clock.advance(1)
    assert receive(sqs, url) == []
    [dead] = receive(sqs, dlq, AttributeNames=["ApproximateReceiveCount"])
    assert dead["MessageId"] == sent["MessageId"]
    assert dead["Body"] == "poison"


def test_zero_visibility_returns_each_message_once(sqs: LocalSQS) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")
    got = receive(sqs, url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert sorted(m["Body"] for m in got) == ["a", "b"]
    again = receive(sqs, url, MaxNumberOfMessages=10, AttributeNames=["All"])
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in again] == ["2", "2"]


def test_purge(sqs: LocalSQS) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    assert receive(sqs, url) == []


def test_long_poll_waits_then_returns_empty(sqs: LocalSQS) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    began = time.monotonic()
    assert receive(sqs, url, WaitTimeSeconds=1) == []
    assert time.monotonic() - began >= 0.95
    with pytest.raises(ClientError):
        receive(sqs, url, WaitTimeSeconds=21)
