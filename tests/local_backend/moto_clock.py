"""moto's in-process SWF and SQS, running on the tests' fake clock.

moto reads the time through `unix_time()` in each of its SWF model modules;
pointing those at the fake clock lets one test advance time on both backends.
moto's SQS reads it through `unix_time()` and `unix_time_millis()` of its
models module, which are pointed at the same clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import utils as moto_utils

from .helpers import FakeClock

_SWF_MODULES = (
    "moto.swf.models.activity_task",
    "moto.swf.models.decision_task",
    "moto.swf.models.history_event",
    "moto.swf.models.timeout",
    "moto.swf.models.workflow_execution",
)


@contextmanager
def moto_backend(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, Any]]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    real = moto_utils.unix_time

    def fake_unix_time(dt: Any = None) -> float:
        return clock.now if dt is None else float(real(dt))

    def fake_unix_time_millis(dt: Any = None) -> float:
        return fake_unix_time(dt) * 1000.0

    for module in _SWF_MODULES:
        monkeypatch.setattr(f"{module}.unix_time", fake_unix_time)
    monkeypatch.setattr("moto.sqs.models.unix_time", fake_unix_time)
    monkeypatch.setattr("moto.sqs.models.unix_time_millis", fake_unix_time_millis)
    with mock_aws():
        yield (
            boto3.client("swf", region_name="us-east-1"),
            boto3.client("sqs", region_name="us-east-1"),
        )
