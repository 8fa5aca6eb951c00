"""History events: botocore's attribute names, storage and the boto3 form."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

# Events after which SWF schedules a decision task: everything the decider has
# to react to (outcomes, failed decisions, external requests, timeouts).
DECISION_TRIGGERS: frozenset[str] = frozenset(
    {
        "WorkflowExecutionStarted",
        "WorkflowExecutionSignaled",
        "WorkflowExecutionCancelRequested",
        "DecisionTaskTimedOut",
        "ActivityTaskCompleted",
        "ActivityTaskFailed",
        "ActivityTaskTimedOut",
        "ActivityTaskCanceled",
        "ScheduleActivityTaskFailed",
        "RequestCancelActivityTaskFailed",
        "TimerFired",
        "StartTimerFailed",
        "CancelTimerFailed",
        "RecordMarkerFailed",
        "CompleteWorkflowExecutionFailed",
        "FailWorkflowExecutionFailed",
        "CancelWorkflowExecutionFailed",
        "ContinueAsNewWorkflowExecutionFailed",
        "StartChildWorkflowExecutionFailed",
        "SignalExternalWorkflowExecutionFailed",
        "RequestCancelExternalWorkflowExecutionFailed",
        "ScheduleLambdaFunctionFailed",
    }
)


def attributes_key(event_type: str) -> str:
    """'ActivityTaskScheduled' -> 'activityTaskScheduledEventAttributes'."""
    return event_type[0].lower() + event_type[1:] + "EventAttributes"


def timestamp(epoch: float) -> datetime:
    """Timestamps come back timezone-aware, as boto3 returns them."""
    return datetime.fromtimestamp(epoch, tz=UTC)


def prune(attrs: dict[str, Any]) -> dict[str, Any]:
    """Drop absent members: SWF omits them rather than sending null."""
    return {k: v for k, v in attrs.items() if v is not None}


def insert(
    db: sqlite3.Connection,
    execution: int,
    event_type: str,
    ts: float,
    attrs: dict[str, Any],
) -> int:
    """Append one event; returns its eventId (dense, from 1)."""
    row = db.execute(
        "UPDATE swf_executions SET next_event_id = next_event_id + 1 "
        "WHERE id = ? RETURNING next_event_id - 1",
        (execution,),
    ).fetchone()
    event_id = int(row[0])
    db.execute(
        "INSERT INTO swf_events (execution, event_id, event_type, ts, attrs) "
        "VALUES (?, ?, ?, ?, ?)",
        (execution, event_id, event_type, ts, json.dumps(prune(attrs))),
    )
    return event_id


def to_boto(row: sqlite3.Row) -> dict[str, Any]:
    event_type = str(row["event_type"])
    return {
        "eventTimestamp": timestamp(float(row["ts"])),
        "eventType": event_type,
        "eventId": int(row["event_id"]),
        attributes_key(event_type): json.loads(row["attrs"]),
    }


def load(
    db: sqlite3.Connection,
    execution: int,
    *,
    after: int,
    limit: int,
    reverse: bool,
    last: int | None = None,
) -> list[dict[str, Any]]:
    """Events after position `after` in the requested order, up to `limit`.

    In reverse order `after` counts back from the newest event (or from
    `last`, when the history is capped at a decision task's start).
    """
    cap = last if last is not None else 1 << 62
    if reverse:
        rows = db.execute(
            "SELECT * FROM swf_events WHERE execution = ? AND event_id <= ? "
            "ORDER BY event_id DESC LIMIT ? OFFSET ?",
            (execution, cap, limit, after),
        ).fetchall()
    else:
        rows = db.execute(
            "SELECT * FROM swf_events WHERE execution = ? AND event_id > ? "
            "AND event_id <= ? ORDER BY event_id LIMIT ?",
            (execution, after, cap, limit),
        ).fetchall()
    return [to_boto(r) for r in rows]


def count(db: sqlite3.Connection, execution: int, last: int | None = None) -> int:
    cap = last if last is not None else 1 << 62
    row = db.execute(
        "SELECT COUNT(*) FROM swf_events WHERE execution = ? AND event_id <= ?",
        (execution, cap),
    ).fetchone()
    return int(row[0])
