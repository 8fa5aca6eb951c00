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

from cpe.runtime.activity_ids import (
    format_activity_id,
    retry_timer_id,
    timeout_timer_id,
    wait_timer_id,
)
from cpe.runtime.blobs import BlobError, BlobStore
from cpe.runtime.decisions import (
    DecisionLimitError,
    cancel_activity,
    cancel_timer,
    cancel_workflow,
    complete_workflow,
    fail_workflow,
    schedule_activity,
    start_timer,
)
from cpe.runtime.fan_out import (
    MAX_OPEN_ACTIVITIES,
    FanOutError,
    concurrency_slots,
    items_of,
)
from cpe.runtime.history import (
    CannotContinue,
    ExecutionState,
    HistoryError,
    StepState,
    StepStatus,
    TaskState,
    Timer,
    fold,
    in_order,
    resolve_requirements,
    source_outputs,
    timer_control,
)
from cpe.runtime.retries import retry_delay
from cpe.runtime.swf_errors import PAYLOAD_LIMIT
from cpe.runtime.templates import INPUT_NAME, render

logger = logging.getLogger(__name__)

Decision = dict[str, Any]

ANSWER_BYTES = 900_000
"""How much the decisions of one answer may weigh: SWF takes requests of at
most 1 MB, and the task token and framing need some of it."""


