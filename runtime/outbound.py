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


def post(
    sqs: Any,
    queue_url: str,
    message: dict[str, Any],
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> bool:
    """Send `message` as JSON to `queue_url`; True if SQS took it."""
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
