"""Telling a person at a terminal how an execution is going, from its history."""

from __future__ import annotations

import datetime
import json
from typing import Any, TextIO

from cpe.runtime.history import (
    EVENT_HANDLING,
    ConditionFailed,
    ExecutionState,
    HistoryError,
    StepStatus,
    fold,
    in_order,
    resolve_requirements,
)


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
        lines.extend(self._newly_skipped())
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
        except (HistoryError, ConditionFailed, ValueError):
            return None
        return state

    def _newly_skipped(self) -> list[str]:
        if self._state is None:
            return []
        lines = []
        for name, step in self._state.steps.items():
            if step.status is StepStatus.SKIPPED and name not in self._skipped:
                self._skipped.add(name)
                lines.append(self._step(name, f"skipped: {step.reason}"))
        return lines

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
            folded = self._state.steps.get(step) if self._state else None
            if folded is not None and folded.status is StepStatus.FAILED:
                return self._step(step, f"failed: {folded.reason}")
            return self._step(step, "succeeded" + self._took(step, when))
        if event_type == "ActivityTaskFailed" and step:
            return self._step(step, f"failed: {attributes.get('reason', '')}")
        if event_type == "ActivityTaskTimedOut" and step:
            return self._step(step, f"timed out ({attributes.get('timeoutType')})")
        if event_type == "ActivityTaskCanceled" and step:
            return self._step(step, "canceled")
        if event_type == "ScheduleActivityTaskFailed":
            return self._step(
                attributes["activityId"], f"not scheduled: {attributes['cause']}"
            )
        return None

    def _step(self, step: str, what: str) -> str:
        return f"  {step:<{self._width}}  {what}"

    def _took(self, step: str, when: Any) -> str:
        start = self._started_at.get(step)
        if start is None or not isinstance(when, datetime.datetime):
            return ""
        return f" in {(when - start).total_seconds():.2f} s"
