"""Error classification, backoff and shortening shared by the two loops."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from botocore.exceptions import EndpointConnectionError, ParamValidationError

from cpe.runtime.swf_errors import (
    TRUNCATION_MARKER,
    Backoff,
    RetryPolicy,
    call_with_retries,
    error_code,
    is_transient,
    is_unknown_resource,
    shorten,
    shorten_middle,
)

from .fakes import client_error


def test_error_codes_are_read_by_shape() -> None:
    assert error_code(client_error("UnknownResourceFault")) == "UnknownResourceFault"
    assert is_unknown_resource(client_error("UnknownResourceFault"))
    assert error_code(ValueError("x")) is None

    class BackendError(Exception):
        response: ClassVar[Any] = {"Error": {"Code": "UnknownResourceFault"}}

    assert is_unknown_resource(BackendError())


def test_transient_errors() -> None:
    assert is_transient(client_error("ThrottlingException"))
    assert is_transient(EndpointConnectionError(endpoint_url="http://swf.invalid"))
    assert is_transient(ConnectionResetError())
    assert not is_transient(client_error("ValidationException"))
    assert not is_transient(client_error("UnknownResourceFault"))
    assert not is_transient(ParamValidationError(report="bad"))


def test_backoff_grows_and_is_capped() -> None:
    backoff = Backoff(RetryPolicy(base=1.0, cap=8.0))
    delays = [backoff.failed() for _ in range(10)]
    assert 0.5 <= delays[0] <= 1.0
    assert 2.0 <= delays[2] <= 4.0
    assert all(delay <= 8.0 for delay in delays)
    assert delays[-1] >= 4.0
    backoff.reset()
    assert backoff.failures == 0
    assert backoff.failed() <= 1.0


@pytest.mark.parametrize("limit", [5, 20, 256])
def test_shorten_respects_the_limit(limit: int) -> None:
    text = "a" * 1000
    assert len(shorten(text, limit)) <= limit
    assert len(shorten_middle(text + "END", limit)) <= limit
    assert shorten("short", limit) == "short"


def test_shorten_middle_keeps_both_ends() -> None:
    text = "START" + "m" * 1000 + "END"
    short = shorten_middle(text, 100)
    assert short.startswith("START") and short.endswith("END")
    assert TRUNCATION_MARKER in short


def test_call_with_retries_gives_up_on_permanent_errors() -> None:
    calls = []

    def call() -> None:
        calls.append(1)
        raise client_error("ValidationException")

    policy = RetryPolicy(base=0.001, cap=0.001, respond_attempts=5)
    with pytest.raises(Exception, match="ValidationException"):
        call_with_retries(call, what="x", policy=policy, sleep=lambda _: None)
    assert len(calls) == 1


def test_call_with_retries_stops_after_the_last_attempt() -> None:
    calls = []

    def call() -> None:
        calls.append(1)
        raise client_error("ThrottlingException")

    policy = RetryPolicy(base=0.001, cap=0.001, respond_attempts=3)
    with pytest.raises(Exception, match="ThrottlingException"):
        call_with_retries(call, what="x", policy=policy, sleep=lambda _: None)
    assert len(calls) == 3
