"""Where an execution stands, read from its history, for drawing on the diagram.

The runtime's fold gives each step's state; this adds what a picture needs and
the fold does not keep: how many times each step was scheduled, which steps the
decider skipped (it derives skips and records no event for them) and how the
workflow closed.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cpe.runtime.history import (
    EVENT_HANDLING,
    ConditionFailed,
    ExecutionState,
    StepStatus,
    fold,
    in_order,
    resolve_requirements,
)


@dataclass(frozen=True)
class Overlay:
    """The state of each step (by name) and of the workflow after a history."""

    status: dict[str, StepStatus]
    attempts: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    closed_by: str | None = None  # the event type that closed the workflow


def overlay_from_history(ir: dict[str, Any], events: list[dict[str, Any]]) -> Overlay:
    """The overlay of `events` on `ir`; raises HistoryError for a bad history."""
    ordered = in_order(events)
    state = fold(ir, ordered)
    try:
        resolve_requirements(ir, state, _input_of(state))
    except ConditionFailed:
        pass  # the decider fails such a workflow; the picture shows where it stood
    return Overlay(
        status={name: state.steps[name].status for name in ir["order"]},
        attempts=attempts(ordered),
        reasons={
            name: step.reason
            for name, step in state.steps.items()
            if step.reason is not None
        },
        closed_by=closing_event(ordered),
    )


def _input_of(state: ExecutionState) -> Any:
    try:
        return json.loads(state.input_text) if state.input_text else None
    except ValueError:
        return None


def attempts(events: list[dict[str, Any]]) -> dict[str, int]:
    """How many times each activity id was scheduled.

    Plans of language 1 schedule a step once; counting events rather than
    assuming one keeps this right once retries schedule a step again.
    """
    counts: Counter[str] = Counter()
    for event in events:
        if event.get("eventType") == "ActivityTaskScheduled":
            attributes = event.get("activityTaskScheduledEventAttributes") or {}
            counts[str(attributes.get("activityId"))] += 1
    return dict(counts)


def closing_event(events: list[dict[str, Any]]) -> str | None:
    """The type of the event that closed the workflow, if one did."""
    for event in reversed(events):
        if EVENT_HANDLING.get(event.get("eventType", "")) == "closed":
            return str(event["eventType"])
    return None
