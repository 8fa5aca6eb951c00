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

from cpe.runtime.activity_ids import parse_activity_id
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
        attempts=attempts(ordered, frozenset(ir["order"])),
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


def attempts(
    events: list[dict[str, Any]], step_names: frozenset[str] | None = None
) -> dict[str, int]:
    """How many attempts each step was scheduled for, by step name.

    A step of language 1 is scheduled under its own name, maybe more than
    once; a retry of language 2 is `step#2`, and an item of a fan-out
    `step[3]` or `step[3]#2`: a fan-out step counts the attempts of its
    most tried item, so "3 attempts" means some item was tried three times.
    """
    counts: Counter[str] = Counter()
    highest: dict[str, int] = {}
    for event in events:
        if event.get("eventType") == "ActivityTaskScheduled":
            attributes = event.get("activityTaskScheduledEventAttributes") or {}
            activity_id = str(attributes.get("activityId"))
            parsed = parse_activity_id(activity_id, step_names)
            if parsed.item is None and parsed.attempt == 1:
                counts[parsed.step] += 1  # a first attempt, or a re-run
            else:
                highest[parsed.step] = max(highest.get(parsed.step, 1), parsed.attempt)
    for step, attempt in highest.items():
        counts[step] = max(counts.get(step, 0), attempt)
    return dict(counts)


def closing_event(events: list[dict[str, Any]]) -> str | None:
    """The type of the event that closed the workflow, if one did."""
    for event in reversed(events):
        if EVENT_HANDLING.get(event.get("eventType", "")) == "closed":
            return str(event["eventType"])
    return None
