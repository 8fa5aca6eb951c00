"""moto's in-process SWF and SQS, running on the tests' fake clock.

moto reads the time through `unix_time()` in each of its SWF model modules;
pointing those at the fake clock lets one test advance time on both backends.
SQS in moto reads the real clock, so SQS tests that need time to pass are
local-only.
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

    for module in _SWF_MODULES:
        monkeypatch.setattr(f"{module}.unix_time", fake_unix_time)
    with mock_aws():
        yield (
            boto3.client("swf", region_name="us-east-1"),
            boto3.client("sqs", region_name="us-east-1"),
        )
