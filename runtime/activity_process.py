"""A process that runs activity code, one task at a time, for a worker slot.

Each slot of `cpec worker` keeps one spawned process (a fresh interpreter, as
`cpec run`'s workers are) that has loaded the activity code. The slot sends it
a task, and hears back progress and, at the end, the outcome; it can ask it to
cancel, and it can kill it, which no thread could do to a function running
in its own process. A dead process is replaced by a new one.

The process ignores SIGTERM and SIGINT (a service manager or a Ctrl-C reaches
the whole process group; the worker decides when its tasks stop) and ends as
soon as the worker is gone, whatever way the worker went.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnProcess
from typing import Any

from cpe.runtime.activity import ActivityDefinition, ActivityLoadError
from cpe.runtime.activity_context import (
    ActivityContext,
)
from cpe.runtime.command_activity import load_activity_sources
from cpe.runtime.worker import Outcome, _parse_input, call_in_context

_ORPHANED = 70
_PARENT_CHECK_INTERVAL = 0.5


class ProcessGone(Exception):
    """The activity process exited; `code` is its exit code (negative: signal)."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"the activity process exited with code {code}")
        self.code = code


class ActivityProcess:
    """The parent's handle on one activity process."""

    def __init__(self, sources: list[str], name: str) -> None:
        self._sources = sources
        self._name = name
        self._context = multiprocessing.get_context("spawn")
        self._process: SpawnProcess | None = None
        self._tasks: Connection | None = None
        self._events: Connection | None = None
        # The slot's thread starts a process for a task while the daemon's
        # main thread replaces dead idle ones: one at a time.
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Start the process if there is none, or it died."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        self.discard()
        task_reader, task_writer = self._context.Pipe(duplex=False)
        event_reader, event_writer = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_process_main,
            args=(self._sources, task_reader, event_writer, os.getpid()),
            name=self._name,
            daemon=True,
        )
        process.start()
        # The child's ends are closed here, so that the child sees the end of
        # its input when this process goes, and this one sees the child's.
        task_reader.close()
        event_writer.close()
        self._process, self._tasks, self._events = process, task_writer, event_reader

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def send_task(self, payload: dict[str, Any]) -> None:
        self.ensure()
        assert self._tasks is not None
        self._tasks.send(("task", payload))

    def send_cancel(self) -> None:
        if self._tasks is not None:
            try:
                self._tasks.send(("cancel",))
            except OSError:
                pass

    def next_message(self, timeout: float) -> tuple[Any, ...] | None:
        """The next message of the process, None after `timeout` seconds.

        ProcessGone once the process has exited and said all it had to say.
        """
        assert self._process is not None and self._events is not None
        ready = wait([self._events, self._process.sentinel], max(timeout, 0.0))
        if self._events in ready:
            try:
                message: tuple[Any, ...] = self._events.recv()
            except (EOFError, OSError):
                self._process.join(1)
                raise ProcessGone(self._process.exitcode) from None
            if message[0] == "ready":
                return self.next_message(0)
            return message
        if self._process.sentinel in ready:
            self._process.join(1)
            raise ProcessGone(self._process.exitcode)
        return None

    def kill(self) -> None:
        """Stop the process at once (its task is abandoned)."""
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self.discard()

    def stop(self) -> None:
        """End an idle process: it exits on the end of its input."""
        if self._tasks is not None:
            self._tasks.close()
            self._tasks = None
        if self._process is not None:
            self._process.join(3)
        self.kill()

    def discard(self) -> None:
        for connection in (self._tasks, self._events):
            if connection is not None:
                connection.close()
        self._process = self._tasks = self._events = None


# -- inside the activity process ----------------------------------------------


def _process_main(
    sources: list[str], tasks: Connection, events: Connection, parent: int
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.WARNING, format="cpec worker process: %(message)s"
    )
    threading.Thread(target=_end_when_orphaned, args=(parent,), daemon=True).start()
    lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with lock:
            events.send(message)

    try:
        activities = load_activity_sources(sources)
    except ActivityLoadError as error:
        activities = {}
        broken = str(error)
    else:
        broken = ""
    send(("ready",))
    inbox: queue.Queue[tuple[dict[str, Any], threading.Event]] = queue.Queue()
    threading.Thread(target=_read_tasks, args=(tasks, inbox), daemon=True).start()
    while True:
        payload, cancel = inbox.get()
        if broken:
            outcome = Outcome.failed(
                f"the activity process cannot load its code: {broken}"
            )
        else:
            outcome = _run_task(activities, payload, cancel, send)
        send(("outcome", outcome))


def _end_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_PARENT_CHECK_INTERVAL)
    # The worker was killed outright: nobody waits for the task in hand any
    # more (SWF times it out), so end at once rather than finish it for no one.
    os._exit(_ORPHANED)


def _read_tasks(
    tasks: Connection, inbox: queue.Queue[tuple[dict[str, Any], threading.Event]]
) -> None:
    cancel = threading.Event()
    while True:
        try:
            message = tasks.recv()
        except (EOFError, OSError):
            # The worker closed its end (an idle process is being stopped)
            # or is gone: either way there is nobody to work for.
            os._exit(0)
        if message[0] == "task":
            # A fresh cancel flag per task, made here: a cancel message read
            # right after its task always reaches that task's flag.
            cancel = threading.Event()
            inbox.put((message[1], cancel))
        elif message[0] == "cancel":
            cancel.set()


def _run_task(
    activities: dict[tuple[str, str], ActivityDefinition],
    payload: dict[str, Any],
    cancel: threading.Event,
    send: Any,
) -> Outcome:
    info = payload["info"]
    definition = activities[(info["activity_name"], info["activity_version"])]
    value = _parse_input(payload.get("input"))
    if isinstance(value, Outcome):
        return value

    def progress(reported: Any) -> None:
        send(("progress", _jsonable(reported)))

    context = ActivityContext.for_task(info, progress, cancel)
    # The slot that sent the task fits the result to SWF (or the blob store).
    return call_in_context(definition, value, context, keep_whole=True)


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return repr(value)
    return value
