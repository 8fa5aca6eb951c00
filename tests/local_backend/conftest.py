"""Fixtures for the embedded backend: a fresh database, a fake clock, moto.

Every client a test gets is wrapped in `Checked`, so each request is validated
against botocore's model and each response against the output shape.

Tests taking `both` run once on the embedded backend and once on moto; a test
marked `@pytest.mark.local_only("why")` runs on the embedded backend only,
the reason naming where moto differs from SWF or SQS.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from cpe.runtime.backends.local import LocalSQS, LocalSWF, connect

from .checked import Checked
from .helpers import FakeClock, register_all
from .moto_clock import moto_backend

BACKENDS = ("local", "moto")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "local_only(reason): moto differs or lacks the operation"
    )
    config.addinivalue_line(
        "markers", "crash: kills real processes; CPE_CRASH_KILLS sets how often"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_kind" in metafunc.fixturenames:
        local_only = metafunc.definition.get_closest_marker("local_only")
        if local_only is not None:
            assert local_only.args, "local_only needs a reason naming the difference"
        # CPE_MOTO_ALL=1 runs the local-only tests on moto too, to see whether
        # a newer moto still differs (those runs are expected to fail).
        everywhere = os.environ.get("CPE_MOTO_ALL") == "1"
        kinds = ["local"] if local_only is not None and not everywhere else BACKENDS
        metafunc.parametrize("backend_kind", list(kinds))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cpe.db"


@pytest.fixture
def backend(db_path: Path, clock: FakeClock) -> Iterator[tuple[LocalSWF, LocalSQS]]:
    swf, sqs = connect(db_path, poll_timeout=0.05, poll_interval=0.01, clock=clock)
    # Checked answers exactly like the client it wraps.
    yield cast(LocalSWF, Checked(swf, "swf")), cast(LocalSQS, Checked(sqs, "sqs"))
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


@dataclass
class Both:
    """Checked SWF and SQS clients of one backend and the clock they run on."""

    kind: str
    swf: Any
    sqs: Any
    clock: FakeClock


@pytest.fixture
def both(
    backend_kind: str,
    db_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Both]:
    if backend_kind == "local":
        swf, sqs = connect(db_path, poll_timeout=0.05, poll_interval=0.01, clock=clock)
        yield Both("local", Checked(swf, "swf"), Checked(sqs, "sqs"), clock)
        swf.close()
        return
    with moto_backend(clock, monkeypatch) as (swf, sqs):
        yield Both("moto", Checked(swf, "swf"), Checked(sqs, "sqs"), clock)
