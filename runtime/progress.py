"""Telling a person at a terminal how an execution is going, from its history."""

from __future__ import annotations

import datetime
import json
from typing import Any, TextIO

from cpe.runtime.activity_ids import parse_activity_id, step_of_timeout_timer
from cpe.runtime.history import (
    EVENT_HANDLING,
    CannotContinue,
    ExecutionState,
    HistoryError,
    StepStatus,
    fold,
    in_order,
    resolve_requirements,
)
from cpe.runtime.retries import retry_applies


class ProgressPrinter:
    """Prints one line per event that matters to a person: steps and the close.

    It reads the execution's history, so what it shows is what SWF recorded,
    whichever process did the work.
    """

    def __init__(self, stream: TextIO | None, ir: dict[str, Any] | None = None) -> None:
        self.stream = stream
        self._ir = ir
        self._skipped: set[str] = set()
        self._state: ExecutionState | None = None
        self._seen = 0
        self._steps_by_scheduled_id: dict[int, str] = {}
        self._started_at: dict[str, datetime.datetime] = {}
        self._timers: dict[str, str | None] = {}
        self._width = max(
            (len(name) for name in (ir or {}).get("order", [])), default=12
        )

    def show(self, events: list[dict[str, Any]]) -> None:
        self._state = self._fold(events)
        lines: list[str] = []
        for event in events:
            if event["eventId"] <= self._seen:
                continue
            self._seen = event["eventId"]
            line = self._line(event)
            if line:
                lines.append(line)
        lines.extend(self._derived())
        if self.stream is not None:
            for line in lines:
                print(line, file=self.stream, flush=True)

    def _fold(self, events: list[dict[str, Any]]) -> ExecutionState | None:
        """The steps' states as the decider sees them: a completed task whose
        outputs cannot be read is a failed step, and skips leave no event."""
        if self._ir is None:
            return None
        try:
            state = fold(self._ir, in_order(events))
            workflow_input = json.loads(state.input_text) if state.input_text else None
            resolve_requirements(self._ir, state, workflow_input)
        except (HistoryError, CannotContinue, ValueError):
            return None
        return state

    def _derived(self) -> list[str]:
        """Lines for what no event of its own says: a skip, the end of a
        fan-out step, a signal step that took its signal."""
        if self._state is None or self._ir is None:
            return []
        lines = []
        for name, step in self._state.steps.items():
            if name in self._skipped:
                continue
            plan_step = self._ir["steps"][name]
            if step.status is StepStatus.SKIPPED:
                what = f"skipped: {step.reason}"
            elif plan_step.get("for_each") is not None and step.status.is_closed:
                what = f"{step.item_count} items; {step.status.value}" + (
                    f": {step.reason}" if step.reason else ""
                )
            elif (
                plan_step.get("signal") is not None
                and step.status is StepStatus.SUCCEEDED
            ):
                what = f"signal {plan_step['signal']['name']}; succeeded"
            else:
                continue
            self._skipped.add(name)
            lines.append(self._step(name, what))
        return lines

    def _task_failed(self, activity_id: str) -> str | None:
        """The reason the decider sees a completed task as failed, if it does."""
        if self._state is None or self._ir is None:
            return None
        parsed = parse_activity_id(activity_id, frozenset(self._ir["order"]))
        step = self._state.steps.get(parsed.step)
        if step is None:
            return None
        task = step if parsed.item is None else step.items.get(parsed.item)
        if task is None or task.attempt != parsed.attempt:
            return None
        if task.status is StepStatus.FAILED or task.retry is not None:
            return task.reason
        return None

    def _line(self, event: dict[str, Any]) -> str | None:
        event_type = event["eventType"]
        if event_type not in EVENT_HANDLING:
            return None
        key = event_type[0].lower() + event_type[1:] + "EventAttributes"
        attributes = event.get(key) or {}
        when = event.get("eventTimestamp")
        if event_type == "ActivityTaskScheduled":
            step = attributes["activityId"]
            self._steps_by_scheduled_id[event["eventId"]] = step
            self._width = max(self._width, len(step))
            activity = attributes["activityType"]
            return self._step(
                step, f"scheduled ({activity['name']} {activity['version']})"
            )
        step = self._steps_by_scheduled_id.get(attributes.get("scheduledEventId", -1))
        if event_type == "ActivityTaskStarted" and step:
            if isinstance(when, datetime.datetime):
                self._started_at[step] = when
            return self._step(step, f"started on {attributes.get('identity', '?')}")
        if event_type == "ActivityTaskCompleted" and step:
            reason = self._task_failed(step)
            if reason is not None:
                return self._step(
                    step, f"failed: {reason}" + self._retrying(step, "failed")
                )
            return self._step(step, "succeeded" + self._took(step, when))
        if event_type == "ActivityTaskFailed" and step:
            return self._step(
                step,
                f"failed: {attributes.get('reason', '')}"
                + self._retrying(step, "failed"),
            )
        if event_type == "ActivityTaskTimedOut" and step:
            return self._step(
                step,
                f"timed out ({attributes.get('timeoutType')})"
                + self._retrying(step, "timed_out"),
            )
        if event_type == "ActivityTaskCanceled" and step:
            return self._step(step, "canceled")
        if event_type == "ScheduleActivityTaskFailed":
            return self._step(
                attributes["activityId"], f"not scheduled: {attributes['cause']}"
            )
        return self._timer_or_signal(event_type, attributes)

    def _retrying(self, activity_id: str, outcome: str) -> str:
        """What follows a failed attempt: ", will retry (attempt 2 of 3)"."""
        if self._ir is None:
            return ""
        parsed = parse_activity_id(activity_id, frozenset(self._ir["order"]))
        step = self._ir["steps"].get(parsed.step)
        retry = None if step is None else step.get("retry")
        if retry is None or not retry_applies(retry, outcome, parsed.attempt):
            return ""
        return f"; will retry (attempt {parsed.attempt + 1} of {retry['max_attempts']})"

    def _timer_or_signal(
        self, event_type: str, attributes: dict[str, Any]
    ) -> str | None:
        if event_type == "WorkflowExecutionSignaled":
            return f"  signal {attributes.get('signalName')} came in"
        timer_id = str(attributes.get("timerId", ""))
        if event_type == "TimerStarted":
            self._width = max(self._width, len(timer_id))
            seconds = attributes.get("startToFireTimeout")
            purpose = _timer_purpose(attributes.get("control"))
            self._timers[timer_id] = purpose
            if purpose == "retry":
                return self._step(timer_id, f"retry in {seconds} s")
            if purpose == "timeout":
                return self._step(
                    _step_of_timeout(timer_id),
                    f"waiting for a signal, at most {seconds} s",
                )
            return self._step(timer_id, f"waiting {seconds} s")
        if event_type == "TimerFired":
            purpose = self._timers.pop(timer_id, None)
            if purpose == "wait":
                return self._step(timer_id, "waited; succeeded")
            if purpose == "timeout":
                return self._step(
                    _step_of_timeout(timer_id), "no signal in time; timed out"
                )
            return None
        if event_type == "TimerCanceled":
            if self._timers.pop(timer_id, None) == "timeout":
                return None  # the signal came in time, as its own line said
            return self._step(timer_id, "timer canceled")
        if event_type == "StartTimerFailed":
            return self._step(timer_id, f"timer not started: {attributes.get('cause')}")
        return None

    def _step(self, step: str, what: str) -> str:
        return f"  {step:<{self._width}}  {what}"

    def _took(self, step: str, when: Any) -> str:
        start = self._started_at.get(step)
        if start is None or not isinstance(when, datetime.datetime):
            return ""
        return f" in {(when - start).total_seconds():.2f} s"


def _timer_purpose(control: Any) -> str | None:
    """retry, wait or timeout, as the decider wrote it in a timer's control."""
    try:
        data = json.loads(control) if isinstance(control, str) else None
    except json.JSONDecodeError:
        return None
    purpose = data.get("timer") if isinstance(data, dict) else None
    return purpose if isinstance(purpose, str) else None


def _step_of_timeout(timer_id: str) -> str:
    """The signal step a timeout timer (`step@timeout`) belongs to."""
    return step_of_timeout_timer(timer_id) or timer_id
