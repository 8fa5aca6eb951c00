"""LocalSQS: the embedded backend's stand-in for boto3.client("sqs")."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cpe.runtime.backends.local import sqs_messages, sqs_queues
from cpe.runtime.backends.local.errors import exceptions
from cpe.runtime.backends.local.limits import enforce_limits
from cpe.runtime.backends.local.store import Store, Tx
from cpe.runtime.backends.local.validation import validate

Handler = Callable[[Tx, dict[str, Any]], dict[str, Any]]


class LocalSQS:
    """Same methods, keyword parameters, responses and errors as boto3's client."""

    def __init__(self, store: Store, *, poll_interval: float):
        self._store = store
        self._poll_interval = poll_interval

    @property
    def exceptions(self) -> Any:
        """Like `client.exceptions`: `except sqs.exceptions.QueueDoesNotExist`."""
        return exceptions("sqs")

    def close(self) -> None:
        self._store.close()

    def _run(
        self, operation: str, params: dict[str, Any], handler: Handler
    ) -> dict[str, Any]:
        validate("sqs", operation, params)
        enforce_limits("sqs", operation, params)
        with self._store.transaction(operation) as tx:
            return handler(tx, params)

    def create_queue(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("CreateQueue", kwargs, sqs_queues.create_queue)

    def get_queue_url(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("GetQueueUrl", kwargs, sqs_queues.get_queue_url)

    def delete_queue(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("DeleteQueue", kwargs, sqs_queues.delete_queue)

    def list_queues(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("ListQueues", kwargs, sqs_queues.list_queues)

    def get_queue_attributes(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("GetQueueAttributes", kwargs, sqs_messages.queue_attributes)

    def set_queue_attributes(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("SetQueueAttributes", kwargs, sqs_queues.set_queue_attributes)

    def purge_queue(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("PurgeQueue", kwargs, sqs_messages.purge)

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("SendMessage", kwargs, sqs_messages.send_message)

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("SendMessageBatch", kwargs, sqs_messages.send_message_batch)

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        operation = "ReceiveMessage"
        validate("sqs", operation, kwargs)
        enforce_limits("sqs", operation, kwargs)
        with self._store.transaction(operation) as tx:
            sqs_messages.check_receive(tx, kwargs)
            queue = sqs_queues.require_queue(tx, kwargs["QueueUrl"])
            wait = kwargs.get(
                "WaitTimeSeconds",
                int(sqs_queues.attributes(queue)["ReceiveMessageWaitTimeSeconds"]),
            )
        # Real time for the wait, whatever clock the store runs on.
        give_up = time.monotonic() + wait
        while True:
            with self._store.transaction(operation) as tx:
                messages = sqs_messages.receive(tx, kwargs)
            if messages:
                return {"Messages": messages}
            remaining = give_up - time.monotonic()
            if remaining <= 0:
                # boto3 leaves the key out when nothing was received.
                return {}
            time.sleep(min(self._poll_interval, remaining))

    def delete_message(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("DeleteMessage", kwargs, sqs_messages.delete_message)

    def delete_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "DeleteMessageBatch",
            kwargs,
            lambda tx, p: sqs_messages.batch(tx, p, sqs_messages.delete_message),
        )

    def change_message_visibility(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "ChangeMessageVisibility", kwargs, sqs_messages.change_visibility
        )

    def change_message_visibility_batch(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "ChangeMessageVisibilityBatch",
            kwargs,
            lambda tx, p: sqs_messages.batch(tx, p, sqs_messages.change_visibility),
        )
