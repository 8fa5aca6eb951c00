"""The input poller: a client's commands from its SQS input queue, done on SWF.

The loop long-polls the queue one message at a time and, for each message:

- a command it can carry out: does it, replies on the client's output queue,
  deletes the message;
- a message that is not a command (not JSON, a field missing, a job SWF
  refuses): replies COMMAND_FAILED where a reply queue can be found (the
  message's client, else the poller's own `reply_queue`) and deletes it,
  since it would fail the same way every time;
- SWF failing (unreachable, throttled, a deprecated domain): leaves the
  message, so SQS delivers it again after its visibility timeout (or moves
  it to the queue's dead-letter queue after its maxReceiveCount), and backs
  off before polling again.

Nothing a message holds stops the loop. One log line is written per message,
with its fields under `LOG_FIELDS` for the daemons' JSON log lines.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cpe.runtime import protocol
from cpe.runtime.daemon import LOG_FIELDS
from cpe.runtime.job_commands import CommandRefused, JobCommands
from cpe.runtime.outbound import post
from cpe.runtime.swf_errors import (
    DEFAULT_RETRY,
    Backoff,
    RetryPolicy,
    describe_exception,
    shorten,
)

logger = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 20
"""SQS's longest long poll."""


class PollInterrupted(Exception):
    """Raised by a signal handler to abandon a long poll in progress."""


class SwfUnavailable(Exception):
    """SWF could not carry out a command; the message stays for redelivery."""


@dataclass
class Handled:
    """What became of one message, for the log line and for tests."""

    outcome: str
    """done, refused or retry."""
    command: str | None
    job_id: str | None
    reply: str | None = None
    reason: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


