"""The activity worker: polls SWF activity task lists and runs activity code.

The worker is the loop around user functions: it takes a task, turns its JSON
input into a Python value, calls the function the task's activity type names,
heartbeats while the function runs, and reports the outcome. Whatever goes
wrong with one task (bad input, unknown type, an exception, an oversized or
unserialisable result, a task that timed out meanwhile) is reported or logged,
and the loop goes on to the next task.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from cpe.runtime.activity import ActivityDefinition
from cpe.runtime.activity_context import (
    ActivityContext,
    ActivityFailure,
    call_with_context,
)
from cpe.runtime.blobs import BlobError, BlobStore, reference_in
from cpe.runtime.swf_errors import (
    DEFAULT_RETRY,
    DETAILS_LIMIT,
    REASON_LIMIT,
    Backoff,
    RetryPolicy,
    call_with_retries,
    describe_exception,
    is_unknown_resource,
    log_poll_failure,
    log_respond_failure,
    shorten,
    shorten_middle,
)

logger = logging.getLogger(__name__)

EventObserver = Callable[[str, dict[str, Any]], None]
"""`on_event(kind, info)`: told of each task's progress, for a front end to show."""


class ActivitySwfClient(Protocol):
    """The part of boto3's SWF client (or the embedded backend) a worker uses."""

    def poll_for_activity_task(self, **kwargs: Any) -> dict[str, Any]: ...
    def record_activity_task_heartbeat(self, **kwargs: Any) -> dict[str, Any]: ...
    def respond_activity_task_completed(self, **kwargs: Any) -> Any: ...
    def respond_activity_task_failed(self, **kwargs: Any) -> Any: ...
    def respond_activity_task_canceled(self, **kwargs: Any) -> Any: ...


def default_identity() -> str:
    """`host:pid`: enough for an operator to find the process behind a task."""
    return shorten(f"{socket.gethostname()}:{os.getpid()}", REASON_LIMIT)


@dataclass(frozen=True)
class Outcome:
    """What the worker reports for one task."""

    kind: Literal["completed", "failed", "canceled"]
    result: str | None = None
    reason: str | None = None
    details: str | None = None

    @staticmethod
    def failed(reason: str, details: str | None = None) -> Outcome:
        return Outcome(
            "failed",
            reason=shorten(reason, REASON_LIMIT),
            details=None if details is None else shorten_middle(details, DETAILS_LIMIT),
        )


@dataclass
class _Heartbeat:
    """Records a heartbeat every `interval` seconds while an activity runs.

    A heartbeat keeps a task with a heartbeat timeout alive, and it is the only
    way a worker learns that the decider asked to cancel the task.
    """

    swf: ActivitySwfClient
    task_token: str
    interval: float
    activity_id: str
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    details: str | None = None  # the latest progress, sent with every beat
    _done: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> _Heartbeat:
        # A daemon thread: a heartbeat call stuck in the network must not keep
        # the process alive once everything else has stopped.
        threading.Thread(
            target=self._beat, name=f"cpe-heartbeat-{self.activity_id}", daemon=True
        ).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Taking the lock waits for a beat in flight, so that a cancel request
        # it sees still decides how the task is reported; once `_done` is set
        # under it, no beat starts. The thread is left to end on its own:
        # joining it would cost a thread switch for every task.
        with self._lock:
            self._done.set()

    def _beat(self) -> None:
        while not self._done.wait(self.interval):
            if not self._beat_once():
                return

    def report(self, details: str) -> None:
        """Progress: sent at once, and again with every later beat."""
        self.details = details
        self._beat_once()

    def _beat_once(self) -> bool:
        """One heartbeat; False once beating is pointless (the task is gone)."""
        with self._lock:
            if self._done.is_set():
                return False
            answer = record_heartbeat(
                self.swf, self.task_token, self.details, self.activity_id
            )
        if answer == "cancel" and not self.cancel_requested.is_set():
            logger.info("cancel requested for activity %s", self.activity_id)
            self.cancel_requested.set()
        return answer != "gone"


