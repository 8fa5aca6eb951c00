"""Running the stack's daemons as real processes, and watching executions."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cpec_process import ROOT, cpec_command

FIXTURES = ROOT / "tests" / "fixtures"
BASIC = FIXTURES / "activities" / "basic.py"
CONTEXT = FIXTURES / "activities" / "context.py"
COMMANDS = FIXTURES / "commands" / "activities.yml"
# Short polls on the embedded backend keep the tests quick; a worker visits
# its task lists in turn, each poll waiting at most this long.
FAST = ("--poll-timeout", "0.2")
WAIT = 60.0


class Daemon:
    """A `cpec` daemon in a child process; its stderr is kept line by line."""

    def __init__(self, *arguments: str | Path, env: dict[str, str] | None = None):
        self.process = subprocess.Popen(
            [*cpec_command(), *map(str, arguments)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    @property
    def log(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = WAIT) -> str:
        """The first line of the log holding `text`, once there is one."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._more()):
                    raise AssertionError(
                        f"no line with {text!r} in:\n{self.log_unlocked()}"
                    )
                self._changed.wait(min(left, 0.5))

    def _more(self) -> bool:
        return self._reader.is_alive()

    def log_unlocked(self) -> str:
        return "\n".join(self.lines)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = WAIT) -> int:
        """Send `signum`, wait for the exit; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Daemons a test starts; any left running are killed at its end."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()


def start(
    daemons: list[Daemon], *arguments: str | Path, env: dict[str, str] | None = None
) -> Daemon:
    daemon = Daemon(*arguments, env=env)
    daemons.append(daemon)
    return daemon


def start_execution(
    swf: Any,
    domain: str,
    name: str,
    version: str,
    workflow_input: str,
    workflow_id: str,
) -> dict[str, str]:
    started = swf.start_workflow_execution(
        domain=domain,
        workflowId=workflow_id,
        workflowType={"name": name, "version": version},
        input=workflow_input,
    )
    return {"workflowId": workflow_id, "runId": started["runId"]}


def history(swf: Any, domain: str, execution: dict[str, str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    request: dict[str, Any] = {"domain": domain, "execution": execution}
    while True:
        page = swf.get_workflow_execution_history(**request)
        events.extend(page["events"])
        if not page.get("nextPageToken"):
            return events
        request["nextPageToken"] = page["nextPageToken"]


def wait_closed(
    swf: Any, domain: str, execution: dict[str, str], timeout: float = WAIT
) -> list[dict[str, Any]]:
    """The execution's history once it has closed."""
    deadline = time.monotonic() + timeout
    while True:
        info = swf.describe_workflow_execution(domain=domain, execution=execution)
        if info["executionInfo"]["executionStatus"] == "CLOSED":
            return history(swf, domain, execution)
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{execution['workflowId']} still open; history: "
                f"{[e['eventType'] for e in history(swf, domain, execution)]}"
            )
        time.sleep(0.2)


def event_types(events: list[dict[str, Any]]) -> list[str]:
    return [event["eventType"] for event in events]


def attributes(event: dict[str, Any]) -> dict[str, Any]:
    kind = event["eventType"]
    found: dict[str, Any] = event[kind[0].lower() + kind[1:] + "EventAttributes"]
    return found


def pid_is_gone(pid: int, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False