class InputPoller:
    def __init__(
        self,
        sqs: Any,
        commands: JobCommands,
        *,
        queue_url: str,
        reply_queue: str | None = None,
        wait_seconds: int = MAX_WAIT_SECONDS,
        visibility_timeout: int | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self._sqs = sqs
        self._commands = commands
        self._queue_url = queue_url
        self._reply_queue = reply_queue
        self._wait_seconds = max(0, min(wait_seconds, MAX_WAIT_SECONDS))
        self._visibility_timeout = visibility_timeout
        self._retry = retry
        self.receiving = False
        """True while a long poll is under way: a signal may abandon it then."""

    def run(self, stop: threading.Event) -> None:
        """Handle messages until `stop` is set; the message in hand is finished."""
        backoff = Backoff(self._retry)
        logger.info(
            "input poller reading %s for domain %s",
            self._queue_url,
            self._commands.domain,
        )
        while not stop.is_set():
            try:
                handled = self.poll_once()
            except PollInterrupted:
                break
            except Exception as error:
                delay = backoff.failed()
                logger.error(
                    "receiving from %s failed (%s), failure %s in a row; retrying in %.2f s",
                    self._queue_url,
                    describe_exception(error),
                    backoff.failures,
                    delay,
                )
                stop.wait(delay)
                continue
            if handled is not None and handled.outcome == "retry":
                delay = backoff.failed()
                stop.wait(delay)
            else:
                backoff.reset()
        logger.info("input poller stopped")

    def poll_once(self) -> Handled | None:
        """One long poll; what became of the message, or None if none came."""
        request: dict[str, Any] = {
            "QueueUrl": self._queue_url,
            "MaxNumberOfMessages": 1,
            "WaitTimeSeconds": self._wait_seconds,
            "AttributeNames": ["ApproximateReceiveCount"],
        }
        if self._visibility_timeout is not None:
            request["VisibilityTimeout"] = self._visibility_timeout
        self.receiving = True
        try:
            answer = self._sqs.receive_message(**request)
        finally:
            self.receiving = False
        messages = answer.get("Messages") or []
        if not messages:
            return None
        return self.handle(messages[0])

    def handle(self, message: dict[str, Any]) -> Handled:
        """Carry out one SQS message, reply, delete it unless SWF failed."""
        began = time.monotonic()
        handled = self._carry_out(str(message.get("Body", "")))
        if handled.outcome != "retry":
            self._delete(message)
        receives = (message.get("Attributes") or {}).get("ApproximateReceiveCount")
        handled.fields.update(
            {
                "messageId": message.get("MessageId"),
                "receiveCount": int(receives) if receives else None,
                "seconds": round(time.monotonic() - began, 3),
            }
        )
        _log(handled)
        return handled

    def _carry_out(self, body: str) -> Handled:
        try:
            command = protocol.decode_command(body)
        except protocol.ProtocolError as problem:
            return self._refuse(None, _loose_json(body), str(problem), body)
        kind = command["type"]
        job_id = protocol.job_id_of(command)
        try:
            reply = self._commands.handle(command)
        except CommandRefused as refusal:
            return self._refuse(kind, command, str(refusal), body)
        except Exception as error:
            logger.debug("SWF failed on %s", kind, exc_info=True)
            return Handled("retry", kind, job_id, reason=describe_exception(error))
        queue = protocol.output_queue_of(reply.get("input")) or self._queue_for(command)
        sent = self._send(queue, reply)
        fields: dict[str, Any] = {
            key: reply[key] for key in ("runId", "alreadyStarted") if key in reply
        }
        return Handled("done", kind, job_id, reply=sent, fields=fields)

    def _refuse(
        self, kind: str | None, message: dict[str, Any] | None, reason: str, body: str
    ) -> Handled:
        job_id = protocol.job_id_of(message) if message is not None else None
        reply = protocol.notification(
            protocol.COMMAND_FAILED,
            job_id or "",
            {"command": kind, "reason": reason, "message": shorten(body, 2000)},
        )
        queue = self._queue_for(message)
        sent = self._send(queue, reply)
        return Handled("refused", kind, job_id, reply=sent, reason=reason)

    def _queue_for(self, message: dict[str, Any] | None) -> str | None:
        data = message.get("data") if message is not None else None
        return protocol.output_queue_of(data) or self._reply_queue

    def _send(self, queue: str | None, reply: dict[str, Any]) -> str | None:
        """Post `reply`; its type if it went out, None if it could not."""
        if queue is None:
            logger.warning("no queue to send %s to; dropped", reply["type"])
            return None
        return (
            reply["type"] if post(self._sqs, queue, reply, retry=self._retry) else None
        )

    def _delete(self, message: dict[str, Any]) -> None:
        try:
            self._sqs.delete_message(
                QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
        except Exception as error:
            # The message comes back once its visibility timeout ends; START_JOB
            # is idempotent, so doing it twice is harmless.
            logger.warning(
                "deleting message %s failed: %s",
                message.get("MessageId"),
                describe_exception(error),
            )


def _loose_json(body: str) -> dict[str, Any] | None:
    """The body as a JSON object even when it is no command, to find a reply queue."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _log(handled: Handled) -> None:
    fields: dict[str, Any] = {
        "outcome": handled.outcome,
        "command": handled.command,
        "jobId": handled.job_id,
        "reply": handled.reply,
        **handled.fields,
    }
    if handled.reason is not None:
        fields["reason"] = handled.reason
    what = f"{handled.command or 'message'} job {handled.job_id or '-'}"
    if handled.outcome == "done":
        text = f"{what}: done, replied {handled.reply or 'nothing (reply dropped)'}"
        level = logging.INFO
    elif handled.outcome == "refused":
        text = (
            f"{what}: refused ({handled.reason}), replied {handled.reply or 'nothing'}"
        )
        level = logging.WARNING
    else:
        text = (
            f"{what}: SWF failed ({handled.reason}); left on the queue for redelivery"
        )
        level = logging.ERROR
    logger.log(level, "%s", text, extra={LOG_FIELDS: fields})
