"""What activity code may know of the task it runs, and how it reports progress.

    from cpe.runtime.activity_context import current_context

    @activity(name="Transcode", version="2")
    def transcode(task):
        context = current_context()
        for percent in work(task):
            context.progress({"percent": percent})
            if context.cancel_requested:
                return None   # reported canceled whatever it returns

An activity function may instead take a second parameter named `context`.
The context exists while a worker (`cpec worker`, `cpec run`) runs a task;
outside one (a unit test calling the function), `current_context()` raises
LookupError.
"""

from __future__ import annotations

import contextvars
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cpe.runtime.activity_ids import parse_activity_id

ProgressSink = Callable[[Any], None]


class ActivityFailure(Exception):
    """Raised by activity code to fail its task with this reason and details.

    Any other exception fails the task too, with its traceback as details;
    this one lets the code choose the details (a command's stderr, say).
    """

    def __init__(self, reason: str, details: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


@dataclass
class ActivityContext:
    """The task an activity function is running, and its line to the worker."""

    activity_id: str
    activity_name: str
    activity_version: str
    workflow_id: str
    run_id: str
    _progress: ProgressSink = field(repr=False)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @classmethod
    def for_task(
        cls, info: dict[str, Any], progress: ProgressSink, cancel: threading.Event
    ) -> ActivityContext:
        """The context of the task a worker describes by `info` (its ids)."""
        return cls(
            activity_id=info["activity_id"],
            activity_name=info["activity_name"],
            activity_version=info["activity_version"],
            workflow_id=info["workflow_id"],
            run_id=info["run_id"],
            _progress=progress,
            _cancel=cancel,
        )

    @property
    def attempt(self) -> int:
        """1 for a first attempt, 2 for the first retry, ... (from the activity id)."""
        return parse_activity_id(self.activity_id).attempt

    @property
    def item(self) -> int | None:
        """The fan-out item this task runs (from 0), or None."""
        return parse_activity_id(self.activity_id).item

    @property
    def cancel_requested(self) -> bool:
        """True once the workflow asked to cancel this task: stop and return."""
        return self._cancel.is_set()

    def wait_for_cancel(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds, waking early on a cancel request."""
        return self._cancel.wait(timeout)

    def progress(self, value: Any) -> None:
        """Report progress (JSON-serialisable): heartbeat details, a notification."""
        self._progress(value)


_current: contextvars.ContextVar[ActivityContext] = contextvars.ContextVar(
    "cpe_activity_context"
)


def current_context() -> ActivityContext:
    """The context of the task being run; LookupError outside a worker."""
    try:
        return _current.get()
    except LookupError:
        raise LookupError(
            "no activity task is running here: current_context() works in activity "
            "code run by a worker (cpec worker, cpec run)"
        ) from None


def call_with_context(
    function: Callable[..., Any], value: Any, context: ActivityContext
) -> Any:
    """`function(value)`, or `function(value, context=context)` if it takes one."""
    token = _current.set(context)
    try:
        if takes_context(function):
            return function(value, context=context)
        return function(value)
    finally:
        _current.reset(token)


def takes_context(function: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return "context" in parameters
