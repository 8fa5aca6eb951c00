"""Fixtures for the embedded backend: a fresh database, a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cpe.runtime.backends.local import LocalSQS, LocalSWF, connect

from .helpers import FakeClock, register_all


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cpe.db"


@pytest.fixture
def backend(db_path: Path, clock: FakeClock) -> Iterator[tuple[LocalSWF, LocalSQS]]:
    swf, sqs = connect(db_path, poll_timeout=0.05, poll_interval=0.01, clock=clock)
    yield swf, sqs
    swf.close()


@pytest.fixture
def swf(backend: tuple[LocalSWF, LocalSQS]) -> LocalSWF:
    return backend[0]


@pytest.fixture
def sqs(backend: tuple[LocalSWF, LocalSQS]) -> LocalSQS:
    return backend[1]


@pytest.fixture
def registered(swf: LocalSWF) -> LocalSWF:
    register_all(swf)
    return swf
