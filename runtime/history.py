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
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from cpe.grammar.conditions import ConditionError, evaluate_condition
from cpe.grammar.selectors import SelectorMiss, evaluate


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
class StepState:
    name: str
    status: StepStatus = StepStatus.PENDING
    output: Any = None
    reason: str | None = None
    details: str | None = None
    cancel_requested: bool = False


@dataclass
class ExecutionState:
    started: bool = False
    input_text: str | None = None
    closed: bool = False
    cancel_requested: bool = False
    steps: dict[str, StepState] = field(default_factory=dict)


# What the fold does with each event type of SWF's model. "step" events change
# a step's state; "ignore" events carry nothing this version of the decider
# acts on (decision-task bookkeeping, features plans of language 1 lack).
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
    "RequestCancelActivityTaskFailed": "ignore: the activity closed before the cancel",
    "WorkflowExecutionSignaled": "ignore: plans of language 1 wait for no signal",
    "MarkerRecorded": "ignore: markers carry no step state",
    "RecordMarkerFailed": "ignore: markers carry no step state",
    "TimerStarted": "ignore: plans of language 1 start no timer",
    "StartTimerFailed": "ignore: plans of language 1 start no timer",
    "TimerFired": "ignore: plans of language 1 start no timer",
    "TimerCanceled": "ignore: plans of language 1 start no timer",
    "CancelTimerFailed": "ignore: plans of language 1 start no timer",
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
    """

    def __init__(self, ir: dict[str, Any]) -> None:
        self.ir = ir
        self.state = ExecutionState(
            steps={name: StepState(name) for name in ir["order"]}
        )
        self.by_scheduled_id: dict[int, StepState] = {}
        self.last_event_id = 0

    def snapshot(self) -> ExecutionState:
        """A copy of the state that deciding may change freely.

        Step outputs are shared with the folder's state rather than copied:
        they are parsed results that nothing changes after folding, and
        copying them made each snapshot cost as much as every output ever
        produced (the bulk of an incremental decision on a long history).
        Every other field that is not a plain value is copied deeply.
        """
        state = _copy_fields(self.state, keep=("steps",))
        state.steps = {
            name: _copy_fields(step, keep=("output",))
            for name, step in self.state.steps.items()
        }
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
                    f"event {event.get('eventId')} has an unknown type {event_type!r}"
                )
            try:
                event_id = int(event["eventId"])
                if event_id <= self.last_event_id:
                    raise HistoryError(
                        f"event {event_id} comes after event {self.last_event_id}"
                    )
                self._apply(event_type, event)
            except (KeyError, TypeError, ValueError) as error:
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
        elif handling == "step":
            getattr(self, "_on_" + event_type)(event, _attributes(event))

    def _step_by_activity_id(self, activity_id: str) -> StepState:
        step = self.state.steps.get(activity_id)
        if step is None:
            raise HistoryError(
                f"activity id {activity_id!r} is not a step of this plan"
            )
        return step

    def _scheduled(
        self, attributes: dict[str, Any], *, closing: bool = True
    ) -> StepState:
        """The step a task event is about, which must be open to receive it."""
        scheduled_id = int(attributes["scheduledEventId"])
        step = self.by_scheduled_id.get(scheduled_id)
        if step is None:
            raise HistoryError(f"no ActivityTaskScheduled event has id {scheduled_id}")
        expected = (
            (StepStatus.SCHEDULED, StepStatus.STARTED)
            if closing
            else (StepStatus.SCHEDULED,)
        )
        if step.status not in expected:
            raise HistoryError(
                f"step {step.name} is {step.status.value} already; an event cannot "
                "start or close it again"
            )
        return step

    def _on_ActivityTaskScheduled(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        step = self._step_by_activity_id(str(attributes["activityId"]))
        if step.status.is_open:
            # SWF refuses a second open task with one activity id.
            raise HistoryError(f"step {step.name} is scheduled again while still open")
        # A step scheduled again after it closed is a new attempt (a retry).
        step.status = StepStatus.SCHEDULED
        step.output = step.reason = step.details = None
        step.cancel_requested = False
        self.by_scheduled_id[int(event["eventId"])] = step

    def _on_ScheduleActivityTaskFailed(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        step = self._step_by_activity_id(str(attributes["activityId"]))
        step.status = StepStatus.FAILED
        step.reason = f"could not be scheduled: {attributes['cause']}"

    def _on_ActivityTaskStarted(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        self._scheduled(attributes, closing=False).status = StepStatus.STARTED

    def _on_ActivityTaskCompleted(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        step = self._scheduled(attributes)
        try:
            step.output = self._output(step.name, _text_or_none(attributes, "result"))
        except _OutputError as error:
            step.status = StepStatus.FAILED
            step.reason = str(error)
            return
        step.status = StepStatus.SUCCEEDED

    def _on_ActivityTaskFailed(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        step = self._scheduled(attributes)
        step.status = StepStatus.FAILED
        step.reason = (
            _text_or_none(attributes, "reason")
            or "the activity failed without a reason"
        )
        step.details = _text_or_none(attributes, "details")

    def _on_ActivityTaskTimedOut(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        step = self._scheduled(attributes)
        step.status = StepStatus.TIMED_OUT
        step.reason = f"timed out ({attributes['timeoutType']})"
        step.details = _text_or_none(attributes, "details")

    def _on_ActivityTaskCanceled(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        step = self._scheduled(attributes)
        step.status = StepStatus.CANCELED
        step.reason = "canceled"
        step.details = _text_or_none(attributes, "details")

    def _on_ActivityTaskCancelRequested(
        self, event: dict[str, Any], attributes: dict[str, Any]
    ) -> None:
        self._step_by_activity_id(str(attributes["activityId"])).cancel_requested = True

    def _output(self, step_name: str, result: str | None) -> Any:
        """What later steps see of a step: its result shaped by outputs_spec."""
        try:
            data = None if result in (None, "") else json.loads(result)
        except json.JSONDecodeError as error:
            raise _OutputError(f"its result is not JSON: {error}") from None
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


def fold(ir: dict[str, Any], events: list[dict[str, Any]]) -> ExecutionState:
    """The state of every step of `ir` after `events`; raises HistoryError."""
    return Folder(ir).fold(events)


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


class ConditionFailed(Exception):
    """A step's condition could not be evaluated on the execution's data."""


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
    """Mark the steps that will not run as skipped (a requirement closed the
    wrong way, or the step's condition is false) and return the steps ready to
    schedule; raises ConditionFailed.

    Skips are not SWF events: they follow from the other steps' states, so
    everyone who reads a history (the decider, diagrams) derives them here.
    One pass in topological order suffices, since a skip can only affect
    steps later in the order.
    """
    ready: list[str] = []
    for name in ir["order"]:
        step = state.steps[name]
        if step.status is not StepStatus.PENDING:
            continue
        required = [
            (state.steps[r["step"]], r["status"]) for r in ir["steps"][name]["requires"]
        ]
        if not all(other.status.is_closed for other, _ in required):
            continue
        unmet = [
            (other, wanted)
            for other, wanted in required
            if not satisfies(other, wanted)
        ]
        if unmet:
            other, wanted = unmet[0]
            step.status = StepStatus.SKIPPED
            step.reason = f"{other.name} is {other.status.value}, not {wanted}"
        elif not _condition_holds(ir, state, name, workflow_input):
            step.status = StepStatus.SKIPPED
            step.reason = f"its condition is false: {ir['steps'][name]['when']['text']}"
        else:
            ready.append(name)
    return ready
