"""The decider: a pure function from IR and history to SWF decisions.

`decide` reads nothing but its arguments and returns the decisions for
RespondDecisionTaskCompleted. Polling, paging, responding and logging live
around it (see decision_poller). A history it cannot make sense of, or input
that does not fit the plan, fails the workflow with a reason; it never raises.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from typing import Any

import jinja2
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.validators import validator_for

from cpe.runtime.decisions import (
    cancel_activity,
    cancel_workflow,
    complete_workflow,
    fail_workflow,
    schedule_activity,
)
from cpe.runtime.history import (
    ConditionFailed,
    ExecutionState,
    HistoryError,
    StepState,
    StepStatus,
    fold,
    in_order,
    resolve_requirements,
)
from cpe.runtime.swf_errors import PAYLOAD_LIMIT
from cpe.runtime.templates import INPUT_NAME, render

logger = logging.getLogger(__name__)

Decision = dict[str, Any]


class WorkflowFailure(Exception):
    """Deciding found that the workflow cannot go on; the reason is for its user."""

    def __init__(self, reason: str, details: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


def decide(ir: dict[str, Any], events: list[dict[str, Any]]) -> list[Decision]:
    """The decisions that answer a decision task whose history is `events`."""
    return _answer(lambda: _decide_state(ir, fold(ir, in_order(events))))


def decide_state(ir: dict[str, Any], state: ExecutionState) -> list[Decision]:
    """The decisions for a history already folded into `state` (which this
    changes: pass a Folder's snapshot). Gives what `decide` gives on the
    events that were folded."""
    return _answer(lambda: _decide_state(ir, state))


def _answer(deciding: Callable[[], list[Decision]]) -> list[Decision]:
    try:
        return deciding()
    except WorkflowFailure as failure:
        return [fail_workflow(failure.reason, failure.details)]
    except HistoryError as error:
        return [fail_workflow(f"the history cannot be replayed: {error}")]
    except Exception as error:
        # A bug of ours must not leave the execution without an answer until
        # its timeout; failing it names the problem to whoever watches it.
        logger.exception("deciding raised; failing the workflow execution")
        return [
            fail_workflow(
                f"internal decider error: {type(error).__name__}: {error}",
                traceback.format_exc(),
            )
        ]


def _decide_state(ir: dict[str, Any], state: ExecutionState) -> list[Decision]:
    if state.closed:
        return []
    if not state.started:
        raise HistoryError("it has no WorkflowExecutionStarted event")
    workflow_input = _workflow_input(ir, state)
    if state.cancel_requested:
        return _cancel(state)

    try:
        ready = resolve_requirements(ir, state, workflow_input)
    except ConditionFailed as error:
        raise WorkflowFailure(str(error)) from None
    unhandled = _unhandled_failures(ir, state)
    if unhandled:
        first = unhandled[0]
        details = "\n".join(
            f"{s.name}: {s.reason}" + (f"\n{s.details}" if s.details else "")
            for s in unhandled
        )
        raise WorkflowFailure(f"step {first.name} failed: {first.reason}", details)

    decisions = [
        _schedule(ir, name, _step_input(ir, state, name, workflow_input))
        for name in ready
    ]
    if decisions:
        return decisions
    if all(step.status.is_closed for step in state.steps.values()):
        return [complete_workflow(_result(ir, state))]
    return []


def _workflow_input(ir: dict[str, Any], state: ExecutionState) -> Any:
    text = state.input_text
    try:
        data = None if text in (None, "") else json.loads(text)
    except json.JSONDecodeError as error:
        raise WorkflowFailure(f"the workflow input is not JSON: {error}") from None
    schema = ir["workflow"]["input_spec"]
    if schema is not None:
        _validate(
            data, schema, "the workflow input does not match the plan's input_spec"
        )
    return data


def _validate(data: Any, schema: Any, problem: str) -> None:
    validator_class = validator_for(schema, default=Draft202012Validator)
    error = next(iter(validator_class(schema).iter_errors(data)), None)
    if error is not None:
        raise WorkflowFailure(f"{problem}: {_describe(error)}")


def _describe(error: ValidationError) -> str:
    where = "/".join(str(part) for part in error.absolute_path)
    return f"at /{where}: {error.message}" if where else error.message


def _cancel(state: ExecutionState) -> list[Decision]:
    open_steps = [step for step in state.steps.values() if step.status.is_open]
    if not open_steps:
        return [cancel_workflow()]
    return [
        cancel_activity(step.name) for step in open_steps if not step.cancel_requested
    ]


def _unhandled_failures(ir: dict[str, Any], state: ExecutionState) -> list[StepState]:
    handled = {
        r["step"]
        for step in ir["steps"].values()
        for r in step["requires"]
        if r["status"] in ("failed", "completed")
    }
    return [
        state.steps[name]
        for name in ir["order"]
        if state.steps[name].status.is_failure and name not in handled
    ]


def _what_is_missing(
    name: str, step: dict[str, Any], state: ExecutionState, workflow_input: Any
) -> str:
    """Why rendering met an undefined value, in the plan's terms, not Jinja's.

    Only asked once rendering failed: a template may guard an optional value
    (`| default(...)`), so a missing value is not an error by itself.
    """
    for reference in step["input"]["references"]:
        if reference["kind"] == "step":
            other = state.steps[reference["step"]]
            if other.status is not StepStatus.SUCCEEDED:
                return (
                    f"step {name}'s input uses the output of {other.name}, but "
                    f"{other.name} {_ENDED[other.status]} and left no output"
                )
            data, walked = other.output, other.name
        else:
            data, walked = workflow_input, INPUT_NAME
        for part in reference["path"]:
            if not _has(data, part):
                owner = (
                    "the workflow input"
                    if reference["kind"] == "input"
                    else "its output"
                )
                return (
                    f"step {name}'s input uses {walked}{_show(part)}, "
                    f"which {owner} does not have"
                )
            data = data[part]
            walked += _show(part)
    return f"step {name}'s input uses a value that is not there"


def _has(data: Any, part: str | int) -> bool:
    if isinstance(data, dict):
        return isinstance(part, str) and part in data
    return (
        isinstance(data, list)
        and isinstance(part, int)
        and -len(data) <= part < len(data)
    )


def _show(part: str | int) -> str:
    return f"[{part}]" if isinstance(part, int) else f".{part}"


_ENDED = {
    StepStatus.FAILED: "failed",
    StepStatus.TIMED_OUT: "timed out",
    StepStatus.CANCELED: "was canceled",
    StepStatus.SKIPPED: "was skipped",
}


def _step_input(
    ir: dict[str, Any], state: ExecutionState, name: str, workflow_input: Any
) -> str | None:
    """Render, parse and check a step's input; the text to send with the task."""
    step = ir["steps"][name]
    if step["input"] is None:
        return None
    context: dict[str, Any] = {INPUT_NAME: workflow_input}
    for requirement in step["requires"]:
        other = state.steps[requirement["step"]]
        if other.status is StepStatus.SUCCEEDED:
            context[other.name] = other.output
    try:
        text = render(step["input"]["template"], context)
    except jinja2.UndefinedError:
        raise WorkflowFailure(
            _what_is_missing(name, step, state, workflow_input)
        ) from None
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as error:
        message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
        raise WorkflowFailure(
            f"step {name}'s input could not be rendered: {message}"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise WorkflowFailure(
            f"step {name}'s rendered input is not JSON: {error}", details=text
        ) from None
    activity = ir["activities"][step["activity"]]
    if activity["input_spec"] is not None:
        _validate(
            data,
            activity["input_spec"],
            f"step {name}'s input does not match {activity['name']}'s input_spec",
        )
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if len(payload) > PAYLOAD_LIMIT:
        raise WorkflowFailure(
            f"step {name}'s input is {len(payload)} characters; SWF carries at most "
            f"{PAYLOAD_LIMIT}"
        )
    return payload


def _result(ir: dict[str, Any], state: ExecutionState) -> str:
    outputs = {
        name: state.steps[name].output
        for name in ir["order"]
        if state.steps[name].status is StepStatus.SUCCEEDED
    }
    text = json.dumps(outputs, ensure_ascii=False, separators=(",", ":"))
    if len(text) <= PAYLOAD_LIMIT:
        return text
    # Without a blob store the full outputs cannot travel; say which steps ran.
    summary = {name: step.status.value for name, step in state.steps.items()}
    return json.dumps({"result_too_large": len(text), "steps": summary})


def _schedule(ir: dict[str, Any], name: str, task_input: str | None) -> Decision:
    activity = ir["activities"][ir["steps"][name]["activity"]]
    return schedule_activity(activity, activity_id=name, task_input=task_input)
