"""An embedded backend with the example plan deployed and a client's two queues,
and `cpec input-poller` run as a process against it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cpe.compiler import compile_file
from cpe.runtime.backends.local import LocalSQS, LocalSWF, connect
from cpe.runtime.client import CpeClient
from cpe.runtime.registration import ensure_domain, ensure_types
from tests.cpec_process import ROOT

DOMAIN = "cpe-test"
COMPAT = ROOT / "tests" / "compat"
EXAMPLE_PLAN = ROOT / "plans" / "transcode" / "plan.yml"
ENGINE_PLAN = ROOT / "tests" / "fixtures" / "plans" / "engine.yml"
FIXTURE_ACTIVITIES = ROOT / "tests" / "fixtures" / "activities" / "basic.py"


def client_config() -> dict[str, Any]:
    """The original CPE's client configuration sample, unchanged: the embedded
    backend addresses a queue by the last part of any URL."""
    config: dict[str, Any] = json.loads(
        (COMPAT / "clientConfigSample.json").read_text()
    )
    return config


def example_job() -> dict[str, Any]:
    """input_video1.json of the original CPE, pointed at our example plan."""
    job: dict[str, Any] = json.loads((COMPAT / "input_video1.json").read_text())
    job["workflow"].update(
        {"version": "2.0", "domain": DOMAIN, "taskList": "Transcode-2.0"}
    )
    return job


@dataclass
class Stack:
    db: Path
    swf: LocalSWF
    sqs: LocalSQS
    input_queue: str
    output_queue: str

    def client(self) -> CpeClient:
        config = client_config()
        return CpeClient(
            self.sqs, self.input_queue, self.output_queue, name=config["name"]
        )

    def executions(self, job_id: str) -> list[dict[str, Any]]:
        """Every run (open or closed) of workflow id `job_id`."""
        found: list[dict[str, Any]] = []
        for listing in (
            self.swf.list_open_workflow_executions,
            self.swf.list_closed_workflow_executions,
        ):
            found.extend(
                listing(
                    domain=DOMAIN,
                    startTimeFilter={"oldestDate": 0},
                    executionFilter={"workflowId": job_id},
                )["executionInfos"]
            )
        return found


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    db = tmp_path / "cpe.db"
    swf, sqs = connect(db, poll_timeout=0.2, poll_interval=0.01)
    ensure_domain(swf, DOMAIN)
    for plan in (EXAMPLE_PLAN, ENGINE_PLAN):
        ensure_types(swf, DOMAIN, compile_file(plan))
    queues = client_config()["queues"]
    for url in queues.values():
        sqs.create_queue(QueueName=url.rsplit("/", 1)[-1])
    yield Stack(db, swf, sqs, queues["input"], queues["output"])
    swf.close()


def _this_cpec() -> list[str]:
    """The `cpec` of this interpreter's environment, whatever the PATH finds first."""
    script = Path(sys.executable).parent / "cpec"
    return (
        [str(script)] if script.exists() else [sys.executable, "-m", "cpe.compiler.cli"]
    )


class PollerProcess:
    """`cpec input-poller` in a child process; stop() sends SIGTERM."""

    def __init__(self, arguments: list[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [*_this_cpec(), "input-poller", *arguments],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def stderr(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        """Until a line of stderr holds `text` (AssertionError after `timeout`)."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: (
                    any(text in line for line in self._lines)
                    or self.process.poll() is not None
                ),
                timeout,
            )
            assert found and any(text in line for line in self._lines), (
                f"the poller never logged {text!r}; it said:\n{''.join(self._lines)}"
            )

    def stop(self, signal_number: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal_number)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(10)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return self.process.returncode

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines of messages handled (with --log-format json)."""
        lines = []
        for line in self.stderr.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and "outcome" in entry:
                lines.append(entry)
        return lines


@pytest.fixture
def poller(stack: Stack) -> Iterator[PollerProcess]:
    process = PollerProcess(
        [
            "--queue",
            stack.input_queue,
            "--db",
            str(stack.db),
            "--domain",
            DOMAIN,
            "--wait",
            "1",
            "--log-format",
            "json",
        ]
    )
    # SIGTERM before the poller set up its handler would kill it outright.
    process.wait_for("input poller reading")
    yield process
    process.stop()
