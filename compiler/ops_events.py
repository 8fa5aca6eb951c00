"""Reading SWF history events for people: one-line summaries, step states
without a plan, the workflow's outcome, and JSON with dates as ISO text."""

from __future__ import annotations

from typing import Any

from cpe.compiler.ops_times import iso
from cpe.runtime.activity_ids import parse_activity_id

# The attributes worth a glance, per event type, in the order shown.
_KEY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "WorkflowExecutionStarted": ("workflowType", "input"),
    "WorkflowExecutionCompleted": ("result",),
    "WorkflowExecutionFailed": ("reason", "details"),
    "WorkflowExecutionTerminated": ("reason", "details", "cause"),
    "WorkflowExecutionTimedOut": ("timeoutType",),
    "WorkflowExecutionSignaled": ("signalName", "input"),
    "ActivityTaskScheduled": ("activityId", "activityType", "input"),
    "ActivityTaskStarted": ("identity", "scheduledEventId"),
    "ActivityTaskCompleted": ("scheduledEventId", "result"),
    "ActivityTaskFailed": ("scheduledEventId", "reason", "details"),
    "ActivityTaskTimedOut": ("scheduledEventId", "timeoutType"),
    "ActivityTaskCanceled": ("scheduledEventId",),
    "ActivityTaskCancelRequested": ("activityId",),
    "ScheduleActivityTaskFailed": ("activityId", "cause"),
    "DecisionTaskStarted": ("identity",),
    "DecisionTaskCompleted": ("startedEventId",),
    "DecisionTaskTimedOut": ("timeoutType",),
    "TimerStarted": ("timerId", "startToFireTimeout"),
    "TimerFired": ("timerId",),
    "TimerCanceled": ("timerId",),
}
SUMMARY_WIDTH = 100

CLOSE_STATUS_OF_EVENT = {
    "WorkflowExecutionCompleted": "COMPLETED",
    "WorkflowExecutionFailed": "FAILED",
    "WorkflowExecutionCanceled": "CANCELED",
    "WorkflowExecutionTerminated": "TERMINATED",
    "WorkflowExecutionTimedOut": "TIMED_OUT",
    "WorkflowExecutionContinuedAsNew": "CONTINUED_AS_NEW",
}


def attributes(event: dict[str, Any]) -> dict[str, Any]:
    event_type = str(event.get("eventType", ""))
    key = event_type[:1].lower() + event_type[1:] + "EventAttributes"
    found = event.get(key)
    return found if isinstance(found, dict) else {}


def _shown(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"name", "version"}:
        return f"{value['name']} {value['version']}"
    text = str(value)
    return " ".join(text.split())


def summary(event: dict[str, Any], width: int = SUMMARY_WIDTH) -> str:
    """The event's key attributes as `key=value` pairs, cut to `width`."""
    found = attributes(event)
    keys = _KEY_ATTRIBUTES.get(str(event.get("eventType")), ())
    text = " ".join(f"{k}={_shown(found[k])}" for k in keys if k in found)
    return text if len(text) <= width else text[: width - 1] + "…"


def jsonable(value: Any) -> Any:
    """`value` with every datetime as ISO text, ready for json.dumps."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return iso(value)
    return value


def step_states_from_events(events: list[dict[str, Any]]) -> dict[str, str]:
    """Each step's latest state as the activity events tell it (no plan needed).

    Only steps that were scheduled appear; a fan-out step shows the state of
    its items as counts, e.g. "started (3 succeeded, 2 started)".
    """
    by_scheduled: dict[int, str] = {}
    attempts: dict[str, str] = {}  # activity id -> state, last word wins
    for event in sorted(events, key=lambda e: int(e["eventId"])):
        event_type = event["eventType"]
        found = attributes(event)
        if event_type == "ActivityTaskScheduled":
            by_scheduled[int(event["eventId"])] = found["activityId"]
            attempts[found["activityId"]] = "scheduled"
        elif event_type == "ScheduleActivityTaskFailed":
            attempts[found["activityId"]] = "failed"
        elif event_type.startswith("ActivityTask") and "scheduledEventId" in found:
            activity_id = by_scheduled.get(int(found["scheduledEventId"]))
            if activity_id is not None:
                attempts[activity_id] = _ACTIVITY_STATE.get(event_type, "started")
    return _by_step(attempts)


_ACTIVITY_STATE = {
    "ActivityTaskStarted": "started",
    "ActivityTaskCompleted": "succeeded",
    "ActivityTaskFailed": "failed",
    "ActivityTaskTimedOut": "timed_out",
    "ActivityTaskCanceled": "canceled",
}


def _by_step(attempts: dict[str, str]) -> dict[str, str]:
    # The last attempt of each (step, item) speaks for it.
    latest: dict[tuple[str, int | None], tuple[int, str]] = {}
    for activity_id, state in attempts.items():
        parsed = parse_activity_id(activity_id)
        key = (parsed.step, parsed.item)
        if key not in latest or parsed.attempt >= latest[key][0]:
            latest[key] = (parsed.attempt, state)
    steps: dict[str, list[str]] = {}
    for (step, _item), (_attempt, state) in latest.items():
        steps.setdefault(step, []).append(state)
    return {step: _combined(states) for step, states in steps.items()}


def _combined(states: list[str]) -> str:
    if len(states) == 1:
        return states[0]
    counts: dict[str, int] = {}
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    opened = any(s in ("scheduled", "started") for s in states)
    overall = (
        "started"
        if opened
        else ("succeeded" if set(states) == {"succeeded"} else "closed")
    )
    detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return f"{overall} ({detail})"


def outcome(events: list[dict[str, Any]]) -> tuple[str, str] | None:
    """("result", text) or ("reason", text) from the closing event, if closed."""
    for event in events:
        if event["eventType"] not in CLOSE_STATUS_OF_EVENT:
            continue
        found = attributes(event)
        if "result" in found:
            return "result", str(found["result"])
        parts = [
            str(found[k]) for k in ("reason", "cause", "timeoutType") if k in found
        ]
        if found.get("details"):
            parts.append(str(found["details"]))
        return "reason", ": ".join(parts) or CLOSE_STATUS_OF_EVENT[event["eventType"]]
    return None
