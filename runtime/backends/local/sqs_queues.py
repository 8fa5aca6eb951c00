"""SQS queues: names, URLs, attributes."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from botocore.exceptions import ClientError

from cpe.runtime.backends.local.errors import sqs_error
from cpe.runtime.backends.local.store import Tx

ACCOUNT = "000000000000"
REGION = "us-east-1"
# Only an identifier: nothing listens there.
URL_PREFIX = f"http://127.0.0.1/local/{ACCOUNT}/"

DEFAULTS: dict[str, str] = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "262144",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
}
# Settable integer attributes and their allowed range.
_RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 262144),
    "MessageRetentionPeriod": (60, 1209600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43200),
    "KmsDataKeyReusePeriodSeconds": (60, 86400),
}
# Accepted and stored, with no effect on the embedded backend.
_OPAQUE = frozenset(
    {"Policy", "RedriveAllowPolicy", "KmsMasterKeyId", "SqsManagedSseEnabled"}
)
COMPUTED = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def url_of(name: str) -> str:
    return URL_PREFIX + name


def arn_of(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def name_of_url(url: str) -> str:
    # Any URL ending in a queue's name addresses it, so a configuration
    # written for AWS works unchanged once the queue exists here.
    return url.rstrip("/").rsplit("/", 1)[-1]


def invalid(tx: Tx, message: str) -> ClientError:
    return sqs_error("InvalidParameterValue", message, tx.operation)


def require_queue(tx: Tx, url: str) -> sqlite3.Row:
    row: sqlite3.Row | None = tx.db.execute(
        "SELECT * FROM sqs_queues WHERE name = ?", (name_of_url(url),)
    ).fetchone()
    if row is None:
        raise sqs_error(
            "QueueDoesNotExist", "The specified queue does not exist.", tx.operation
        )
    return row


def attributes(row: sqlite3.Row) -> dict[str, str]:
    """Settable attributes with defaults filled in."""
    stored: dict[str, str] = json.loads(row["attrs"])
    return {**DEFAULTS, **stored}


def redrive(row: sqlite3.Row) -> tuple[str, int] | None:
    """(dead-letter queue name, maxReceiveCount) when the queue has one."""
    raw = attributes(row).get("RedrivePolicy")
    if not raw:
        return None
    policy = json.loads(raw)
    return str(policy["deadLetterTargetArn"]).rsplit(":", 1)[-1], int(
        policy["maxReceiveCount"]
    )


def check_attributes(tx: Tx, attrs: dict[str, str]) -> dict[str, str]:
    """Validated, normalised settable attributes."""
    clean: dict[str, str] = {}
    for name, value in attrs.items():
        if name in _RANGES:
            low, high = _RANGES[name]
            if not value.strip().lstrip("-").isdigit() or not (
                low <= int(value) <= high
            ):
                raise sqs_error(
                    "InvalidAttributeValue",
                    f"Invalid value for the parameter {name}: must be an integer "
                    f"from {low} to {high}.",
                    tx.operation,
                )
            clean[name] = str(int(value))
        elif name == "RedrivePolicy":
            clean[name] = _check_redrive(tx, value)
        elif name in _OPAQUE:
            clean[name] = value
        elif name in ("FifoQueue", "ContentBasedDeduplication"):
            if value.lower() == "true":
                raise sqs_error(
                    "UnsupportedOperation",
                    "FIFO queues are not supported by the embedded backend.",
                    tx.operation,
                )
        else:
            raise sqs_error(
                "InvalidAttributeName", f"Unknown Attribute {name}.", tx.operation
            )
    return clean


def _check_redrive(tx: Tx, value: str) -> str:
    if value == "":
        return ""
    try:
        policy = json.loads(value)
        target = str(policy["deadLetterTargetArn"])
        count = int(policy["maxReceiveCount"])
    except (ValueError, KeyError, TypeError) as exc:
        raise sqs_error(
            "InvalidAttributeValue",
            "Value for parameter RedrivePolicy is invalid. Reason: expected JSON "
            "with deadLetterTargetArn and maxReceiveCount.",
            tx.operation,
        ) from exc
    if not 1 <= count <= 1000:
        raise sqs_error(
            "InvalidAttributeValue",
            "Value for parameter RedrivePolicy is invalid. Reason: maxReceiveCount "
            "must be from 1 to 1000.",
            tx.operation,
        )
    exists = tx.db.execute(
        "SELECT 1 FROM sqs_queues WHERE name = ?", (target.rsplit(":", 1)[-1],)
    ).fetchone()
    if not exists:
        raise sqs_error(
            "InvalidAttributeValue",
            "Value for parameter RedrivePolicy is invalid. Reason: Dead letter "
            "target does not exist.",
            tx.operation,
        )
    return json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": count})


def create_queue(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    name: str = p["QueueName"]
    if name.endswith(".fifo"):
        raise sqs_error(
            "UnsupportedOperation",
            "FIFO queues are not supported by the embedded backend.",
            tx.operation,
        )
    if not _NAME.match(name):
        raise invalid(
            tx,
            "Can only include alphanumeric characters, hyphens, or underscores. "
            "1 to 80 in length",
        )
    wanted = check_attributes(tx, p.get("Attributes", {}))
    row = tx.db.execute("SELECT * FROM sqs_queues WHERE name = ?", (name,)).fetchone()
    if row is not None:
        current = attributes(row)
        if any(current.get(k, "") != v for k, v in wanted.items()):
            raise sqs_error(
                "QueueNameExists",
                "A queue already exists with the same name and a different value "
                "for attribute(s)",
                tx.operation,
            )
        return {"QueueUrl": url_of(name)}
    tx.db.execute(
        "INSERT INTO sqs_queues (name, created, modified, attrs, tags) "
        "VALUES (?, ?, ?, ?, ?)",
        (name, tx.now, tx.now, json.dumps(wanted), json.dumps(p.get("tags", {}))),
    )
    return {"QueueUrl": url_of(name)}


def get_queue_url(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    row = require_queue(tx, p["QueueName"])
    return {"QueueUrl": url_of(row["name"])}


def delete_queue(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    row = require_queue(tx, p["QueueUrl"])
    tx.db.execute("DELETE FROM sqs_messages WHERE queue = ?", (row["name"],))
    tx.db.execute("DELETE FROM sqs_queues WHERE name = ?", (row["name"],))
    return {}


def list_queues(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    prefix: str = p.get("QueueNamePrefix", "")
    limit: int | None = p.get("MaxResults")
    if limit is not None and not 1 <= limit <= 1000:
        raise invalid(tx, "MaxResults must be from 1 to 1000.")
    after: str = p.get("NextToken", "")
    rows = tx.db.execute(
        "SELECT name FROM sqs_queues WHERE substr(name, 1, ?) = ? AND name > ? "
        "ORDER BY name",
        (len(prefix), prefix, after),
    ).fetchall()
    names = [r["name"] for r in rows]
    result: dict[str, Any] = {}
    if limit is not None and len(names) > limit:
        names = names[:limit]
        result["NextToken"] = names[-1]
    if names:
        result["QueueUrls"] = [url_of(n) for n in names]
    return result


def set_queue_attributes(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    row = require_queue(tx, p["QueueUrl"])
    stored: dict[str, str] = json.loads(row["attrs"])
    stored.update(check_attributes(tx, p["Attributes"]))
    tx.db.execute(
        "UPDATE sqs_queues SET attrs = ?, modified = ? WHERE name = ?",
        (json.dumps(stored), tx.now, row["name"]),
    )
    return {}