HeartbeatAnswer = Literal["ok", "cancel", "gone"]


def record_heartbeat(
    swf: ActivitySwfClient, token: str, details: str | None, activity_id: str
) -> HeartbeatAnswer:
    """One heartbeat of a task: `cancel` when a cancel was requested, `gone`
    when SWF no longer knows the task, `ok` otherwise (a failed call is
    logged and counts as ok: the next beat tries again)."""
    request: dict[str, Any] = {"taskToken": token}
    if details is not None:
        request["details"] = details
    try:
        answer = swf.record_activity_task_heartbeat(**request)
    except Exception as error:
        if is_unknown_resource(error):
            logger.warning(
                "heartbeat of activity %s refused: SWF no longer knows the "
                "task (timed out or execution closed)",
                activity_id,
            )
            return "gone"
        logger.warning(
            "heartbeat of activity %s failed: %s",
            activity_id,
            describe_exception(error),
        )
        return "ok"
    logger.debug(
        "heartbeat recorded (details: %s) for activity %s", details, activity_id
    )
    return "cancel" if answer.get("cancelRequested") else "ok"


class ActivityWorker:
    """Runs the activities of `activities` for the tasks of `task_lists`."""

    def __init__(
        self,
        swf: ActivitySwfClient,
        *,
        domain: str,
        task_lists: Sequence[str],
        activities: Mapping[tuple[str, str], ActivityDefinition],
        identity: str | None = None,
        heartbeat_interval: float = 10.0,
        on_event: EventObserver | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        blobs: BlobStore | None = None,
    ) -> None:
        if isinstance(task_lists, str) or not task_lists:
            raise ValueError("task_lists must be a non-empty sequence of names")
        if heartbeat_interval <= 0:
            raise ValueError("heartbeat_interval must be a positive number of seconds")
        self._swf = swf
        self._domain = domain
        self._task_lists = tuple(task_lists)
        self._activities = dict(activities)
        self._identity = identity or default_identity()
        self._heartbeat_interval = heartbeat_interval
        self._on_event = on_event
        self._retry = retry
        # With a blob store, an input sent by reference is read from it and a
        # result too long for SWF is kept in it, the decider's store too.
        self._blobs = blobs

    @property
    def identity(self) -> str:
        return self._identity

    def run(self, stop: threading.Event) -> None:
        """Poll the task lists in turn, one task at a time, until `stop` is set.

        A long poll can hold the loop for up to a minute on real SWF, so `stop`
        takes effect at the end of the poll under way.
        """
        backoff = Backoff(self._retry)
        logger.info(
            "worker %s polling %s in domain %s",
            self._identity,
            ", ".join(self._task_lists),
            self._domain,
        )
        for task_list in itertools.cycle(self._task_lists):
            if stop.is_set():
                break
            try:
                self.poll_once(task_list)
            except Exception as error:
                if stop.is_set():
                    # The poll was cut short by the shutdown (its connection
                    # closed under it): nothing to retry, nothing to report.
                    logger.debug("poll ended by the shutdown: %s", error)
                    break
                delay = backoff.failed()
                log_poll_failure(
                    logger, error, f"task list {task_list}", delay, backoff
                )
                stop.wait(delay)
            else:
                backoff.reset()
        logger.info("worker %s stopped", self._identity)

    def poll_once(self, task_list: str) -> bool:
        """One poll of `task_list`; True if a task came and was handled.

        Errors of the poll itself propagate (`run` retries them); everything
        that goes wrong with the task is reported or logged here.
        """
        task = self._swf.poll_for_activity_task(
            domain=self._domain, taskList={"name": task_list}, identity=self._identity
        )
        if not task.get("taskToken"):
            return False
        self._handle(task, task_list)
        return True

    def _handle(self, task: dict[str, Any], task_list: str) -> None:
        info = _task_info(task, task_list)
        logger.debug(
            "activity %s (%s version %s) of workflow %s started",
            info["activity_id"],
            info["activity_name"],
            info["activity_version"],
            info["workflow_id"],
        )
        self._emit("started", info)
        outcome = self._execute(task, info)
        if self._respond(task["taskToken"], outcome, info):
            self._emit(outcome.kind, _outcome_info(info, outcome))

    def _execute(self, task: dict[str, Any], info: dict[str, Any]) -> Outcome:
        """Parse the input, find the code, run it: the outcome to report."""
        value = _parse_input(task.get("input"), self._blobs)
        if isinstance(value, Outcome):
            return value
        definition = self._activities.get(
            (info["activity_name"], info["activity_version"])
        )
        if definition is None:
            return Outcome.failed(
                f"no code for activity {info['activity_name']} version "
                f"{info['activity_version']} on worker {self._identity}"
            )
        heartbeat = _Heartbeat(
            self._swf, task["taskToken"], self._heartbeat_interval, info["activity_id"]
        )
        with heartbeat:
            context = ActivityContext.for_task(
                info,
                functools.partial(self._progress, heartbeat, info),
                heartbeat.cancel_requested,
            )
            outcome = call_in_context(definition, value, context, self._blobs)
        if heartbeat.cancel_requested.is_set():
            # Python cannot safely interrupt a running function, so a cancel
            # request only takes effect once the function has returned: its
            # result (or failure) is dropped and the task reported canceled.
            return Outcome(
                "canceled",
                details=f"cancel requested while running; the {outcome.kind} "
                "outcome of the function was discarded",
            )
        return outcome

    def _respond(self, token: str, outcome: Outcome, info: dict[str, Any]) -> bool:
        """Report `outcome`; True if SWF accepted it."""
        try:
            call_with_retries(
                lambda: self._send(token, outcome),
                what=f"reporting activity {info['activity_id']} {outcome.kind}",
                policy=self._retry,
            )
        except Exception as error:
            log_respond_failure(
                logger, error, f"activity {info['activity_id']}", outcome.kind
            )
            if is_unknown_resource(error):
                self._emit("lost", {**info, "reason": describe_exception(error)})
            return False
        logger.debug("activity %s reported %s", info["activity_id"], outcome.kind)
        return True

    def _send(self, token: str, outcome: Outcome) -> None:
        if outcome.kind == "completed":
            self._swf.respond_activity_task_completed(
                taskToken=token, result=outcome.result
            )
        elif outcome.kind == "failed":
            self._swf.respond_activity_task_failed(
                taskToken=token,
                reason=outcome.reason or "",
                details=outcome.details or "",
            )
        else:
            self._swf.respond_activity_task_canceled(
                taskToken=token, details=outcome.details or ""
            )

    def _progress(
        self, heartbeat: _Heartbeat, info: dict[str, Any], value: Any
    ) -> None:
        heartbeat.report(shorten(progress_text(value), DETAILS_LIMIT))
        self._emit("progress", {**info, "progress": value})

    def _emit(self, kind: str, info: dict[str, Any]) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(kind, info)
        except Exception:
            # An observer is a display aid: its bugs must not lose a task.
            logger.warning(
                "on_event observer raised on %s; ignored", kind, exc_info=True
            )


