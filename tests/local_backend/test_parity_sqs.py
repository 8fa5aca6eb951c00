"""SQS semantics the runtime relies on, asserted alike on the embedded backend and moto.

Each test takes `both` and so runs on both backends (see conftest.py); the
ones marked local_only name where moto departs from SQS.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import Both


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _queue(sqs: Any, name: str = "work", **attributes: str) -> str:
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


def _attribute(sqs: Any, url: str, name: str) -> str:
    value: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])[
        "Attributes"
    ][name]
    return value


def _receive(sqs: Any, url: str, **params: Any) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(QueueUrl=url, **params).get(
        "Messages", []
    )
    return messages


def test_queue_lifecycle_and_attributes(both: Both) -> None:
    sqs = both.sqs
    dead = _queue(sqs, "work-dead")
    dead_arn = _attribute(sqs, dead, "QueueArn")
    policy = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 3})
    url = _queue(
        sqs,
        "work",
        VisibilityTimeout="45",
        MessageRetentionPeriod="600",
        DelaySeconds="2",
        ReceiveMessageWaitTimeSeconds="1",
        RedrivePolicy=policy,
    )
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert got["VisibilityTimeout"] == "45"
    assert got["MessageRetentionPeriod"] == "600"
    assert got["DelaySeconds"] == "2"
    assert got["ReceiveMessageWaitTimeSeconds"] == "1"
    assert json.loads(got["RedrivePolicy"]) == json.loads(policy)
    assert sqs.get_queue_url(QueueName="work")["QueueUrl"] == url
    # Creating it again with the same attributes gives the same queue.
    assert _queue(sqs, "work", VisibilityTimeout="45", DelaySeconds="2",
                  MessageRetentionPeriod="600", ReceiveMessageWaitTimeSeconds="1",
                  RedrivePolicy=policy) == url  # fmt: skip
    listed = sqs.list_queues(QueueNamePrefix="work")["QueueUrls"]
    assert sorted(listed) == sorted([url, dead])
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as exc:
        sqs.get_queue_url(QueueName="work")
    assert _code(exc) == "AWS.SimpleQueueService.NonExistentQueue"
    assert sqs.list_queues(QueueNamePrefix="work")["QueueUrls"] == [dead]


def test_send_receive_with_attributes(both: Both) -> None:
    sqs = both.sqs
    url = _queue(sqs)
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "greeting"},
            "size": {"DataType": "Number", "StringValue": "5"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    both.clock.advance(1)
    (message,) = _receive(
        sqs,
        url,
        AttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
        MessageAttributeNames=["All"],
    )
    assert message["MessageId"] == sent["MessageId"]
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["MessageAttributes"]["raw"]["BinaryValue"] == b"\x00\x01"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert message["Attributes"]["SentTimestamp"] == str(
        int((both.clock.now - 1) * 1000)
    )


def test_visibility_timeout_and_receive_count(both: Both) -> None:
    sqs = both.sqs
    url = _queue(sqs, VisibilityTimeout="30")
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
    first = _receive(sqs, url, MaxNumberOfMessages=10, VisibilityTimeout=10)
    assert sorted(m["Body"] for m in first) == ["m0", "m1", "m2"]
    assert _receive(sqs, url, MaxNumberOfMessages=10) == []
    both.clock.advance(11)
    again = _receive(
        sqs, url, MaxNumberOfMessages=2, AttributeNames=["ApproximateReceiveCount"]
    )
    assert len(again) == 2
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in again} == {"2"}


def test_delay_seconds(both: Both) -> None:
    sqs = both.sqs
    url = _queue(sqs, DelaySeconds="5")
    sqs.send_message(QueueUrl=url, MessageBody="late")
    sqs.send_message(QueueUrl=url, MessageBody="now", DelaySeconds=0)
    assert [m["Body"] for m in _receive(sqs, url, MaxNumberOfMessages=10)] == ["now"]
    both.clock.advance(6)
    assert [m["Body"] for m in _receive(sqs, url)] == ["late"]


@pytest.mark.local_only(
    "moto's long poll waits on the clock these tests freeze, so it would never end"
)
def test_long_poll_returns_empty_after_its_wait(both: Both) -> None:
    sqs = both.sqs
    url = _queue(sqs)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1) == {}


def test_send_batch_with_a_failed_entry(both: Both) -> None:
    sqs = both.sqs
    url = _queue(sqs)
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "good", "MessageBody": "fine"},
            {"Id": "bad", "MessageBody": "fine", "DelaySeconds": 1000},
        ],
    )
    assert [s["Id"] for s in result["Successful"]] == ["good"]
    assert [f["Id"] for f in result["Failed"]] == ["bad"]
    assert result["Failed"][0]["SenderFault"] is True
    assert [m["Body"] for m in _receive(sqs, url, MaxNumberOfMessages=10)] == ["fine"]


def test_delete_and_change_visibility_by_receipt(both: Both) -> None:
    sqs = both.sqs
    url = _queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")
    a, b = sorted(_receive(sqs, url, MaxNumberOfMessages=10), key=lambda m: m["Body"])
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=b["ReceiptHandle"], VisibilityTimeout=0
    )
    # A moment later (moto counts a message visible only after its instant),
    # well within the queue's 30 s, b is back and a is not.
    both.clock.advance(1)
    (b_again,) = _receive(sqs, url)
    assert b_again["Body"] == "b"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=a["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=b_again["ReceiptHandle"])
    both.clock.advance(31)
    assert _receive(sqs, url, MaxNumberOfMessages=10) == []


def test_bad_receipt_handles(both: Both) -> None:
    sqs = both.sqs
    url = _queue(sqs)
    with pytest.raises(ClientError) as exc:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    assert _code(exc) == "ReceiptHandleIsInvalid"
    with pytest.raises(ClientError) as exc:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle="not-a-handle", VisibilityTimeout=5
        )
    assert _code(exc) == "ReceiptHandleIsInvalid"


@pytest.mark.local_only(
    "moto deletes a message with any receipt handle it ever had; SQS documents "
    "that only the latest one deletes it (an older one succeeds doing nothing)"
)
def test_stale_receipt_handles(both: Both) -> None:
    sqs = both.sqs
    url = _queue(sqs, VisibilityTimeout="10")
    sqs.send_message(QueueUrl=url, MessageBody="m")
    (first,) = _receive(sqs, url)
    both.clock.advance(11)
    (second,) = _receive(sqs, url)
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    # The superseded handle deletes nothing, and reports no error.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    both.clock.advance(11)
    (third,) = _receive(sqs, url)
    assert third["Body"] == "m"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"])
    both.clock.advance(11)
    assert _receive(sqs, url) == []


@pytest.mark.local_only(
    "moto answers ReceiptHandleIsInvalid here; SQS answers InvalidParameterValue "
    "(Message does not exist or is not available for visibility timeout change)"
)
def test_visibility_change_of_a_deleted_message(both: Both) -> None:
    sqs = both.sqs
    url = _queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="m")
    (message,) = _receive(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    with pytest.raises(ClientError) as exc:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=5
        )
    assert _code(exc) == "InvalidParameterValue"


def test_batch_delete_and_visibility_report_bad_handles(both: Both) -> None:
    sqs = both.sqs
    url = _queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="a")
    (a,) = _receive(sqs, url)
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok", "ReceiptHandle": a["ReceiptHandle"], "VisibilityTimeout": 60},
            {"Id": "bad", "ReceiptHandle": "junk", "VisibilityTimeout": 60},
        ],
    )
    assert [s["Id"] for s in changed["Successful"]] == ["ok"]
    assert [(f["Id"], f["Code"]) for f in changed["Failed"]] == [
        ("bad", "ReceiptHandleIsInvalid")
    ]
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok", "ReceiptHandle": a["ReceiptHandle"]},
            {"Id": "bad", "ReceiptHandle": "junk"},
        ],
    )
    assert [s["Id"] for s in deleted["Successful"]] == ["ok"]
    assert [f["Id"] for f in deleted["Failed"]] == ["bad"]
    both.clock.advance(61)
    assert _receive(sqs, url) == []


def test_batch_delete(both: Both) -> None:
    sqs = both.sqs
    url = _queue(sqs)
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    got = _receive(sqs, url, MaxNumberOfMessages=10)
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": f"e{i}", "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(got)
        ],
    )
    assert sorted(s["Id"] for s in deleted["Successful"]) == ["e0", "e1", "e2"]
    both.clock.advance(31)
    assert _receive(sqs, url) == []


def test_purge(both: Both) -> None:
    sqs = both.sqs
    url = _queue(sqs)
    for n in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    sqs.purge_queue(QueueUrl=url)
    assert _receive(sqs, url, MaxNumberOfMessages=10) == []
    assert _attribute(sqs, url, "ApproximateNumberOfMessages") == "0"


def test_redrive_after_max_receive_count(both: Both) -> None:
    sqs = both.sqs
    dead = _queue(sqs, "work-dead")
    policy = {
        "deadLetterTargetArn": _attribute(sqs, dead, "QueueArn"),
        "maxReceiveCount": 2,
    }
    url = _queue(sqs, "work", VisibilityTimeout="5", RedrivePolicy=json.dumps(policy))
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    for _ in range(2):
        assert [m["Body"] for m in _receive(sqs, url)] == ["poison"]
        both.clock.advance(6)
    # Received maxReceiveCount times and never deleted: it moves over.
    assert _receive(sqs, url) == []
    assert [m["Body"] for m in _receive(sqs, dead)] == ["poison"]


@pytest.mark.local_only(
    "moto ends a receive at the first expired message, so the younger ones "
    "behind it are not returned; SQS drops only the expired message"
)
def test_retention(both: Both) -> None:
    sqs = both.sqs
    url = _queue(sqs, MessageRetentionPeriod="60")
    sqs.send_message(QueueUrl=url, MessageBody="old")
    both.clock.advance(30)
    sqs.send_message(QueueUrl=url, MessageBody="young")
    both.clock.advance(31)
    assert [m["Body"] for m in _receive(sqs, url, MaxNumberOfMessages=10)] == ["young"]
