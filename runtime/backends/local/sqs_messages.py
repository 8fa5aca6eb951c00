"""SQS messages: send, receive with visibility timeouts, delete, dead letters."""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import sqlite3
import uuid
from typing import Any

from cpe.runtime.backends.local import sqs_queues
from cpe.runtime.backends.local.errors import sqs_error
from cpe.runtime.backends.local.sqs_md5 import md5_of_attributes, md5_of_body
from cpe.runtime.backends.local.sqs_queues import attributes, invalid, require_queue
from cpe.runtime.backends.local.store import Tx

SYSTEM_ATTRIBUTES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
)
# The characters SQS accepts in a message body.
_INVALID_BODY = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


# Message attributes: stored as JSON, binary values base64-encoded.


def _check_message_attributes(tx: Tx, attrs: dict[str, Any]) -> None:
    if len(attrs) > 10:
        raise invalid(tx, "Number of message attributes exceeds the limit of 10.")
    for name, attr in attrs.items():
        kind = str(attr["DataType"]).split(".", 1)[0]
        if kind not in ("String", "Number", "Binary"):
            raise invalid(tx, f"The type of message attribute '{name}' is invalid.")
        key = "BinaryValue" if kind == "Binary" else "StringValue"
        if attr.get(key) is None:
            raise invalid(tx, f"Message attribute '{name}' must contain a {key}.")


def _store_attributes(attrs: dict[str, Any]) -> str:
    out: dict[str, dict[str, str]] = {}
    for name, attr in attrs.items():
        entry = {"DataType": str(attr["DataType"])}
        if attr.get("BinaryValue") is not None:
            raw = attr["BinaryValue"]
            blob = raw if isinstance(raw, bytes) else str(raw).encode()
            entry["BinaryValue"] = base64.b64encode(blob).decode()
        else:
            entry["StringValue"] = str(attr["StringValue"])
        out[name] = entry
    return json.dumps(out)


def _load_attributes(raw: str | None) -> dict[str, dict[str, Any]]:
    stored: dict[str, dict[str, Any]] = json.loads(raw) if raw else {}
    for attr in stored.values():
        if "BinaryValue" in attr:
            attr["BinaryValue"] = base64.b64decode(attr["BinaryValue"])
    return stored


def _size(body: str, attrs: dict[str, Any]) -> int:
    total = len(body.encode("utf-8"))
    for name, attr in attrs.items():
        total += len(name.encode()) + len(str(attr["DataType"]).encode())
        value = attr.get("BinaryValue", attr.get("StringValue", ""))
        total += len(value if isinstance(value, bytes) else str(value).encode())
    return total


def _put(tx: Tx, queue: sqlite3.Row, entry: dict[str, Any]) -> dict[str, Any]:
    body: str = entry["MessageBody"]
    msg_attrs: dict[str, Any] = entry.get("MessageAttributes") or {}
    settings = attributes(queue)
    if body == "":
        raise invalid(tx, "The request must contain the parameter MessageBody.")
    if _INVALID_BODY.search(body):
        raise sqs_error(
            "InvalidMessageContents",
            "Invalid characters found. Valid unicode characters are #x9 | #xA | "
            "#xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
            tx.operation,
        )
    _check_message_attributes(tx, msg_attrs)
    limit = int(settings["MaximumMessageSize"])
    if _size(body, msg_attrs) > limit:
        raise invalid(tx, f"Message must be shorter than {limit} bytes.")
    delay = entry.get("DelaySeconds", int(settings["DelaySeconds"]))
    if not 0 <= delay <= 900:
        raise invalid(tx, "DelaySeconds must be from 0 to 900.")
    message_id = str(uuid.uuid4())
    md5 = md5_of_body(body)
    md5_attrs = md5_of_attributes(msg_attrs) if msg_attrs else None
    tx.db.execute(
        "INSERT INTO sqs_messages (queue, message_id, body, md5, msg_attrs, "
        "md5_attrs, sent, visible_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            queue["name"],
            message_id,
            body,
            md5,
            _store_attributes(msg_attrs) if msg_attrs else None,
            md5_attrs,
            tx.now,
            tx.now + delay,
        ),
    )
    result = {"MessageId": message_id, "MD5OfMessageBody": md5}
    if md5_attrs:
        result["MD5OfMessageAttributes"] = md5_attrs
    return result