def _task_info(task: dict[str, Any], task_list: str) -> dict[str, Any]:
    activity_type = task.get("activityType") or {}
    execution = task.get("workflowExecution") or {}
    return {
        "activity_id": task.get("activityId", ""),
        "activity_name": activity_type.get("name", ""),
        "activity_version": activity_type.get("version", ""),
        "workflow_id": execution.get("workflowId", ""),
        "run_id": execution.get("runId", ""),
        "task_list": task_list,
    }


def _outcome_info(info: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    extra = {
        "result": outcome.result,
        "reason": outcome.reason,
        "details": outcome.details,
    }
    return {**info, **{key: value for key, value in extra.items() if value is not None}}


def _parse_input(text: str | None, blobs: BlobStore | None = None) -> Any:
    """The task input as a Python value (read from the blob store when it is a
    reference), or a failed Outcome if it is not JSON."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as error:
        return Outcome.failed(
            f"task input is not valid JSON: {error}",
            details=shorten(text, DETAILS_LIMIT),
        )
    digest = reference_in(value)
    if digest is None:
        return value
    if blobs is None:
        return Outcome.failed(
            f"the task input is kept in a blob store ({digest}), and this worker "
            "has none: give the workers the decider's blob store"
        )
    try:
        return json.loads(blobs.get(text))
    except (BlobError, ValueError) as error:
        return Outcome.failed(f"the task input ({digest}) cannot be read: {error}")


def call_in_context(
    definition: ActivityDefinition,
    value: Any,
    context: ActivityContext,
    blobs: BlobStore | None = None,
    *,
    keep_whole: bool = False,
) -> Outcome:
    """Run the activity with its context (`current_context()`, or a `context`
    parameter); an ActivityFailure it raises chooses the reason and details.
    With `keep_whole` a result is returned whatever its length, for a caller
    that fits it to SWF itself (see fit_result)."""
    chosen: list[ActivityFailure] = []

    def function(task: Any) -> Any:
        try:
            return call_with_context(definition.function, task, context)
        except ActivityFailure as failure:
            chosen.append(failure)
            raise

    outcome = _call(
        ActivityDefinition(definition.name, definition.version, function),
        value,
        blobs,
        keep_whole=keep_whole,
    )
    if chosen:
        return Outcome.failed(chosen[0].reason, chosen[0].details)
    return outcome


def progress_text(value: Any) -> str:
    """Progress as heartbeat details: JSON when it can be, else its repr."""
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return _safe_repr(value)


def _call(
    definition: ActivityDefinition,
    value: Any,
    blobs: BlobStore | None = None,
    *,
    keep_whole: bool = False,
) -> Outcome:
    """Run the activity function and serialise what it returns."""
    try:
        result = definition.function(value)
    except (Exception, SystemExit, KeyboardInterrupt) as error:
        # sys.exit() or a stray KeyboardInterrupt in activity code ends the
        # task, not the worker that runs it.
        return Outcome.failed(describe_exception(error), details=traceback.format_exc())
    try:
        # allow_nan=False: NaN and Infinity are not JSON, and the decider
        # parses results as strict JSON.
        text = json.dumps(result, allow_nan=False)
    except (TypeError, ValueError) as error:
        return Outcome.failed(
            f"result of {definition.name} version {definition.version} is not "
            f"JSON-serialisable: {describe_exception(error)}",
            details=shorten(_safe_repr(result), DETAILS_LIMIT),
        )
    if keep_whole:
        return Outcome("completed", result=text)
    return fit_result(text, blobs, f"{definition.name} version {definition.version}")


def fit_result(text: str, blobs: BlobStore | None, activity: str) -> Outcome:
    """A result as SWF can carry it: itself, a reference to it in the blob
    store when it is too long, or a failure saying why it cannot travel."""
    if len(text) <= DETAILS_LIMIT:
        return Outcome("completed", result=text)
    if blobs is not None:
        try:
            return Outcome("completed", result=blobs.put(text))
        except (BlobError, OSError) as error:
            return Outcome.failed(
                f"the result of {activity} could not be kept in the blob store: {error}"
            )
    return Outcome.failed(
        f"result of {activity} is {len(text)} characters of JSON, over SWF's limit "
        f"of {DETAILS_LIMIT}, and this worker has no blob store to keep it in",
        details=shorten(text, DETAILS_LIMIT),
    )


def _safe_repr(value: Any) -> str:
    """repr() for a failure's details; some values cannot even be shown."""
    try:
        return repr(value)
    except Exception as error:
        return f"<{type(value).__name__} that cannot be shown: {describe_exception(error)}>"
