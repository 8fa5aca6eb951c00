"""Clients whose every request and response is checked against botocore's models.

`Checked(client, "swf")` answers exactly like the client it wraps, but first
validates each request with botocore's ParamValidator (as boto3 would before
sending) and then checks the response against the operation's output shape
(required members, types, enums, no unknown keys). Wrapping the embedded
backend and moto alike keeps both to what boto3 would return from AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from botocore import xform_name

from cpe.runtime.backends.local.validation import service_model, validate

from .helpers import conforms

# Polls that found nothing answer with only the zeroed counters SWF sends, so
# the members the model marks required are absent there by design.
_EMPTY_POLLS = {
    "PollForDecisionTask": {"startedEventId": 0, "previousStartedEventId": 0},
    "PollForActivityTask": {"startedEventId": 0},
}


@cache
def _operations(service: str) -> dict[str, str]:
    """boto3 method name -> operation name, from the service model."""
    model = service_model(service)
    return {xform_name(name): name for name in model.operation_names}


def check_response(service: str, operation: str, response: dict[str, Any]) -> None:
    """Fail when `response` is not what boto3 could return for `operation`."""
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    if operation in _EMPTY_POLLS and not body.get("taskToken"):
        assert body == _EMPTY_POLLS[operation], f"{operation}: odd empty poll {body}"
        return
    conforms(service, operation, body)


class Checked:
    """A boto3-style client with every call checked; other attributes pass through."""

    def __init__(self, client: Any, service: str) -> None:
        self._client = client
        self._service = service
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._client, name)
        operation = _operations(self._service).get(name)
        if operation is None:
            return target
        return self._wrap(operation, target)

    def _wrap(
        self, operation: str, target: Callable[..., dict[str, Any]]
    ) -> Callable[..., dict[str, Any]]:
        def call(**params: Any) -> dict[str, Any]:
            validate(self._service, operation, params)
            response = target(**params)
            check_response(self._service, operation, response)
            self.calls.append(operation)
            return {k: v for k, v in response.items() if k != "ResponseMetadata"}

        return call