class WorkflowFailure(Exception):
    """Deciding found that the workflow cannot go on; the reason is for its user."""

    def __init__(self, reason: str, details: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


def decide(
    ir: dict[str, Any],
    events: list[dict[str, Any]],
    blobs: BlobStore | None = None,
) -> list[Decision]:
    """The decisions that answer a decision task whose history is `events`.

    With a blob store, results kept in it are read back, and a step input or
    workflow result too long for SWF is put in it and sent as a reference;
    without one, such an input or result fails the workflow.
    """
    return _answer(lambda: _decide_state(ir, fold(ir, in_order(events), blobs), blobs))


def decide_state(
    ir: dict[str, Any], state: ExecutionState, blobs: BlobStore | None = None
) -> list[Decision]:
    """The decisions for a history already folded into `state` (which this
    changes: pass a Folder's snapshot). Gives what `decide` gives on the
    events that were folded, when the Folder had the same blob store."""
    return _answer(lambda: _decide_state(ir, state, blobs))


def _answer(deciding: Callable[[], list[Decision]]) -> list[Decision]:
    try:
        return deciding()
    except WorkflowFailure as failure:
        return [fail_workflow(failure.reason, failure.details)]
    except DecisionLimitError as error:
        return [fail_workflow(f"a decision would break an SWF limit: {error}")]
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


def _decide_state(
    ir: dict[str, Any], state: ExecutionState, blobs: BlobStore | None
) -> list[Decision]:
    if state.closed:
        return []
    if not state.started:
        raise HistoryError("it has no WorkflowExecutionStarted event")
    workflow_input = _workflow_input(ir, state)
    if state.cancel_requested:
        return _cancel(state)

    try:
        ready = resolve_requirements(ir, state, workflow_input)
    except CannotContinue as error:
        raise WorkflowFailure(str(error)) from None
    unhandled = _unhandled_failures(ir, state)
    if unhandled:
        first = unhandled[0]
        details = "\n".join(
            f"{s.name}: {s.reason}" + (f"\n{s.details}" if s.details else "")
            for s in unhandled
        )
        raise WorkflowFailure(
            f"step {first.name} failed{_after_attempts(first)}: {first.reason}",
            details,
        )

    planner = _Planner(ir, state, workflow_input, blobs)
    decisions = planner.plan(ready)
    decisions.extend(_stale_timeouts(state))
    if all(step.status.is_closed for step in state.steps.values()):
        # Canceling a timer brings no new decision task, so the workflow
        # closes in the same answer.
        decisions.append(complete_workflow(_result(ir, state, workflow_input, blobs)))
    return decisions


def _after_attempts(step: StepState) -> str:
    return f" after {step.attempt} attempts" if step.attempt > 1 else ""


class _Planner:
    """The decisions that move the open steps on, within SWF's open-task limit."""

    def __init__(
        self,
        ir: dict[str, Any],
        state: ExecutionState,
        workflow_input: Any,
        blobs: BlobStore | None,
    ) -> None:
        self.ir = ir
        self.state = state
        self.workflow_input = workflow_input
        self.blobs = blobs
        self.decisions: list[Decision] = []
        # SWF refuses more than 1,000 open activity tasks in one execution.
        self.budget = MAX_OPEN_ACTIVITIES - sum(
            1 for task in _tasks(state) if task.activity_open
        )
        self.answer_bytes = 0
        self.full = False

    def plan(self, ready: list[str]) -> list[Decision]:
        # Retries first: a task that waited for its turn goes before new ones.
        for name in self.ir["order"]:
            step = self.state.steps[name]
            if not step.status.is_closed:
                for task in _tasks_of(step):
                    if task.retry is not None:
                        self._retry(task)
        for name in ready:
            self._start(name)
        return self.decisions

    def _start(self, name: str) -> None:
        plan_step = self.ir["steps"][name]
        if plan_step.get("wait") is not None:
            timer = Timer("wait", name)
            self.decisions.append(
                start_timer(
                    wait_timer_id(name),
                    int(plan_step["wait"]["seconds"]),
                    timer_control(timer),
                )
            )
        elif plan_step.get("signal") is not None:
            timeout = plan_step["signal"].get("timeout")
            if timeout is not None:
                self.decisions.append(
                    start_timer(
                        timeout_timer_id(name),
                        int(timeout),
                        timer_control(Timer("timeout", name)),
                    )
                )
        elif plan_step.get("for_each") is not None:
            self._open_items(name, plan_step["for_each"])
        else:
            self._schedule(name, None, 1)

    def _open_items(self, name: str, for_each: dict[str, Any]) -> None:
        step = self.state.steps[name]
        open_items = sum(1 for task in step.items.values() if task.status.is_open)
        slots = concurrency_slots(for_each, open_items)
        for index in range(step.item_count or 0):
            if slots <= 0 or self.budget <= 0 or self.full:
                return
            if index not in step.items:
                self._schedule(name, index, 1)
                slots -= 1

    def _retry(self, task: TaskState) -> None:
        assert task.retry is not None
        next_attempt = task.retry.failed_attempt + 1
        if task.retry.timer == "unstarted":
            retry = self.ir["steps"][task.name]["retry"]
            seconds = retry_delay(
                retry,
                step=task.name,
                item=task.item,
                failed_attempt=task.retry.failed_attempt,
                closing_event_id=task.retry.closing_event_id,
            )
            timer = Timer("retry", task.name, task.item, next_attempt)
            self.decisions.append(
                start_timer(
                    retry_timer_id(task.name, task.item, next_attempt),
                    seconds,
                    timer_control(timer),
                )
            )
        elif task.retry.timer == "fired" and self.budget > 0 and not self.full:
            self._schedule(task.name, task.item, next_attempt)

    def _schedule(self, name: str, item: int | None, attempt: int) -> None:
        plan_step = self.ir["steps"][name]
        activity = self.ir["activities"][plan_step["activity"]]
        task_input = _step_input(
            self.ir,
            self.state,
            name,
            self.workflow_input,
            None if item is None else (item, self._item_value(name, item)),
            self.blobs,
        )
        decision = schedule_activity(
            activity,
            activity_id=format_activity_id(name, item, attempt),
            task_input=task_input,
        )
        size = len(json.dumps(decision, ensure_ascii=False).encode())
        if self.decisions and self.answer_bytes + size > ANSWER_BYTES:
            # The tasks already in this answer bring the next decision task,
            # which schedules what did not fit.
            self.full = True
            return
        self.decisions.append(decision)
        self.answer_bytes += size
        self.budget -= 1

    def _item_value(self, name: str, item: int) -> Any:
        for_each = self.ir["steps"][name]["for_each"]
        try:
            items = items_of(
                name,
                for_each,
                self.workflow_input,
                source_outputs(self.state, for_each),
            )
        except FanOutError as error:  # resolve_requirements read this list already
            raise WorkflowFailure(str(error)) from None
        return items[item]


def _tasks_of(step: StepState) -> list[TaskState]:
    if step.items:
        return [step.items[index] for index in sorted(step.items)]
    return [step]


def _tasks(state: ExecutionState) -> list[TaskState]:
    return [task for step in state.steps.values() for task in _tasks_of(step)]


def _stale_timeouts(state: ExecutionState) -> list[Decision]:
    """Cancel the timeout timers of signal steps whose signal came in time."""
    return [
        cancel_timer(timer_id)
        for timer_id, timer in state.timers.items()
        if timer.purpose == "timeout"
        and state.steps[timer.step].status is not StepStatus.STARTED
    ]


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
    """Cancel every open activity and timer; close once no activity is open."""
    open_tasks = [task for task in _tasks(state) if task.activity_open]
    decisions = [
        cancel_activity(task.activity_id)
        for task in open_tasks
        if not task.cancel_requested
    ]
    decisions.extend(cancel_timer(timer_id) for timer_id in state.timers)
    if not open_tasks:
        decisions.append(cancel_workflow())
    return decisions


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
    subject: str,
    references: list[dict[str, Any]],
    state: ExecutionState,
    workflow_input: Any,
    item: tuple[str, Any] | None = None,
) -> str:
    """Why rendering met an undefined value, in the plan's terms, not Jinja's.

    Only asked once rendering failed: a template may guard an optional value
    (`| default(...)`), so a missing value is not an error by itself.
    `subject` is what was rendered ("step x's input"); `item` is a fan-out
    step's `as` name and item value.
    """
    for reference in references:
        kind = reference["kind"]
        if kind == "step":
            other = state.steps[reference["step"]]
            if other.status is not StepStatus.SUCCEEDED:
                return (
                    f"{subject} uses the output of {other.name}, but {other.name} "
                    f"{_ENDED.get(other.status, 'has not ended')} and left no output"
                )
            data, walked, owner = other.output, other.name, "its output"
        elif kind == "item" and item is not None:
            data, walked, owner = item[1], item[0], "the item"
        else:
            data, walked, owner = workflow_input, INPUT_NAME, "the workflow input"
        for part in reference["path"]:
            if not _has(data, part):
                return (
                    f"{subject} uses {walked}{_show(part)}, which {owner} does not have"
                )
            data = data[part]
            walked += _show(part)
    return f"{subject} uses a value that is not there"


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


