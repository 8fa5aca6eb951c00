"""Shared SWF state changes: events, decision scheduling, closing executions."""

from __future__ import annotations

import json
import secrets
import sqlite3
from typing import Any

from cpe.runtime.backends.local import history
from cpe.runtime.backends.local.errors import swf_error
from cpe.runtime.backends.local.store import Tx
from cpe.runtime.backends.local.timeouts import activity_deadline, due, parse_duration


def new_token() -> str:
    # Unguessable, so a token is proof of having been handed the task.
    return secrets.token_urlsafe(32)


def require_domain(tx: Tx, name: str) -> sqlite3.Row:
    row: sqlite3.Row | None = tx.db.execute(
        "SELECT * FROM swf_domains WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        raise swf_error("UnknownResourceFault", f"Unknown domain: {name}", tx.operation)
    return row


def find_execution(
    tx: Tx, domain: str, workflow_id: str, run_id: str | None
) -> sqlite3.Row:
    """The run named, or the open run of workflow_id when run_id is omitted."""
    if run_id:
        row = tx.db.execute(
            "SELECT * FROM swf_executions WHERE domain = ? AND workflow_id = ? "
            "AND run_id = ?",
            (domain, workflow_id, run_id),
        ).fetchone()
    else:
        row = tx.db.execute(
            "SELECT * FROM swf_executions WHERE domain = ? AND workflow_id = ? "
            "AND status = 'OPEN'",
            (domain, workflow_id),
        ).fetchone()
    if row is None:
        raise swf_error(
            "UnknownResourceFault",
            f"Unknown execution: WorkflowExecution=[workflowId={workflow_id}, "
            f"runId={run_id or ''}]",
            tx.operation,
        )
    result: sqlite3.Row = row
    return result


def find_open_execution(
    tx: Tx, domain: str, workflow_id: str, run_id: str | None
) -> sqlite3.Row:
    row = find_execution(tx, domain, workflow_id, run_id)
    if row["status"] != "OPEN":
        raise swf_error(
            "UnknownResourceFault",
            f"Unknown execution: WorkflowExecution=[workflowId={workflow_id}, "
            f"runId={run_id or ''}] is closed",
            tx.operation,
        )
    return row


def execution_row(tx: Tx, execution: int) -> sqlite3.Row:
    row: sqlite3.Row = tx.db.execute(
        "SELECT * FROM swf_executions WHERE id = ?", (execution,)
    ).fetchone()
    return row


# Keys of the stored configuration that describe_workflow_execution does not
# show: a temporary task list override (RespondDecisionTaskCompleted with
# taskListScheduleToStartTimeout) and the task list it reverts to.
OVERRIDE_TIMEOUT = "_overrideScheduleToStart"
ORIGINAL_TASK_LIST = "_originalTaskList"


def config(row: sqlite3.Row) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(row["config"])
    return value


def public_config(row: sqlite3.Row) -> dict[str, Any]:
    """The executionConfiguration as SWF describes it."""
    return {k: v for k, v in config(row).items() if not k.startswith("_")}


def override_task_list(
    cfg: dict[str, Any], task_list: dict[str, Any], timeout: int | None
) -> None:
    """A decider moves the execution's decision tasks to another task list.

    With a schedule-to-start timeout the move is temporary: a decision task
    not taken from the new list in time reverts the execution to its list.
    """
    original = cfg.get(ORIGINAL_TASK_LIST, cfg["taskList"])
    cfg["taskList"] = task_list
    if timeout is None:
        cfg.pop(OVERRIDE_TIMEOUT, None)
        cfg.pop(ORIGINAL_TASK_LIST, None)
    else:
        cfg[OVERRIDE_TIMEOUT] = timeout
        cfg[ORIGINAL_TASK_LIST] = original


def revert_task_list(tx: Tx, execution: int) -> None:
    """Undo a temporary task list override whose decision task was not taken."""
    cfg = config(execution_row(tx, execution))
    if ORIGINAL_TASK_LIST in cfg:
        cfg["taskList"] = cfg.pop(ORIGINAL_TASK_LIST)
    cfg.pop(OVERRIDE_TIMEOUT, None)
    tx.db.execute(
        "UPDATE swf_executions SET config = ? WHERE id = ?",
        (json.dumps(cfg), execution),
    )


def append(
    tx: Tx,
    execution: int,
    event_type: str,
    attrs: dict[str, Any],
    ts: float | None = None,
) -> int:
    """Add an event and, when SWF would, ask for a decision task."""
    event_id = history.insert(
        tx.db, execution, event_type, tx.now if ts is None else ts, attrs
    )
    if event_type in history.DECISION_TRIGGERS:
        request_decision(tx, execution, ts)
    return event_id


def request_decision(tx: Tx, execution: int, ts: float | None = None) -> None:
    """Schedule a decision task, or batch into the next one if one is running."""
    exe = execution_row(tx, execution)
    if exe["status"] != "OPEN":
        return
    task = tx.db.execute(
        "SELECT state FROM swf_decision_tasks WHERE execution = ?", (execution,)
    ).fetchone()
    if task is None:
        schedule_decision(tx, execution, ts)
    elif task["state"] == "STARTED":
        tx.db.execute(
            "UPDATE swf_executions SET decision_pending = 1 WHERE id = ?",
            (execution,),
        )
    # An already scheduled task will show the new event when it is polled.


def schedule_decision(tx: Tx, execution: int, ts: float | None = None) -> None:
    exe = execution_row(tx, execution)
    cfg = config(exe)
    event_id = history.insert(
        tx.db,
        execution,
        "DecisionTaskScheduled",
        tx.now if ts is None else ts,
        {
            "taskList": cfg["taskList"],
            "taskPriority": cfg.get("taskPriority"),
            "startToCloseTimeout": cfg["taskStartToCloseTimeout"],
            "scheduleToStartTimeout": (
                str(cfg[OVERRIDE_TIMEOUT]) if OVERRIDE_TIMEOUT in cfg else None
            ),
        },
    )
    scheduled = tx.now if ts is None else ts
    tx.db.execute(
        "INSERT INTO swf_decision_tasks (execution, domain, task_list, priority, "
        "state, scheduled_event_id, scheduled, deadline) "
        "VALUES (?, ?, ?, ?, 'SCHEDULED', ?, ?, ?)",
        (
            execution,
            exe["domain"],
            cfg["taskList"]["name"],
            int(cfg.get("taskPriority") or 0),
            event_id,
            scheduled,
            due(scheduled, cfg.get(OVERRIDE_TIMEOUT)),
        ),
    )
    tx.db.execute(
        "UPDATE swf_executions SET decision_pending = 0 WHERE id = ?", (execution,)
    )


def start_decision_deadline(tx: Tx, exe: sqlite3.Row) -> float | None:
    seconds = parse_duration(
        config(exe)["taskStartToCloseTimeout"], "taskStartToCloseTimeout", tx.operation
    )
    return due(tx.now, seconds)


def close(
    tx: Tx,
    execution: int,
    close_status: str,
    event_type: str,
    attrs: dict[str, Any],
    ts: float | None = None,
) -> int:
    """Record the closing event; every open task, timer and token ends with it."""
    event_id = history.insert(
        tx.db, execution, event_type, tx.now if ts is None else ts, attrs
    )
    tx.db.execute(
        "UPDATE swf_executions SET status = 'CLOSED', close_status = ?, closed = ?, "
        "decision_pending = 0, deadline = NULL WHERE id = ?",
        (close_status, tx.now if ts is None else ts, execution),
    )
    for table in ("swf_decision_tasks", "swf_activity_tasks", "swf_timers"):
        tx.db.execute(f"DELETE FROM {table} WHERE execution = ?", (execution,))
    return event_id


def refresh_activity_deadline(tx: Tx, task_id: int) -> None:
    row = tx.db.execute(
        "SELECT * FROM swf_activity_tasks WHERE id = ?", (task_id,)
    ).fetchone()
    at, kind = activity_deadline(
        state=row["state"],
        scheduled=row["scheduled"],
        started=row["started"],
        heartbeat=row["heartbeat"],
        schedule_to_start=row["schedule_to_start"],
        schedule_to_close=row["schedule_to_close"],
        start_to_close=row["start_to_close"],
        heartbeat_timeout=row["heartbeat_timeout"],
    )
    tx.db.execute(
        "UPDATE swf_activity_tasks SET deadline = ?, deadline_type = ? WHERE id = ?",
        (at, kind, task_id),
    )


def workflow_execution(row: sqlite3.Row) -> dict[str, str]:
    return {"workflowId": row["workflow_id"], "runId": row["run_id"]}


def workflow_type(row: sqlite3.Row) -> dict[str, str]:
    return {"name": row["type_name"], "version": row["type_version"]}
