"""The worker daemon: activity tasks run in processes, several at once.

`--concurrency N` gives N slots. Each slot is an `ActivityWorker` loop (its
polling, reporting and retries) in a thread of the daemon, whose tasks run in
the slot's own activity process. While a task runs, the slot heartbeats; a
heartbeat answered with cancelRequested asks the activity to stop and, if it
has not returned within the cancel grace period, kills its process; the task
is reported canceled either way. A process that dies fails its task and is
replaced. On SIGTERM the slots stop polling; tasks still running when the
grace period ends are handed back: killed and left unanswered, so that SWF
times them out and the workflow's own rules (retry or fail) apply.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from cpe.runtime.activity import ActivityDefinition
from cpe.runtime.activity_process import ActivityProcess, ProcessGone
from cpe.runtime.blobs import BlobStore
from cpe.runtime.daemon import Stopping, join_for, lifecycle, wait_until
from cpe.runtime.registry import Deployment
from cpe.runtime.swf_errors import (
    DETAILS_LIMIT,
    describe_exception,
    shorten,
)
from cpe.runtime.worker import (
    ActivityWorker,
    EventObserver,
    HeartbeatAnswer,
    Outcome,
    _outcome_info,
    _parse_input,
    _task_info,
    default_identity,
    fit_result,
    progress_text,
    record_heartbeat,
)

logger = logging.getLogger("cpe.stack")

# A backend that answers an empty poll at once (a mock, a proxy) would make
# the loop spin; an empty poll quicker than this is followed by a pause.
MIN_EMPTY_POLL = 0.1
# Progress is sent as a heartbeat at most this often (SWF throttles them).
_MIN_PROGRESS_GAP = 1.0
_WAKE = 0.2


def task_lists_for(
    activities: Mapping[tuple[str, str], ActivityDefinition],
    explicit: Sequence[str] | None,
    deployments: Iterable[Deployment],
) -> list[str]:
    """The task lists to poll: given, else the deployed plans', else NAME-VERSION."""
    if explicit:
        return sorted(set(explicit))
    found: set[str] = set()
    deployed: set[tuple[str, str]] = set()
    for activity in _served(activities, deployments):
        found.add(activity["task_list"])
        deployed.add((activity["name"], activity["version"]))
    for name, version in activities:
        if (name, version) not in deployed:
            found.add(f"{name}-{version}")
    return sorted(found)


def heartbeat_warnings(
    activities: Mapping[tuple[str, str], ActivityDefinition],
    deployments: Iterable[Deployment],
    interval: float,
) -> list[str]:
    """A sentence for each deployed activity whose heartbeat timeout is too short.

    A beat every `interval` seconds must come well within the timeout, or a
    healthy task times out whenever one heartbeat is a little late.
    """
    warnings = []
    for activity in _served(activities, deployments):
        timeout = activity["heartbeat_timeout"]
        if timeout != "NONE" and interval > int(timeout) / 2:
            warnings.append(
                f"activity {activity['name']} version {activity['version']} has a "
                f"heartbeat timeout of {timeout} s; a heartbeat every {interval:g} s "
                f"is too rare: use --heartbeat {max(int(timeout) / 3, 0.1):g} or less"
            )
    return sorted(set(warnings))


def _served(
    activities: Mapping[tuple[str, str], ActivityDefinition],
    deployments: Iterable[Deployment],
) -> Iterator[dict[str, Any]]:
    """The deployed plans' declarations of the activities this worker has code for."""
    for deployment in deployments:
        for activity in deployment.ir["activities"].values():
            if (activity["name"], activity["version"]) in activities:
                yield activity


_SLOT_JOIN = 2.0  # seconds to wait, in all, for the slots' polls at shutdown


class _Shutdown:
    """When the work in hand must be handed back, once stopping began."""

    def __init__(self, stopping: Stopping) -> None:
        self._stopping = stopping
        self.deadline: float | None = None

    def due(self) -> bool:
        if self._stopping.hurry.is_set():
            return True
        return self.deadline is not None and time.monotonic() >= self.deadline


class _Beats:
    """The heartbeats of one task: regular, and soon after progress."""

    def __init__(self, swf: Any, token: str, interval: float, activity_id: str) -> None:
        self._swf = swf
        self._token = token
        self._interval = interval
        self._activity_id = activity_id
        self._last = time.monotonic()
        self._progress: str | None = None
        self.due_at = self._last + interval

    def progress(self, value: Any) -> None:
        self._progress = shorten(progress_text(value), DETAILS_LIMIT)
        self.due_at = min(self.due_at, self._last + _MIN_PROGRESS_GAP)

    def beat(self) -> HeartbeatAnswer:
        """One heartbeat: `ok`, `cancel` (cancel requested) or `gone`."""
        self._last = time.monotonic()
        self.due_at = self._last + self._interval
        return record_heartbeat(
            self._swf, self._token, self._progress, self._activity_id
        )


