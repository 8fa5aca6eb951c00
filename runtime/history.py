"""Folding an SWF history into the state of each step.

The decider never looks at raw events directly: this module reads them once,
in order, and gives one record per step (the idea simpleflow calls folding).
Every event type of SWF's model is listed below with what the fold does with
it, so an event we do not know is a sign of a bad history, not an oversight.
"""

from __future__ import annotations

import copy
import enum
import itertools
import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypeVar

from cpe.grammar.conditions import ConditionError, evaluate_condition
from cpe.grammar.selectors import SelectorMiss, evaluate
from cpe.runtime.activity_ids import (
    format_activity_id,
    parse_activity_id,
    retry_timer_id,
    step_of_timeout_timer,
    timeout_timer_id,
    wait_timer_id,
)
from cpe.runtime.blobs import BlobError, BlobStore, reference_in
from cpe.runtime.fan_out import FanOutError, gathered_output, items_of
from cpe.runtime.retries import retry_applies


class HistoryError(Exception):
    """The history cannot be a valid SWF history of this workflow."""


class StepStatus(StrEnum):
    PENDING = "pending"
    SCHEDULED = "scheduled"
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELED = "canceled"
    SKIPPED = "skipped"

    @property
    def is_open(self) -> bool:
        return self in (StepStatus.SCHEDULED, StepStatus.STARTED)

    @property
    def is_closed(self) -> bool:
        return self not in (
            StepStatus.PENDING,
            StepStatus.SCHEDULED,
            StepStatus.STARTED,
        )

    @property
    def is_failure(self) -> bool:
        return self in (StepStatus.FAILED, StepStatus.TIMED_OUT, StepStatus.CANCELED)


@dataclass
class RetryWait:
    """A failed attempt that will be tried again, once its timer fires."""

    failed_attempt: int
    closing_event_id: int
    timer: str = "unstarted"
    """unstarted, started (the timer is open) or fired."""


@dataclass
class TaskState:
    """One activity task's line of attempts: a step's, or one fan-out item's.

    A task waiting for its retry is STARTED (not closed) with `retry` set; it
    keeps the reason and details of the attempt that failed.
    """

    name: str
    item: int | None = None
    status: StepStatus = StepStatus.PENDING
    output: Any = None
    reason: str | None = None
    details: str | None = None
    cancel_requested: bool = False
    attempt: int = 1
    """The attempt scheduled last (1 before any was)."""
    retry: RetryWait | None = None
    scheduled_event_id: int | None = None
    """The ActivityTaskScheduled event of its last attempt, if any."""

    @property
    def activity_open(self) -> bool:
        """Whether SWF holds an open activity task for it now (a wait or signal
        step is open with no activity)."""
        return (
            self.scheduled_event_id is not None
            and self.status.is_open
            and self.retry is None
        )

    @property
    def activity_id(self) -> str:
        return format_activity_id(self.name, self.item, self.attempt)


@dataclass
class StepState(TaskState):
    """A step. An activity step without for_each is its own task; a fan-out
    step's tasks are `items` (by item index), and its status and output are
    gathered from them once its list is known."""

    items: dict[int, TaskState] = field(default_factory=dict)
    item_count: int | None = None
    """The length of a fan-out step's list, once it was ready."""


@dataclass(frozen=True)
class Timer:
    """An open SWF timer the decider started, and what it is for."""

    purpose: str
    """retry, wait or timeout (of a signal step)."""
    step: str
    item: int | None = None
    attempt: int = 1
    """For a retry: the attempt the timer leads to."""


@dataclass
class ExecutionState:
    started: bool = False
    input_text: str | None = None
    closed: bool = False
    cancel_requested: bool = False
    steps: dict[str, StepState] = field(default_factory=dict)
    timers: dict[str, Timer] = field(default_factory=dict)
    """The open timers by timer id."""
    signals: dict[str, Any] = field(default_factory=dict)
    """The first signal of each name that arrived: its input, parsed."""


