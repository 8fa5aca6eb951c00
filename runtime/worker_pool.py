"""Worker processes for `cpec run`: started, replaced when they die, stopped.

Each worker is a spawned process (a fresh interpreter, as in production), so
activity code that crashes, leaks or calls os._exit cannot take the decider or
the other workers with it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any, TextIO

from cpe.runtime.activity import load_activities
from cpe.runtime.backends.local import connect
from cpe.runtime.blobs import LocalBlobStore
from cpe.runtime.worker import ActivityWorker

# How often a worker checks that the process that started it is still there.
_PARENT_CHECK_INTERVAL = 0.5
_ORPHANED = 70
_ORPHANED = 70


def _stop_when_told_or_orphaned(
    stop: ProcessEvent, parent: int, local: threading.Event
) -> None:
    while not local.is_set():
        if stop.is_set():
            local.set()
            return
        if os.getppid() != parent:
            # The run that started this worker was killed outright: nobody
            # waits for the task in hand any more (the backend times it
            # out), so end at once rather than finish it for no one.
            os._exit(_ORPHANED)
        time.sleep(_PARENT_CHECK_INTERVAL)


def _worker_main(
    db: str,
    domain: str,
    task_lists: list[str],
    sources: list[str],
    heartbeat_interval: float,
    poll_timeout: float,
    poll_interval: float,
    parent: int,
    stop: ProcessEvent,
    blob_directory: str | None = None,
) -> None:
    """The body of one worker process (spawned, so it imports everything anew)."""
    # Ctrl-C reaches the whole process group; the parent decides when and how
    # the workers stop, so they must not die of it half-way through a task.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    local = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: local.set())
    # What activity code prints must not mix with the result `cpec run`
    # writes on stdout, so a worker's stdout is its stderr.
    os.dup2(2, 1)
    logging.basicConfig(level=logging.WARNING, format="cpec worker: %(message)s")
    threading.Thread(
        target=_stop_when_told_or_orphaned, args=(stop, parent, local), daemon=True
    ).start()
    swf, _ = connect(db, poll_timeout=poll_timeout, poll_interval=poll_interval)
    ActivityWorker(
        swf,
        domain=domain,
        task_lists=task_lists,
        activities=load_activities(sources),
        heartbeat_interval=heartbeat_interval,
        blobs=None if blob_directory is None else LocalBlobStore(blob_directory),
    ).run(local)


class WorkerPool:
    """`count` worker processes serving `task_lists` from the database `db`."""

    def __init__(
        self,
        count: int,
        *,
        db: str,
        domain: str,
        task_lists: list[str],
        sources: list[str],
        heartbeat_interval: float,
        poll_timeout: float,
        poll_interval: float = 0.05,
        blob_directory: str | None = None,
    ) -> None:
        self._context = multiprocessing.get_context("spawn")
        self.stop = self._context.Event()
        self._poll_timeout = poll_timeout
        self._arguments: tuple[Any, ...] = (
            db,
            domain,
            task_lists,
            sources,
            heartbeat_interval,
            poll_timeout,
            poll_interval,
            os.getpid(),
            self.stop,
            blob_directory,
        )
        self._processes: list[SpawnProcess] = [self._start() for _ in range(count)]

    def _start(self) -> SpawnProcess:
        process = self._context.Process(
            target=_worker_main, args=self._arguments, daemon=True, name="cpec-worker"
        )
        process.start()
        return process

    def replace_dead(self, progress: TextIO | None) -> None:
        """Start a new worker for each one that died while the run goes on."""
        for index, process in enumerate(self._processes):
            if not process.is_alive() and not self.stop.is_set():
                if progress is not None:
                    print(
                        f"cpec: a worker process exited (code {process.exitcode}); "
                        "starting another",
                        file=progress,
                    )
                self._processes[index] = self._start()

    def shut_down(self) -> None:
        self.stop.set()
        deadline = time.monotonic() + self._poll_timeout + 5
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
        # A worker deep in a long activity gets SIGTERM (it finishes nothing
        # more), then SIGKILL: the task it held times out in the backend.
        for process in self._processes:
            if process.is_alive():
                process.terminate()
                process.join(2)
            if process.is_alive():
                process.kill()
                process.join(1)