class _ProcessSlot(ActivityWorker):
    """An ActivityWorker whose tasks run in its activity process."""

    def __init__(
        self,
        swf: Any,
        *,
        process: ActivityProcess,
        cancel_grace: float,
        shutdown: _Shutdown,
        **kwargs: Any,
    ) -> None:
        super().__init__(swf, **kwargs)
        self.process = process
        self._cancel_grace = cancel_grace
        self._shutdown = shutdown
        self.in_hand: dict[str, Any] | None = None

    def poll_once(self, task_list: str) -> bool:
        began = time.monotonic()
        got = super().poll_once(task_list)
        if not got:
            time.sleep(max(0.0, MIN_EMPTY_POLL - (time.monotonic() - began)))
        return got

    def _handle(self, task: dict[str, Any], task_list: str) -> None:
        info = _task_info(task, task_list)
        self.in_hand = info
        try:
            self._emit("started", info)
            outcome = self._supervise(task, info)
            if outcome is not None and self._respond(task["taskToken"], outcome, info):
                self._emit(outcome.kind, _outcome_info(info, outcome))
        finally:
            self.in_hand = None

    def _supervise(self, task: dict[str, Any], info: dict[str, Any]) -> Outcome | None:
        """Run the task in the process: its outcome, or None if handed back."""
        value = _parse_input(task.get("input"), self._blobs)
        if isinstance(value, Outcome):
            return value
        # The process gets the input itself, read back from the blob store
        # when it came as a reference.
        task_input = task.get("input") if value is None else json.dumps(value)
        if (info["activity_name"], info["activity_version"]) not in self._activities:
            return Outcome.failed(
                f"no code for activity {info['activity_name']} version "
                f"{info['activity_version']} on worker {self.identity}"
            )
        try:
            self.process.send_task({"info": info, "input": task_input})
        except OSError as error:
            # The process died between two tasks: this one fails (and is
            # retried if the plan says so); the next gets a new process.
            self.process.kill()
            return Outcome.failed(
                f"could not hand activity {info['activity_id']} to an activity "
                f"process: {describe_exception(error)}"
            )
        beats = _Beats(
            self._swf, task["taskToken"], self._heartbeat_interval, info["activity_id"]
        )
        cancel_by: float | None = None
        while True:
            if self._shutdown.due():
                self._hand_back(info)
                return None
            now = time.monotonic()
            if cancel_by is not None and now >= cancel_by:
                self.process.kill()
                return Outcome(
                    "canceled",
                    details=f"cancel requested; the activity did not return within "
                    f"{self._cancel_grace:g} s, so its process was stopped",
                )
            wake = min(beats.due_at, cancel_by or beats.due_at, now + _WAKE)
            try:
                message = self.process.next_message(wake - now)
            except ProcessGone as gone:
                if cancel_by is not None:
                    return Outcome(
                        "canceled",
                        details="cancel requested; the activity's process exited",
                    )
                return Outcome.failed(
                    f"the process running activity {info['activity_id']} exited "
                    f"with code {gone.code} before it returned (killed, out of "
                    "memory, or os._exit); a new one is started"
                )
            if message is not None and message[0] == "outcome":
                outcome: Outcome = message[1]
                if cancel_by is not None:
                    # Python cannot interrupt the function, so the request
                    # takes effect when it returns: its outcome is dropped.
                    return Outcome(
                        "canceled",
                        details=f"cancel requested while running; the {outcome.kind} "
                        "outcome of the activity was discarded",
                    )
                if outcome.kind == "completed" and outcome.result is not None:
                    what = f"{info['activity_name']} version {info['activity_version']}"
                    return fit_result(outcome.result, self._blobs, what)
                return outcome
            if message is not None and message[0] == "progress":
                beats.progress(message[1])
                self._emit("progress", {**info, "progress": message[1]})
            if time.monotonic() >= beats.due_at:
                answer = beats.beat()
                if answer == "gone":
                    lifecycle(
                        logger,
                        "activity_lost",
                        "activity %s of workflow %s is no longer known to SWF (timed "
                        "out or its execution closed); its process is stopped",
                        info["activity_id"],
                        info["workflow_id"],
                        activity_id=info["activity_id"],
                        workflow_id=info["workflow_id"],
                        run_id=info["run_id"],
                    )
                    self.process.kill()
                    self._emit(
                        "lost", {**info, "reason": "SWF no longer knows the task"}
                    )
                    return None
                if answer == "cancel" and cancel_by is None:
                    lifecycle(
                        logger,
                        "activity_cancel_requested",
                        "cancel requested for activity %s of workflow %s",
                        info["activity_id"],
                        info["workflow_id"],
                        activity_id=info["activity_id"],
                        workflow_id=info["workflow_id"],
                        run_id=info["run_id"],
                    )
                    self.process.send_cancel()
                    cancel_by = time.monotonic() + self._cancel_grace

    def _hand_back(self, info: dict[str, Any]) -> None:
        self.process.kill()
        lifecycle(
            logger,
            "task_handed_back",
            "activity %s of workflow %s handed back unanswered at shutdown; SWF "
            "times it out and the workflow's rules apply",
            info["activity_id"],
            info["workflow_id"],
            activity_id=info["activity_id"],
            workflow_id=info["workflow_id"],
            run_id=info["run_id"],
        )