def send_message(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    return _put(tx, require_queue(tx, p["QueueUrl"]), p)


def _check_batch(tx: Tx, entries: list[dict[str, Any]]) -> None:
    if not entries:
        raise sqs_error(
            "EmptyBatchRequest",
            "There should be at least one SendMessageBatchRequestEntry in the request.",
            tx.operation,
        )
    if len(entries) > 10:
        raise sqs_error(
            "TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are 10. You have sent "
            f"{len(entries)}.",
            tx.operation,
        )
    ids = [e["Id"] for e in entries]
    if len(set(ids)) != len(ids):
        raise sqs_error(
            "BatchEntryIdsNotDistinct", "Id values must be unique.", tx.operation
        )
    for entry_id in ids:
        if not _BATCH_ID.match(entry_id):
            raise sqs_error(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens "
                "and underscores. It can be at most 80 letters long.",
                tx.operation,
            )


def _entry_failure(entry_id: str, exc: Exception) -> dict[str, Any]:
    error = getattr(exc, "response", {}).get("Error", {})
    return {
        "Id": entry_id,
        "SenderFault": True,
        "Code": error.get("Code", "InternalError"),
        "Message": error.get("Message", str(exc)),
    }


def send_message_batch(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    queue = require_queue(tx, p["QueueUrl"])
    entries: list[dict[str, Any]] = p["Entries"]
    _check_batch(tx, entries)
    limit = int(attributes(queue)["MaximumMessageSize"])
    if (
        sum(_size(e["MessageBody"], e.get("MessageAttributes") or {}) for e in entries)
        > limit
    ):
        raise sqs_error(
            "BatchRequestTooLong",
            f"Batch requests cannot be longer than {limit} bytes.",
            tx.operation,
        )
    ok: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for entry in entries:
        try:
            ok.append({"Id": entry["Id"], **_put(tx, queue, entry)})
        except Exception as exc:
            if not hasattr(exc, "response"):
                raise
            failed.append(_entry_failure(entry["Id"], exc))
    return {"Successful": ok, "Failed": failed}


# Receipt handles name the message row and one receive of it.


def _receipt(message: int) -> str:
    raw = f"{message}:{secrets.token_urlsafe(24)}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def _parse_receipt(tx: Tx, handle: str) -> int:
    try:
        message, _nonce = (
            base64.urlsafe_b64decode(handle.encode()).decode().split(":", 1)
        )
        return int(message)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise sqs_error(
            "ReceiptHandleIsInvalid",
            f'The input receipt handle "{handle}" is not a valid receipt handle.',
            tx.operation,
        ) from exc


def expire(tx: Tx, queue: sqlite3.Row) -> None:
    retention = int(attributes(queue)["MessageRetentionPeriod"])
    tx.db.execute(
        "DELETE FROM sqs_messages WHERE queue = ? AND sent <= ?",
        (queue["name"], tx.now - retention),
    )


def _wanted(names: list[str], known: tuple[str, ...]) -> list[str]:
    if "All" in names:
        return list(known)
    return [n for n in known if n in names]


def _message_attributes_wanted(
    stored: dict[str, dict[str, Any]], names: list[str]
) -> dict[str, dict[str, Any]]:
    if not names:
        return {}
    if "All" in names or ".*" in names:
        return stored
    out: dict[str, dict[str, Any]] = {}
    for key, value in stored.items():
        for name in names:
            if key == name or (name.endswith(".*") and key.startswith(name[:-1])):
                out[key] = value
    return out


def receive(tx: Tx, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Messages received now (possibly none); long polling is the caller's loop."""
    queue = require_queue(tx, p["QueueUrl"])
    limit = p.get("MaxNumberOfMessages", 1)
    visibility = p.get("VisibilityTimeout", int(attributes(queue)["VisibilityTimeout"]))
    expire(tx, queue)
    dead_letter = sqs_queues.redrive(queue)
    if dead_letter is not None:
        exists = tx.db.execute(
            "SELECT 1 FROM sqs_queues WHERE name = ?", (dead_letter[0],)
        ).fetchone()
        if not exists:
            dead_letter = None
    system = _wanted(
        list(p.get("AttributeNames", []))
        + list(p.get("MessageSystemAttributeNames", [])),
        SYSTEM_ATTRIBUTES,
    )
    messages: list[dict[str, Any]] = []
    # With VisibilityTimeout=0 a message stays visible; one receive must still
    # return it once only.
    taken: list[int] = []
    while len(messages) < limit:
        row = tx.db.execute(
            "SELECT * FROM sqs_messages WHERE queue = ? AND visible_at <= ? "
            "AND id NOT IN (SELECT value FROM json_each(?)) "
            "ORDER BY visible_at, id LIMIT 1",
            (queue["name"], tx.now, json.dumps(taken)),
        ).fetchone()
        if row is None:
            break
        if dead_letter is not None and row["receive_count"] >= dead_letter[1]:
            # Received maxReceiveCount times without being deleted: this
            # receive moves it to the dead-letter queue instead.
            tx.db.execute(
                "UPDATE sqs_messages SET queue = ?, receive_count = 0, "
                "first_receive = NULL, receipt = NULL, visible_at = ? WHERE id = ?",
                (dead_letter[0], tx.now, row["id"]),
            )
            continue
        taken.append(row["id"])
        receipt = _receipt(row["id"])
        first = row["first_receive"] if row["first_receive"] is not None else tx.now
        count = row["receive_count"] + 1
        tx.db.execute(
            "UPDATE sqs_messages SET receive_count = ?, first_receive = ?, "
            "receipt = ?, visible_at = ? WHERE id = ?",
            (count, first, receipt, tx.now + visibility, row["id"]),
        )
        messages.append(_as_received(row, receipt, count, first, system, p))
    return messages


def _as_received(
    row: sqlite3.Row,
    receipt: str,
    count: int,
    first: float,
    system: list[str],
    p: dict[str, Any],
) -> dict[str, Any]:
    values = {
        "SenderId": sqs_queues.ACCOUNT,
        "SentTimestamp": str(int(row["sent"] * 1000)),
        "ApproximateReceiveCount": str(count),
        "ApproximateFirstReceiveTimestamp": str(int(first * 1000)),
    }
    message: dict[str, Any] = {
        "MessageId": row["message_id"],
        "ReceiptHandle": receipt,
        "MD5OfBody": row["md5"],
        "Body": row["body"],
    }
    if system:
        message["Attributes"] = {name: values[name] for name in system}
    chosen = _message_attributes_wanted(
        _load_attributes(row["msg_attrs"]), list(p.get("MessageAttributeNames", []))
    )
    if chosen:
        message["MessageAttributes"] = chosen
        message["MD5OfMessageAttributes"] = md5_of_attributes(chosen)
    return message


def check_receive(tx: Tx, p: dict[str, Any]) -> None:
    if not 1 <= p.get("MaxNumberOfMessages", 1) <= 10:
        raise invalid(
            tx,
            "Value for parameter MaxNumberOfMessages is invalid. "
            "Reason: Must be between 1 and 10, if provided.",
        )
    if not 0 <= p.get("WaitTimeSeconds", 0) <= 20:
        raise invalid(
            tx,
            "Value for parameter WaitTimeSeconds is invalid. "
            "Reason: Must be >= 0 and <= 20, if provided.",
        )
    if not 0 <= p.get("VisibilityTimeout", 0) <= 43200:
        raise invalid(
            tx,
            "Value for parameter VisibilityTimeout is invalid. "
            "Reason: Must be >= 0 and <= 43200, if provided.",
        )


def _current(tx: Tx, queue: sqlite3.Row, handle: str) -> sqlite3.Row | None:
    message = _parse_receipt(tx, handle)
    row: sqlite3.Row | None = tx.db.execute(
        "SELECT * FROM sqs_messages WHERE id = ? AND queue = ? AND receipt = ?",
        (message, queue["name"], handle),
    ).fetchone()
    return row


def delete_message(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    queue = require_queue(tx, p["QueueUrl"])
    row = _current(tx, queue, p["ReceiptHandle"])
    # A stale but well-formed handle succeeds without effect, as on SQS.
    if row is not None:
        tx.db.execute("DELETE FROM sqs_messages WHERE id = ?", (row["id"],))
    return {}


def change_visibility(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    queue = require_queue(tx, p["QueueUrl"])
    timeout = p["VisibilityTimeout"]
    if not 0 <= timeout <= 43200:
        raise invalid(
            tx,
            "Value for parameter VisibilityTimeout is invalid. "
            "Reason: Must be >= 0 and <= 43200.",
        )
    row = _current(tx, queue, p["ReceiptHandle"])
    if row is None:
        # Well-formed, but its message was deleted or received again since:
        # SQS answers this way rather than with ReceiptHandleIsInvalid.
        raise invalid(
            tx,
            f"Value {p['ReceiptHandle']} for parameter ReceiptHandle is invalid. "
            "Reason: Message does not exist or is not available for visibility "
            "timeout change.",
        )
    if row["visible_at"] <= tx.now:
        raise sqs_error(
            "MessageNotInflight", "The message is not in flight.", tx.operation
        )
    tx.db.execute(
        "UPDATE sqs_messages SET visible_at = ? WHERE id = ?",
        (tx.now + timeout, row["id"]),
    )
    return {}


def batch(tx: Tx, p: dict[str, Any], one: Any) -> dict[str, Any]:
    """delete_message_batch / change_message_visibility_batch."""
    entries: list[dict[str, Any]] = p["Entries"]
    require_queue(tx, p["QueueUrl"])
    _check_batch(tx, entries)
    ok: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for entry in entries:
        try:
            one(tx, {"QueueUrl": p["QueueUrl"], **entry})
            ok.append({"Id": entry["Id"]})
        except Exception as exc:
            if not hasattr(exc, "response"):
                raise
            failed.append(_entry_failure(entry["Id"], exc))
    return {"Successful": ok, "Failed": failed}


def purge(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    queue = require_queue(tx, p["QueueUrl"])
    tx.db.execute("DELETE FROM sqs_messages WHERE queue = ?", (queue["name"],))
    return {}


def queue_attributes(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    queue = require_queue(tx, p["QueueUrl"])
    names: list[str] = list(p.get("AttributeNames", []))
    if not names:
        return {}
    expire(tx, queue)
    settable = attributes(queue)
    known = tuple(settable) + sqs_queues.COMPUTED
    for name in names:
        if name != "All" and name not in known:
            raise sqs_error(
                "InvalidAttributeName", f"Unknown Attribute {name}.", tx.operation
            )
    counts = tx.db.execute(
        "SELECT "
        "SUM(visible_at <= :now), "
        "SUM(visible_at > :now AND receive_count > 0), "
        "SUM(visible_at > :now AND receive_count = 0) "
        "FROM sqs_messages WHERE queue = :queue",
        {"now": tx.now, "queue": queue["name"]},
    ).fetchone()
    values = {
        **{k: v for k, v in settable.items() if v != ""},
        "ApproximateNumberOfMessages": str(counts[0] or 0),
        "ApproximateNumberOfMessagesNotVisible": str(counts[1] or 0),
        "ApproximateNumberOfMessagesDelayed": str(counts[2] or 0),
        "CreatedTimestamp": str(int(queue["created"])),
        "LastModifiedTimestamp": str(int(queue["modified"])),
        "QueueArn": sqs_queues.arn_of(queue["name"]),
    }
    chosen = values if "All" in names else {n: values[n] for n in names if n in values}
    return {"Attributes": chosen}
