"""Sending a message to a client's output queue, best-effort.

Telling a client is never worth failing a decision, a task or a command for:
a queue that does not exist, a message SQS refuses or an SQS outage is
logged and the message dropped. Transient errors are retried a few times
first, with the loops' usual backoff.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from cpe.runtime.protocol import SQS_MESSAGE_LIMIT
from cpe.runtime.swf_errors import (
    DEFAULT_RETRY,
    RetryPolicy,
    call_with_retries,
    describe_exception,
)

logger = logging.getLogger(__name__)


BATCH_ENTRIES = 10
"""SQS's most entries in one SendMessageBatch."""


def post(
    sqs: Any,
    queue_url: str,
    message: dict[str, Any],
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> bool:
    """Send `message` as JSON to `queue_url`; True if SQS took it."""
    body = _body(queue_url, message)
    if body is None:
        return False
    try:
        call_with_retries(
            lambda: sqs.send_message(QueueUrl=queue_url, MessageBody=body),
            what=f"sending {message.get('type')} to {queue_url}",
            policy=retry,
        )
    except Exception as error:
        logger.warning(
            "%s message for %s dropped: %s",
            message.get("type"),
            queue_url,
            describe_exception(error),
        )
        return False
    return True


def post_all(
    sqs: Any,
    queue_url: str,
    messages: list[dict[str, Any]],
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> int:
    """Send `messages` in order, ten to a SendMessageBatch; how many SQS took.

    A decision that schedules a fan-out of hundreds of activities is told in
    a tenth of the calls one message at a time would take.
    """
    bodies = [
        (message.get("type"), body)
        for message in messages
        if (body := _body(queue_url, message)) is not None
    ]
    sent = 0
    for batch in _batches(bodies):
        sent += _send_batch(sqs, queue_url, batch, retry)
    return sent


def _body(queue_url: str, message: dict[str, Any]) -> str | None:
    """The message as JSON, or None (logged) when SQS would refuse its size."""
    body = json.dumps(message, default=str, ensure_ascii=False)
    size = len(body.encode("utf-8"))
    if size > SQS_MESSAGE_LIMIT:
        logger.warning(
            "%s message for %s dropped: %s bytes, over SQS's limit of %s",
            message.get("type"),
            queue_url,
            size,
            SQS_MESSAGE_LIMIT,
        )
        return None
    return body


def _batches(bodies: list[tuple[Any, str]]) -> list[list[tuple[Any, str]]]:
    """Runs of at most ten messages whose bodies add up to at most SQS's limit."""
    batches: list[list[tuple[Any, str]]] = []
    size = 0
    for entry in bodies:
        length = len(entry[1].encode("utf-8"))
        if (
            not batches
            or len(batches[-1]) == BATCH_ENTRIES
            or size + length > SQS_MESSAGE_LIMIT
        ):
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += length
    return batches


def _send_batch(
    sqs: Any, queue_url: str, batch: list[tuple[Any, str]], retry: RetryPolicy
) -> int:
    entries = [
        {"Id": str(index), "MessageBody": body} for index, (_, body) in enumerate(batch)
    ]
    kinds = ", ".join(sorted({str(kind) for kind, _ in batch}))
    try:
        answer = call_with_retries(
            lambda: sqs.send_message_batch(QueueUrl=queue_url, Entries=entries),
            what=f"sending {len(batch)} messages to {queue_url}",
            policy=retry,
        )
    except Exception as error:
        logger.warning(
            "%s messages (%s) for %s dropped: %s",
            len(batch),
            kinds,
            queue_url,
            describe_exception(error),
        )
        return 0
    for failure in answer.get("Failed") or []:
        logger.warning(
            "%s message for %s dropped: %s %s",
            batch[int(failure.get("Id", 0))][0],
            queue_url,
            failure.get("Code"),
            failure.get("Message", ""),
        )
    return len(answer.get("Successful") or [])
