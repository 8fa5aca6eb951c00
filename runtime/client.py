"""The client SDK: send commands to the stack, read its notifications.

    client = CpeClient(sqs, input_queue_url, output_queue_url, name="ClientA")
    client.start_job("job-1", {"input_asset": {...}}, workflow=("Transcode", "1.0"))
    for message in client.notifications(wait=20):
        print(message["type"], message["data"])

`sqs` is boto3's SQS client or the embedded backend's (`connect(db)[1]`): the
SDK only calls send_message, receive_message and delete_message. Commands go
to the input queue in the original CPE's format (docs/protocol.md); replies
and notifications come back on the output queue, in the order SQS gives them
(a standard queue does not keep order exactly: sort on `time` if it matters).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from cpe.runtime import protocol

WorkflowChoice = tuple[str, str] | dict[str, Any] | None
"""(name, version), or a full `workflow` object (name, version, domain,
taskList, executionStartToCloseTimeout), or None for the poller's default."""


class CpeClient:
    def __init__(
        self,
        sqs: Any,
        input_queue_url: str,
        output_queue_url: str,
        *,
        name: str = "cpe-client",
    ) -> None:
        self._sqs = sqs
        self.input_queue_url = input_queue_url
        self.output_queue_url = output_queue_url
        self.name = name

    @property
    def sqs(self) -> Any:
        """The SQS client the SDK talks through, for raw messages."""
        return self._sqs

    @property
    def client(self) -> dict[str, Any]:
        """The `client` object of the original CPE's configuration files."""
        return {
            "name": self.name,
            "queues": {"input": self.input_queue_url, "output": self.output_queue_url},
        }

    # -- commands --------------------------------------------------------------

    def start_job(
        self,
        job_id: str | None,
        data: dict[str, Any],
        *,
        workflow: WorkflowChoice = None,
    ) -> str:
        """Ask for a job to be started; its job id (made up when None).

        `data` becomes the workflow input, with `client` (and `workflow`, when
        given) added. The answer, WORKFLOW_SCHEDULED or COMMAND_FAILED, comes on
        the output queue.
        """
        job_id = job_id or uuid.uuid4().hex
        payload = dict(data)
        if workflow is not None:
            payload["workflow"] = (
                dict(workflow)
                if isinstance(workflow, dict)
                else {"name": workflow[0], "version": workflow[1]}
            )
        self.send(protocol.START_JOB, job_id, payload)
        return job_id

    def cancel_job(self, job_id: str) -> None:
        self.send(protocol.CANCEL_JOB, job_id)

    def job_status(self, job_id: str) -> None:
        """Ask where a job stands; the answer is a JOB_STATUS message."""
        self.send(protocol.GET_JOB_STATUS, job_id)

    def job_list(self, status: str = "open") -> None:
        """Ask for this client's jobs (open, closed or all); answered by JOB_LIST."""
        self.send(protocol.GET_JOB_LIST, uuid.uuid4().hex, {"status": status})

    def activity_status(self, job_id: str, activity_id: str | None = None) -> None:
        """Ask where one activity (or all, when None) of a job stands."""
        data = {} if activity_id is None else {"activityId": activity_id}
        self.send(protocol.GET_ACTIVITY_STATUS, job_id, data)

    def send(self, kind: str, job_id: str, data: dict[str, Any] | None = None) -> None:
        """Send any command: `{"time", "type", "jobId", "data"}` with our client in data."""
        payload = {**(data or {}), "client": self.client}
        message = {
            "time": protocol.now(),
            "type": kind,
            "jobId": job_id,
            "data": payload,
        }
        self._sqs.send_message(
            QueueUrl=self.input_queue_url, MessageBody=json.dumps(message)
        )

    # -- notifications -----------------------------------------------------------

    def notifications(
        self, *, wait: float = 20.0, poll_seconds: int = 20
    ) -> Iterator[dict[str, Any]]:
        """The messages of the output queue, until none came for `wait` seconds.

        Each message is deleted from the queue once it has been yielded (when
        the loop asks for the next one, or leaves); messages received but not
        yet yielded when the loop leaves are made visible again at once. A body
        that is not JSON is given as `{"type": None, "body": text}`.
        """
        deadline = time.monotonic() + wait
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            answer = self._sqs.receive_message(
                QueueUrl=self.output_queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=max(0, min(poll_seconds, int(remaining + 0.999), 20)),
            )
            messages = answer.get("Messages") or []
            for index, message in enumerate(messages):
                try:
                    yield _decoded(message["Body"])
                except GeneratorExit:
                    # The consumer stopped here: the messages it never saw go
                    # back to the queue at once rather than after their
                    # visibility timeout.
                    self._release(messages[index + 1 :])
                    raise
                finally:
                    self._delete(message)
            if messages:
                deadline = time.monotonic() + wait

    def _delete(self, message: dict[str, Any]) -> None:
        self._sqs.delete_message(
            QueueUrl=self.output_queue_url, ReceiptHandle=message["ReceiptHandle"]
        )

    def _release(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            self._sqs.change_message_visibility(
                QueueUrl=self.output_queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=0,
            )

    def wait_for(
        self, kind: str, job_id: str | None = None, *, wait: float = 20.0
    ) -> dict[str, Any] | None:
        """The next message of type `kind` (for `job_id`), others read and dropped."""
        for message in self.notifications(wait=wait):
            if message.get("type") == kind and job_id in (None, message.get("jobId")):
                return message
        return None


def _decoded(body: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {"type": None, "body": body}
    return value if isinstance(value, dict) else {"type": None, "body": body}