def timer_control(timer: Timer) -> str:
    """The control text of a StartTimer decision, which the fold reads back."""
    data: dict[str, Any] = {"timer": timer.purpose, "step": timer.step}
    if timer.purpose == "retry":
        data["item"] = timer.item
        data["attempt"] = timer.attempt
    return json.dumps(data, separators=(",", ":"))


def signal_value(text: str | None) -> Any:
    """A signal's input as a step's output: its JSON, or the text itself."""
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


# What the fold does with each event type of SWF's model. "step" events change
# a step's state, "timer" events a timer's and the step it serves, "signal"
# records a signal; "ignore" events carry nothing the decider acts on.
EVENT_HANDLING: dict[str, str] = {
    "WorkflowExecutionStarted": "workflow input",
    "WorkflowExecutionCancelRequested": "cancel the workflow",
    "WorkflowExecutionCompleted": "closed",
    "WorkflowExecutionFailed": "closed",
    "WorkflowExecutionTimedOut": "closed",
    "WorkflowExecutionCanceled": "closed",
    "WorkflowExecutionTerminated": "closed",
    "WorkflowExecutionContinuedAsNew": "closed",
    "CompleteWorkflowExecutionFailed": "ignore: the next decision closes again",
    "FailWorkflowExecutionFailed": "ignore: the next decision closes again",
    "CancelWorkflowExecutionFailed": "ignore: the next decision closes again",
    "ContinueAsNewWorkflowExecutionFailed": "ignore: plans never continue as new",
    "DecisionTaskScheduled": "ignore: decision-task bookkeeping",
    "DecisionTaskStarted": "ignore: decision-task bookkeeping",
    "DecisionTaskCompleted": "ignore: decision-task bookkeeping",
    "DecisionTaskTimedOut": "ignore: the next decision task decides again",
    "ActivityTaskScheduled": "step",
    "ScheduleActivityTaskFailed": "step",
    "ActivityTaskStarted": "step",
    "ActivityTaskCompleted": "step",
    "ActivityTaskFailed": "step",
    "ActivityTaskTimedOut": "step",
    "ActivityTaskCanceled": "step",
    "ActivityTaskCancelRequested": "step",
    "RequestCancelActivityTaskFailed": (
        "ignore: the activity had closed already, and its closing event says how"
    ),
    "WorkflowExecutionSignaled": "signal",
    "MarkerRecorded": "ignore: markers carry no step state",
    "RecordMarkerFailed": "ignore: markers carry no step state",
    "TimerStarted": "timer",
    "StartTimerFailed": "timer",
    "TimerFired": "timer",
    "TimerCanceled": "timer",
    "CancelTimerFailed": (
        "ignore: the timer had fired already, and TimerFired says so"
    ),
    "StartChildWorkflowExecutionInitiated": "ignore: plans start no child workflow",
    "StartChildWorkflowExecutionFailed": "ignore: plans start no child workflow",
    "ChildWorkflowExecutionStarted": "ignore: plans start no child workflow",
    "ChildWorkflowExecutionCompleted": "ignore: plans start no child workflow",
    "ChildWorkflowExecutionFailed": "ignore: plans start no child workflow",
    "ChildWorkflowExecutionTimedOut": "ignore: plans start no child workflow",
    "ChildWorkflowExecutionCanceled": "ignore: plans start no child workflow",
    "ChildWorkflowExecutionTerminated": "ignore: plans start no child workflow",
    "SignalExternalWorkflowExecutionInitiated": "ignore: plans signal no workflow",
    "SignalExternalWorkflowExecutionFailed": "ignore: plans signal no workflow",
    "ExternalWorkflowExecutionSignaled": "ignore: plans signal no workflow",
    "RequestCancelExternalWorkflowExecutionInitiated": "ignore: plans cancel no workflow",
    "RequestCancelExternalWorkflowExecutionFailed": "ignore: plans cancel no workflow",
    "ExternalWorkflowExecutionCancelRequested": "ignore: plans cancel no workflow",
    "LambdaFunctionScheduled": "ignore: plans schedule no Lambda function",
    "LambdaFunctionStarted": "ignore: plans schedule no Lambda function",
    "LambdaFunctionCompleted": "ignore: plans schedule no Lambda function",
    "LambdaFunctionFailed": "ignore: plans schedule no Lambda function",
    "LambdaFunctionTimedOut": "ignore: plans schedule no Lambda function",
    "ScheduleLambdaFunctionFailed": "ignore: plans schedule no Lambda function",
    "StartLambdaFunctionFailed": "ignore: plans schedule no Lambda function",
}