class WorkerDaemon:
    """`concurrency` slots polling `task_lists` for `activities`."""

    def __init__(
        self,
        open_swf: Callable[[], Any],
        *,
        domain: str,
        task_lists: Sequence[str],
        activities: Mapping[tuple[str, str], ActivityDefinition],
        sources: list[str],
        concurrency: int,
        heartbeat_interval: float,
        cancel_grace: float,
        on_event: EventObserver | None,
        blobs: BlobStore | None = None,
    ) -> None:
        self._open_swf = open_swf
        self._domain = domain
        self._task_lists = list(task_lists)
        self._activities = activities
        self._sources = sources
        self._concurrency = concurrency
        self._heartbeat_interval = heartbeat_interval
        self._cancel_grace = cancel_grace
        self._on_event = on_event
        self._blobs = blobs

    def run(self, stopping: Stopping, grace: float) -> None:
        shutdown = _Shutdown(stopping)
        poll_stop = threading.Event()
        slots = [self._slot(index, shutdown) for index in range(self._concurrency)]
        threads = [
            threading.Thread(
                target=slot.run,
                args=(poll_stop,),
                name=f"cpe-slot-{index}",
                daemon=True,
            )
            for index, slot in enumerate(slots)
        ]
        for thread in threads:
            thread.start()
        lifecycle(
            logger,
            "polling",
            "worker polling %s in domain %s with %s slot(s) for %s",
            ", ".join(self._task_lists),
            self._domain,
            self._concurrency,
            ", ".join(f"{n} {v}" for n, v in sorted(self._activities)),
        )
        while not stopping.requested.wait(1.0):
            self._replace_dead_idle(slots)
        shutdown.deadline = time.monotonic() + grace
        poll_stop.set()
        busy = [slot.in_hand["activity_id"] for slot in slots if slot.in_hand]
        lifecycle(
            logger,
            "stopping",
            "%s: polling stops; waiting up to %g s for %s task(s) in hand%s",
            stopping.signal_name or "stop",
            grace,
            len(busy),
            f" ({', '.join(busy)})" if busy else "",
        )
        # Each slot hands its task back itself once the deadline passes; the
        # margin covers the report of a task that ends right at the deadline.
        wait_until(
            lambda: all(slot.in_hand is None for slot in slots),
            shutdown.deadline + 10,
            threading.Event(),
        )
        for slot in slots:
            if slot.in_hand is None:
                slot.process.stop()
        # Let the slots end the polls under way (short on the embedded
        # backend, up to a minute on SWF: not waited for that long) so that
        # they do not run on while the interpreter shuts down.
        join_for(threads, _SLOT_JOIN)
        lifecycle(logger, "stopped", "worker stopped")

    def _slot(self, index: int, shutdown: _Shutdown) -> _ProcessSlot:
        process = ActivityProcess(self._sources, name=f"cpec-activity-{index}")
        process.ensure()
        # Each slot starts its round of the task lists at another list, so
        # that all are polled at once when there are enough slots.
        shift = index % len(self._task_lists)
        return _ProcessSlot(
            self._open_swf(),
            process=process,
            cancel_grace=self._cancel_grace,
            shutdown=shutdown,
            domain=self._domain,
            task_lists=self._task_lists[shift:] + self._task_lists[:shift],
            activities=self._activities,
            identity=f"{default_identity()}#{index}",
            heartbeat_interval=self._heartbeat_interval,
            on_event=self._on_event,
            blobs=self._blobs,
        )

    @staticmethod
    def _replace_dead_idle(slots: Iterable[_ProcessSlot]) -> None:
        for slot in slots:
            if slot.in_hand is None:
                slot.process.ensure()