def _render_json(
    subject: str,
    template: dict[str, Any],
    context: dict[str, Any],
    state: ExecutionState,
    workflow_input: Any,
    item: tuple[str, Any] | None = None,
) -> Any:
    """Render a template and parse the JSON it gives; WorkflowFailure if not."""
    try:
        text = render(template["template"], context)
    except jinja2.UndefinedError:
        raise WorkflowFailure(
            _what_is_missing(
                subject, template["references"], state, workflow_input, item
            )
        ) from None
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as error:
        message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
        raise WorkflowFailure(f"{subject} could not be rendered: {message}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise WorkflowFailure(
            f"{subject} as rendered is not JSON: {error}", details=text
        ) from None


def _step_input(
    ir: dict[str, Any],
    state: ExecutionState,
    name: str,
    workflow_input: Any,
    item: tuple[int, Any] | None = None,
    blobs: BlobStore | None = None,
) -> str | None:
    """Render, parse and check a step's input; the text to send with the task.

    `item` is a fan-out item's index and value, bound to the step's `as` name.
    """
    step = ir["steps"][name]
    if step["input"] is None:
        return None
    context: dict[str, Any] = {INPUT_NAME: workflow_input}
    for requirement in step["requires"]:
        other = state.steps[requirement["step"]]
        if other.status is StepStatus.SUCCEEDED:
            context[other.name] = other.output
    bound: tuple[str, Any] | None = None
    subject = f"step {name}'s input"
    if item is not None:
        bound = (step["for_each"]["as"], item[1])
        context[bound[0]] = bound[1]
        subject = f"step {name}'s input for item {item[0]}"
    data = _render_json(subject, step["input"], context, state, workflow_input, bound)
    activity = ir["activities"][step["activity"]]
    if activity["input_spec"] is not None:
        _validate(
            data,
            activity["input_spec"],
            f"{subject} does not match {activity['name']}'s input_spec",
        )
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return _fitting(payload, subject, blobs)


def _fitting(text: str, subject: str, blobs: BlobStore | None) -> str:
    """`text`, or a blob reference to it when it is too long for SWF."""
    if len(text) <= PAYLOAD_LIMIT:
        return text
    if blobs is None:
        raise WorkflowFailure(
            f"{subject} is {len(text)} characters; SWF carries at most "
            f"{PAYLOAD_LIMIT} (a decider with a blob store sends it by reference)"
        )
    try:
        return blobs.put(text)
    except (BlobError, OSError) as error:
        raise WorkflowFailure(
            f"{subject} could not be kept in the blob store: {error}"
        ) from None


def _result(
    ir: dict[str, Any],
    state: ExecutionState,
    workflow_input: Any,
    blobs: BlobStore | None,
) -> str:
    outputs = {
        name: state.steps[name].output
        for name in ir["order"]
        if state.steps[name].status is StepStatus.SUCCEEDED
    }
    template = ir["workflow"].get("output")
    if template is not None:
        context: dict[str, Any] = {INPUT_NAME: workflow_input, **outputs}
        data = _render_json(
            "the workflow output", template, context, state, workflow_input
        )
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return _fitting(text, "the workflow output", blobs)
    text = json.dumps(outputs, ensure_ascii=False, separators=(",", ":"))
    if len(text) <= PAYLOAD_LIMIT:
        return text
    if blobs is not None:
        return _fitting(text, "the workflow result", blobs)
    # Without a blob store the full outputs cannot travel; say which steps ran.
    summary = {name: step.status.value for name, step in state.steps.items()}
    return json.dumps({"result_too_large": len(text), "steps": summary})