def _attributes(event: dict[str, Any]) -> dict[str, Any]:
    event_type = event["eventType"]
    key = event_type[0].lower() + event_type[1:] + "EventAttributes"
    attributes = event.get(key)
    if not isinstance(attributes, dict):
        raise HistoryError(f"event {event.get('eventId')} ({event_type}) has no {key}")
    return attributes


class Folder:
    """Folds events into an ExecutionState, all at once or a batch at a time.

    A folder may be fed the history in pieces (the events of each new
    decision task), as long as every piece continues where the last ended:
    `last_event_id` tells where that is. What resolve_requirements and the
    decider derive is computed on a `snapshot`, so the folder's own state
    holds only what the events said.

    With a blob store, an activity result that is a blob reference is read
    from it before the step's outputs_spec sees it.
    """

    def __init__(self, ir: dict[str, Any], blobs: BlobStore | None = None) -> None:
        self.ir = ir
        self.blobs = blobs
        self.state = ExecutionState(
            steps={name: StepState(name) for name in ir["order"]}
        )
        self.by_scheduled_id: dict[int, TaskState] = {}
        self.last_event_id = 0
        self._step_names = frozenset(ir["order"])
        self._signal_steps: dict[str, list[str]] = {}
        for name in ir["order"]:
            signal = ir["steps"][name].get("signal")
            if signal is not None:
                self._signal_steps.setdefault(signal["name"], []).append(name)

    def snapshot(self) -> ExecutionState:
        """A copy of the state that deciding may use as its own.

        Its steps are the folder's own objects: deciding never changes a step
        in place but puts a changed copy in its state's `steps` (see
        `_own`), so sharing them costs nothing and copying thousands of them
        for every decision would cost as much as the whole plan.
        """
        state = _copy_fields(self.state, keep=("steps",))
        state.steps = dict(self.state.steps)
        return state

    def fold(self, events: list[dict[str, Any]]) -> ExecutionState:
        """Fold `events` (in order, each after `last_event_id`) into the state."""
        for event in events:
            if not isinstance(event, dict):
                raise HistoryError(
                    f"a history event must be a mapping, got {event!r:.80}"
                )
            event_type = event.get("eventType")
            if not isinstance(event_type, str) or event_type not in EVENT_HANDLING:
                raise HistoryError(
                    f"event {event.get('eventId')} has an unknown type {event_type!r:.80}"
                )
            try:
                event_id = int(event["eventId"])
                if event_id <= self.last_event_id:
                    raise HistoryError(
                        f"event {event_id} comes after event {self.last_event_id}"
                    )
                self._apply(event_type, event)
            except HistoryError as error:
                raise HistoryError(
                    f"event {event.get('eventId')} ({event_type}): {error}"
                ) from None
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                raise HistoryError(
                    f"event {event.get('eventId')} ({event_type}) is malformed: "
                    f"{type(error).__name__}: {error}"
                ) from error
            self.last_event_id = event_id
        return self.state

    def _apply(self, event_type: str, event: dict[str, Any]) -> None:
        handling = EVENT_HANDLING[event_type]
        if handling == "closed":
            self.state.closed = True
        elif event_type == "WorkflowExecutionStarted":
            self.state.started = True
            self.state.input_text = _text_or_none(_attributes(event), "input")
        elif event_type == "WorkflowExecutionCancelRequested":
            self.state.cancel_requested = True
        elif handling in ("step", "timer", "signal"):
            getattr(self, "_on_" + event_type)(event, _attributes(event))

    # --- activity tasks ------------------------------------------------------

    def _task_by_activity_id(self, activity_id: str) -> TaskState:
        """The task an activity id names, made when the id is its first."""
        parsed = parse_activity_id(activity_id, self._step_names)
        step = self.state.steps.get(parsed.step)
        if step is None:
            raise HistoryError(
                f"activity id {activity_id!r} is not a step of this plan"
            )
        plan_step = self.ir["steps"][step.name]
        if plan_step.get("activity") is None:
            raise HistoryError(f"step {step.name} runs no activity")
        retry = plan_step.get("retry")
        most = 1 if retry is None else int(retry["max_attempts"])
        if parsed.attempt > most:
            raise HistoryError(
                f"activity id {activity_id!r} is attempt {parsed.attempt}; "
                f"step {step.name} has at most {most}"
            )
        if plan_step.get("for_each") is None:
            if parsed.item is not None:
                raise HistoryError(
                    f"activity id {activity_id!r} names an item, but step "
                    f"{step.name} has no for_each"
                )
            return step
        if parsed.item is None:
            raise HistoryError(
                f"activity id {activity_id!r} names no item of the fan-out step "
                f"{step.name}"
            )
        if step.status is StepStatus.PENDING:
            step.status = StepStatus.STARTED
        return step.items.setdefault(parsed.item, TaskState(step.name, parsed.item))

    def _scheduled(
        self, attributes: dict[str, Any], *, closing: bool = True
    ) -> TaskState:
        """The task an event is about, which must be open to receive it."""
        scheduled_id = int(attributes["scheduledEventId"])
        task = self.by_scheduled_id.get(scheduled_id)
        if task is None:
            raise HistoryError(f"no ActivityTaskScheduled event has id {scheduled_id}")
        expected = (
            (StepStatus.SCHEDULED, StepStatus.STARTED)
            if closing
            else (StepStatus.SCHEDULED,)
        )
        if task.status not in expected or task.retry is not None:
            raise HistoryError(
                f"{_task_name(task)} is {task.status.value} already; an event "
                "cannot start or close it again"
            )
        return task

    def _on_ActivityTaskScheduled(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        activity_id = str(attributes["activityId"])
        task = self._task_by_activity_id(activity_id)
        if task.activity_open:
            # SWF refuses a second open task with one activity id.
            raise HistoryError(
                f"{_task_name(task)} is scheduled again while still open"
            )
        # A task scheduled again after it closed is a new attempt (a retry).
        task.attempt = parse_activity_id(activity_id, self._step_names).attempt
        task.status = StepStatus.SCHEDULED
        task.output = task.reason = task.details = None
        task.cancel_requested = False
        task.retry = None
        task.scheduled_event_id = int(event["eventId"])
        self.by_scheduled_id[task.scheduled_event_id] = task

    def _on_ScheduleActivityTaskFailed(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        # Never retried: the activity type or the plan is wrong, not the run.
        task = self._task_by_activity_id(str(attributes["activityId"]))
        task.status = StepStatus.FAILED
        task.retry = None
        task.reason = f"could not be scheduled: {attributes['cause']}"

    def _on_ActivityTaskStarted(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        self._scheduled(attributes, closing=False).status = StepStatus.STARTED

    def _on_ActivityTaskCompleted(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        task = self._scheduled(attributes)
        try:
            task.output = self._output(task.name, _text_or_none(attributes, "result"))
        except _OutputError as error:
            self._failed(task, event, "failed", str(error), None)
            return
        task.status = StepStatus.SUCCEEDED

    def _on_ActivityTaskFailed(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        self._failed(
            self._scheduled(attributes),
            event,
            "failed",
            _text_or_none(attributes, "reason")
            or "the activity failed without a reason",
            _text_or_none(attributes, "details"),
        )

    def _on_ActivityTaskTimedOut(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        self._failed(
            self._scheduled(attributes),
            event,
            "timed_out",
            f"timed out ({attributes['timeoutType']})",
            _text_or_none(attributes, "details"),
        )

    def _failed(
        self,
        task: TaskState,
        event: dict[str, Any],
        outcome: str,
        reason: str,
        details: str | None,
    ) -> None:
        """An attempt ended badly: the task waits for a retry, or is closed."""
        task.output = None
        task.reason, task.details = reason, details
        retry = self.ir["steps"][task.name].get("retry")
        if retry_applies(retry, outcome, task.attempt):
            task.status = StepStatus.STARTED
            task.retry = RetryWait(task.attempt, int(event["eventId"]))
        else:
            task.status = (
                StepStatus.FAILED if outcome == "failed" else StepStatus.TIMED_OUT
            )

    def _on_ActivityTaskCanceled(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        task = self._scheduled(attributes)
        task.status = StepStatus.CANCELED
        task.reason = "canceled"
        task.details = _text_or_none(attributes, "details")

    def _on_ActivityTaskCancelRequested(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        self._task_by_activity_id(str(attributes["activityId"])).cancel_requested = True

    def _output(self, step_name: str, result: str | None) -> Any:
        """What later steps see of a task: its result shaped by outputs_spec."""
        try:
            data = None if result in (None, "") else json.loads(result)
        except json.JSONDecodeError as error:
            raise _OutputError(f"its result is not JSON: {error}") from None
        digest = reference_in(data)
        if digest is not None:
            data = self._blob(digest, result or "")
        activity = self.ir["activities"][self.ir["steps"][step_name]["activity"]]
        outputs = activity["outputs_spec"]
        if outputs is None:
            return data
        shaped: dict[str, Any] = {}
        for key, spec in outputs.items():
            try:
                shaped[key] = evaluate(spec["steps"], data)
            except SelectorMiss as miss:
                raise _OutputError(
                    f"output '{key}' ({spec['selector']}) found nothing in its result: {miss}"
                ) from None
        return shaped

    def _blob(self, digest: str, reference: str) -> Any:
        if self.blobs is None:
            raise _OutputError(
                f"its result is kept in a blob store ({digest}), and the decider "
                "has none: give the decider the workers' blob store"
            )
        try:
            text = self.blobs.get(reference)
        except BlobError as error:
            raise _OutputError(f"its result cannot be read: {error}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise _OutputError(f"its result ({digest}) is not JSON: {error}") from None

    # --- timers --------------------------------------------------------------

    def _on_TimerStarted(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        timer_id = str(attributes["timerId"])
        timer = self._timer_of_control(timer_id, attributes.get("control"))
        if timer_id in self.state.timers:
            raise HistoryError(f"timer {timer_id} is started while still open")
        self.state.timers[timer_id] = timer
        step = self.state.steps[timer.step]
        if timer.purpose == "retry":
            task = self._waiting_task(timer)
            task.retry = replace(task.retry or RetryWait(0, 0), timer="started")
        elif timer.purpose == "wait":
            if step.status is StepStatus.PENDING:
                step.status = StepStatus.STARTED
        elif step.status is StepStatus.PENDING:
            signal_name = self.ir["steps"][step.name]["signal"]["name"]
            if signal_name in self.state.signals:
                # The signal came while the decision that started the timer
                # was being made: it counts, and the timer is left to cancel.
                _succeed(step, self.state.signals[signal_name])
            else:
                step.status = StepStatus.STARTED

    def _timer_of_control(self, timer_id: str, control: Any) -> Timer:
        """The timer a TimerStarted event's control field describes."""
        try:
            data = json.loads(control) if isinstance(control, str) else None
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or data.get("step") not in self.state.steps:
            raise HistoryError(f"timer {timer_id} was not started by this plan")
        purpose, step = data.get("timer"), str(data["step"])
        plan_step = self.ir["steps"][step]
        if purpose == "retry" and plan_step.get("retry") is not None:
            item = data.get("item")
            attempt = data.get("attempt")
            if (item is None or isinstance(item, int)) and isinstance(attempt, int):
                timer = Timer("retry", step, item, attempt)
                if timer_id == retry_timer_id(step, item, attempt):
                    return timer
        elif purpose == "wait" and plan_step.get("wait") is not None:
            if timer_id == wait_timer_id(step):
                return Timer("wait", step)
        elif purpose == "timeout" and plan_step.get("signal") is not None:
            if timer_id == timeout_timer_id(step):
                return Timer("timeout", step)
        raise HistoryError(
            f"timer {timer_id} does not match its control {control!r:.120}"
        )

    def _waiting_task(self, timer: Timer) -> TaskState:
        step = self.state.steps.get(timer.step)
        if step is None:
            raise HistoryError(
                f"timer {format_activity_id(timer.step, timer.item, timer.attempt)} "
                "belongs to no step of this plan"
            )
        task = step if timer.item is None else step.items.get(timer.item)
        if task is None or task.retry is None or task.attempt + 1 != timer.attempt:
            raise HistoryError(
                f"retry timer of {format_activity_id(timer.step, timer.item, timer.attempt)} "
                "belongs to no failed attempt"
            )
        return task

    def _closed_timer(self, attributes: dict[str, Any]) -> tuple[str, Timer]:
        timer_id = str(attributes["timerId"])
        timer = self.state.timers.pop(timer_id, None)
        if timer is None:
            raise HistoryError(f"timer {timer_id} is not open")
        return timer_id, timer

    def _on_TimerFired(self, event: dict[str, Any], attributes: dict[str, Any]) -> None:
        _, timer = self._closed_timer(attributes)
        step = self.state.steps[timer.step]
        if timer.purpose == "retry":
            task = self._waiting_task(timer)
            task.retry = replace(task.retry or RetryWait(0, 0), timer="fired")
        elif timer.purpose == "wait":
            if step.status is StepStatus.STARTED:
                _succeed(step, None)
        elif step.status is StepStatus.STARTED:
            signal = self.ir["steps"][step.name]["signal"]
            step.status = StepStatus.TIMED_OUT
            step.reason = (
                f"no signal {signal['name']} came within {signal['timeout']} s"
            )

    def _on_TimerCanceled(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        # Timers are canceled when the workflow is, or when a signal step's
        # signal came before its timeout.
        _, timer = self._closed_timer(attributes)
        step = self.state.steps[timer.step]
        if timer.purpose == "retry":
            task = self._waiting_task(timer)
            task.retry = None
            task.status = StepStatus.CANCELED
            task.reason = "canceled while waiting for its retry"
        elif timer.purpose == "wait" and step.status is StepStatus.STARTED:
            step.status = StepStatus.CANCELED
            step.reason = "canceled while waiting"

    def _on_StartTimerFailed(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        timer_id, cause = str(attributes["timerId"]), str(attributes["cause"])
        reason = f"its timer {timer_id} could not be started: {cause}"
        if timer_id in self.state.steps and self.ir["steps"][timer_id].get("wait"):
            task: TaskState = self.state.steps[timer_id]
        elif (signal_step := step_of_timeout_timer(timer_id)) in self.state.steps:
            task = self.state.steps[str(signal_step)]
        else:
            parsed = parse_activity_id(timer_id, self._step_names)
            task = self._waiting_task(
                Timer("retry", parsed.step, parsed.item, parsed.attempt)
            )
            task.retry = None
        task.status = StepStatus.FAILED
        task.reason = reason

    # --- signals -------------------------------------------------------------

    def _on_WorkflowExecutionSignaled(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        name = str(attributes["signalName"])
        if name in self.state.signals:
            return
        value = signal_value(_text_or_none(attributes, "input"))
        self.state.signals[name] = value
        for step_name in self._signal_steps.get(name, []):
            step = self.state.steps[step_name]
            # A STARTED signal step is ready and waits with its timeout timer
            # open; a PENDING one takes the signal once it is ready.
            if step.status is StepStatus.STARTED:
                _succeed(step, value)


def _succeed(step: StepState, output: Any) -> None:
    step.status = StepStatus.SUCCEEDED
    step.output = output
    step.reason = step.details = None


def _task_name(task: TaskState) -> str:
    if task.item is None:
        return f"step {task.name}"
    return f"item {task.item} of step {task.name}"


_PLAIN = (str, int, float, bool, type(None), enum.Enum)
_Record = TypeVar("_Record")


def _copy_fields(record: _Record, keep: tuple[str, ...] = ()) -> _Record:
    """A shallow copy of a dataclass with its non-plain fields (but `keep`)
    copied deeply."""
    # Filling __dict__ directly is a few times faster than copy.copy, which
    # matters at thousands of steps per snapshot.
    fields = vars(record)
    copied = object.__new__(type(record))
    copied.__dict__.update(fields)
    for name, value in fields.items():
        if name not in keep and not isinstance(value, _PLAIN):
            copied.__dict__[name] = copy.deepcopy(value)
    return copied


class _OutputError(Exception):
    pass


def _text_or_none(attributes: dict[str, Any], key: str) -> str | None:
    value = attributes.get(key)
    if value is not None and not isinstance(value, str):
        raise HistoryError(f"{key} must be text, not {type(value).__name__}")
    return value


def fold(
    ir: dict[str, Any],
    events: list[dict[str, Any]],
    blobs: BlobStore | None = None,
) -> ExecutionState:
    """The state of every step of `ir` after `events`; raises HistoryError."""
    return Folder(ir, blobs).fold(events)


def in_order(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events in the order they happened (histories may come newest first)."""
    if not isinstance(events, list):
        raise HistoryError("the events must be a list")
    try:
        ordered = sorted(events, key=lambda event: int(event["eventId"]))
    except (KeyError, TypeError, ValueError):
        raise HistoryError("every event needs a numeric eventId") from None
    for before, after in itertools.pairwise(ordered):
        if int(before["eventId"]) == int(after["eventId"]):
            raise HistoryError(f"two events have the id {after['eventId']}")
    return ordered


def satisfies(step: StepState, wanted: str) -> bool:
    """Whether a closed step ended as a requirement with status `wanted` asks."""
    if wanted == "completed":
        return step.status.is_closed
    if wanted == "failed":
        return step.status.is_failure
    return step.status.value == wanted


class CannotContinue(Exception):
    """The execution's data does not let a step go on; the message says why."""


class ConditionFailed(CannotContinue):
    """A step's condition could not be evaluated on the execution's data."""


class ItemsFailed(ConditionFailed):
    """A fan-out step's path gives no list.

    A kind of ConditionFailed so that the readers of resolve_requirements
    written before fan-out (diagrams) treat it as they treat a condition that
    cannot be evaluated.
    """


def condition_context(
    ir: dict[str, Any], state: ExecutionState, name: str, workflow_input: Any
) -> dict[str, Any]:
    """What a step's condition sees: the input, and each required step as its
    outputs plus `status` (succeeded, failed or skipped, as `requires` says)."""
    context: dict[str, Any] = {"__input__": workflow_input}
    for requirement in ir["steps"][name]["requires"]:
        other = state.steps[requirement["step"]]
        status = "failed" if other.status.is_failure else other.status.value
        output = other.output if isinstance(other.output, dict) else {}
        context[other.name] = {**output, "status": status}
    return context


def _condition_holds(
    ir: dict[str, Any], state: ExecutionState, name: str, workflow_input: Any
) -> bool:
    when = ir["steps"][name].get("when")
    if when is None:
        return True
    try:
        return evaluate_condition(
            when["ast"], condition_context(ir, state, name, workflow_input)
        )
    except ConditionError as error:
        raise ConditionFailed(
            f"step {name}'s condition ({when['text']}) cannot be evaluated: {error}"
        ) from None


def resolve_requirements(
    ir: dict[str, Any], state: ExecutionState, workflow_input: Any = None
) -> list[str]:
    """Derive what follows from the steps' states, and return the steps the
    decider may move on; raises CannotContinue.

    A step is skipped when a requirement closed the wrong way or its
    condition is false; a ready signal step whose signal came already
    succeeds; a fan-out step learns its list and, once its items ended, its
    status and output. None of this is an SWF event: it follows from the
    events, so everyone who reads a history (the decider, diagrams) derives it
    here. One pass in topological order suffices, since what a step becomes
    can only affect steps later in the order.

    The steps returned are the pending ones ready to start and the fan-out
    steps with items still to open.
    """
    ready: list[str] = []
    for name in ir["order"]:
        step = state.steps[name]
        plan_step = ir["steps"][name]
        fan_out = plan_step.get("for_each")
        if step.status is StepStatus.PENDING:
            if not _requirements_allow(ir, state, name, workflow_input):
                continue
            signal = plan_step.get("signal")
            if signal is not None and signal["name"] in state.signals:
                _succeed(_own(state, name), state.signals[signal["name"]])
                continue
        elif not (fan_out is not None and step.status is StepStatus.STARTED):
            continue
        if fan_out is not None and not _gather(ir, state, name, workflow_input):
            continue
        ready.append(name)
    return ready


def _requirements_allow(
    ir: dict[str, Any], state: ExecutionState, name: str, workflow_input: Any
) -> bool:
    """Whether a pending step may start now; marks it skipped if it never will."""
    step = state.steps[name]
    required = [
        (state.steps[r["step"]], r["status"]) for r in ir["steps"][name]["requires"]
    ]
    if not all(other.status.is_closed for other, _ in required):
        return False
    unmet = [
        (other, wanted) for other, wanted in required if not satisfies(other, wanted)
    ]
    if unmet:
        other, wanted = unmet[0]
        step = _own(state, name)
        step.status = StepStatus.SKIPPED
        step.reason = f"{other.name} is {other.status.value}, not {wanted}"
        return False
    if not _condition_holds(ir, state, name, workflow_input):
        step = _own(state, name)
        step.status = StepStatus.SKIPPED
        step.reason = f"its condition is false: {ir['steps'][name]['when']['text']}"
        return False
    return True


def _own(state: ExecutionState, name: str) -> StepState:
    """The step `name`, first replaced in `state` by a copy of its own.

    What deciding derives (a skip, a signal or fan-out step closing) is put
    on a copy, because the steps of a snapshot are shared with the folder
    whose state only events may change. The copy is shallow: deciding never
    changes a step's items or output in place.
    """
    step = copy.copy(state.steps[name])
    state.steps[name] = step
    return step


def source_outputs(state: ExecutionState, for_each: dict[str, Any]) -> dict[str, Any]:
    """The output a fan-out step's path starts from, if its step succeeded."""
    source = state.steps.get(for_each["path"]["name"])
    if source is None or source.status is not StepStatus.SUCCEEDED:
        return {}
    return {source.name: source.output}


def _gather(
    ir: dict[str, Any], state: ExecutionState, name: str, workflow_input: Any
) -> bool:
    """Close a fan-out step whose items ended; whether it has items to open."""
    step = state.steps[name]
    plan_step = ir["steps"][name]
    for_each = plan_step["for_each"]
    try:
        items = items_of(
            name, for_each, workflow_input, source_outputs(state, for_each)
        )
    except FanOutError as error:
        raise ItemsFailed(str(error)) from None
    if step.item_count != len(items):
        step = _own(state, name)
        step.item_count = len(items)
    tasks = [step.items.get(index) for index in range(len(items))]
    failed = [t for t in tasks if t is not None and t.status.is_failure]
    tolerated = int(for_each.get("tolerated_failures") or 0)
    if len(failed) > tolerated:
        first = failed[0]
        step = _own(state, name)
        step.status = StepStatus.FAILED
        step.reason = (
            f"{len(failed)} of {len(items)} items failed, more than the "
            f"{tolerated} it tolerates; item {first.item}: "
            f"{first.reason}"
        )
        step.details = first.details
        return False
    if all(t is not None and t.status.is_closed for t in tasks):
        activity = ir["activities"][plan_step["activity"]]
        values = [
            t.output if t is not None and t.status is StepStatus.SUCCEEDED else None
            for t in tasks
        ]
        _succeed(_own(state, name), gathered_output(values, activity["outputs_spec"]))
        return False
    return True
