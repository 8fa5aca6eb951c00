"""The SQS protocol between clients and the stack, as the original CPE spoke it.

A command a client sends to its input queue:

    {"time": 1437447258.98, "type": "START_JOB", "jobId": "...",
     "data": {"workflow": {...}, "client": {"name", "queues": {"input", "output"}}, ...}}

A notification or reply the stack sends to the client's output queue:

    {"time": ..., "type": "ACTIVITY_STARTED", "jobId": "...",
     "data": {"workflow": {"workflowId", "runId"}, "activity": {...}}}

This module only builds and reads these dictionaries; sending them is done by
the callers (docs/protocol.md lists every shape).
"""

from __future__ import annotations

import json
import time
from typing import Any

# Commands (client -> input queue).
START_JOB = "START_JOB"
CANCEL_JOB = "CANCEL_JOB"
GET_JOB_STATUS = "GET_JOB_STATUS"
GET_JOB_LIST = "GET_JOB_LIST"
GET_ACTIVITY_STATUS = "GET_ACTIVITY_STATUS"
COMMANDS = (START_JOB, CANCEL_JOB, GET_JOB_STATUS, GET_JOB_LIST, GET_ACTIVITY_STATUS)

# Replies of the input poller (-> output queue).
WORKFLOW_SCHEDULED = "WORKFLOW_SCHEDULED"
JOB_CANCEL_REQUESTED = "JOB_CANCEL_REQUESTED"
JOB_STATUS = "JOB_STATUS"
JOB_LIST = "JOB_LIST"
ACTIVITY_STATUS = "ACTIVITY_STATUS"
COMMAND_FAILED = "COMMAND_FAILED"

# Notifications of the decider and the workers (-> output queue).
ACTIVITY_SCHEDULED = "ACTIVITY_SCHEDULED"
ACTIVITY_STARTED = "ACTIVITY_STARTED"
ACTIVITY_PROGRESS = "ACTIVITY_PROGRESS"
ACTIVITY_COMPLETED = "ACTIVITY_COMPLETED"
ACTIVITY_FAILED = "ACTIVITY_FAILED"
ACTIVITY_TIMEOUT = "ACTIVITY_TIMEOUT"
ACTIVITY_CANCELED = "ACTIVITY_CANCELED"
WORKFLOW_COMPLETED = "WORKFLOW_COMPLETED"
WORKFLOW_FAILED = "WORKFLOW_FAILED"
WORKFLOW_CANCELED = "WORKFLOW_CANCELED"

SQS_MESSAGE_LIMIT = 262_144
"""SQS's maximum message size in bytes."""


class ProtocolError(Exception):
    """A command that cannot be handled as it is (not JSON, a field missing)."""


def now() -> float:
    """The `time` of a message: epoch seconds with a fraction, as the original."""
    return time.time()


def workflow_ref(workflow_id: str, run_id: str) -> dict[str, str]:
    """`data.workflow` of a notification: the execution, as SWF names it."""
    return {"workflowId": workflow_id, "runId": run_id}


def notification(
    kind: str, job_id: str, data: dict[str, Any], **top: Any
) -> dict[str, Any]:
    """A message for an output queue; `top` adds keys beside `data`."""
    return {"time": now(), "type": kind, "jobId": job_id, **top, "data": data}


def parse_json_text(text: str | None) -> Any:
    """A result or input as JSON when it is JSON, else the text itself."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def output_queue_of(data: Any) -> str | None:
    """`data.client.queues.output`, the queue the client listens to, if any."""
    if not isinstance(data, dict):
        return None
    client = data.get("client")
    if not isinstance(client, dict):
        return None
    queues = client.get("queues")
    if not isinstance(queues, dict):
        return None
    output = queues.get("output")
    return output if isinstance(output, str) and output else None


def client_name_of(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("client"), dict):
        name = data["client"].get("name")
        return name if isinstance(name, str) and name else None
    return None


def job_id_of(message: dict[str, Any]) -> str | None:
    """`jobId`, or `job_id` as the original PHP client SDK spelled it."""
    for key in ("jobId", "job_id"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def decode_command(body: str) -> dict[str, Any]:
    """The command in an SQS message body; ProtocolError if it is not one."""
    try:
        message = json.loads(body)
    except ValueError as error:
        raise ProtocolError(f"the message is not JSON: {error}") from None
    except RecursionError:
        raise ProtocolError("the message is JSON nested too deeply to read") from None
    if not isinstance(message, dict):
        raise ProtocolError(
            f"the message is JSON {type(message).__name__}, not an object with "
            "'type', 'jobId' and 'data'"
        )
    kind = message.get("type")
    if not isinstance(kind, str) or not kind:
        raise ProtocolError("the message has no 'type'; say which command it is")
    if kind not in COMMANDS:
        raise ProtocolError(
            f"unknown command type {kind!r}; the commands are {', '.join(COMMANDS)}"
        )
    data = message.get("data", {})
    if not isinstance(data, dict):
        raise ProtocolError("'data' must be a JSON object")
    message["data"] = data
    return message
