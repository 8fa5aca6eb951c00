"""SWF decision and activity tasks: polling, answering, heartbeats."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from botocore.exceptions import ClientError

from cpe.runtime.backends.local import history, paging, swf_decisions, swf_state
from cpe.runtime.backends.local.errors import swf_error
from cpe.runtime.backends.local.history import prune
from cpe.runtime.backends.local.store import Look, Tx
from cpe.runtime.backends.local.swf_executions import events_page
from cpe.runtime.backends.local.timeouts import parse_duration

EMPTY_DECISION_POLL: dict[str, Any] = {"startedEventId": 0, "previousStartedEventId": 0}
EMPTY_ACTIVITY_POLL: dict[str, Any] = {"startedEventId": 0}


def _unknown_token(tx: Tx) -> ClientError:
    return swf_error(
        "UnknownResourceFault",
        "Unknown task token: the task is finished, timed out or never existed",
        tx.operation,
    )


def _decision_response(
    tx: Tx,
    exe: sqlite3.Row,
    token: str,
    started: int,
    previous: int,
    p: dict[str, Any],
) -> dict[str, Any]:
    scope = f"decision:{exe['id']}:{started}:{bool(p.get('reverseOrder'))}"
    extra = {"exe": exe["id"], "task": token, "started": started, "prev": previous}
    events, nxt = events_page(tx, exe["id"], p, scope, last=started, extra=extra)
    return prune(
        {
            "taskToken": token,
            "startedEventId": started,
            "previousStartedEventId": previous,
            "workflowExecution": swf_state.workflow_execution(exe),
            "workflowType": swf_state.workflow_type(exe),
            "events": events,
            "nextPageToken": nxt,
        }
    )


def poll_has_an_answer(look: Look, table: str, p: dict[str, Any]) -> bool:
    """Whether a poll's transaction would answer now: a task of `table`
    (decision or activity tasks) waits on the polled list, or the domain is
    unknown (an error). A poll that has no answer need not take the write lock.
    """
    row = look.db.execute(
        f"SELECT EXISTS (SELECT 1 FROM {table} WHERE domain = ? AND task_list = ? "
        "AND state = 'SCHEDULED') OR NOT EXISTS "
        "(SELECT 1 FROM swf_domains WHERE name = ?)",
        (p["domain"], p["taskList"]["name"], p["domain"]),
    ).fetchone()
    return bool(row[0])


def poll_decision(tx: Tx, p: dict[str, Any]) -> dict[str, Any] | None:
    """The next decision task (None when there is none yet)."""
    swf_state.require_domain(tx, p["domain"])
    if p.get("nextPageToken"):
        # A further page of a task already handed out: no new claim.
        state = paging.decode(
            p["nextPageToken"],
            lambda m: swf_error("ValidationException", m, tx.operation),
        )
        try:
            exe = swf_state.execution_row(tx, int(state["exe"]))
            return _decision_response(
                tx,
                exe,
                str(state["task"]),
                int(state["started"]),
                int(state["prev"]),
                p,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise swf_error(
                "ValidationException", "Invalid nextPageToken", tx.operation
            ) from exc
    task = tx.db.execute(
        "SELECT * FROM swf_decision_tasks WHERE domain = ? AND task_list = ? "
        "AND state = 'SCHEDULED' ORDER BY priority DESC, scheduled, execution LIMIT 1",
        (p["domain"], p["taskList"]["name"]),
    ).fetchone()
    if task is None:
        return None
    exe = swf_state.execution_row(tx, task["execution"])
    token, started = _start(tx, exe["id"], "DecisionTaskStarted", task, p)
    tx.db.execute(
        "UPDATE swf_decision_tasks SET state = 'STARTED', started_event_id = ?, "
        "token = ?, deadline = ? WHERE execution = ?",
        (started, token, swf_state.start_decision_deadline(tx, exe), exe["id"]),
    )
    return _decision_response(tx, exe, token, started, int(exe["prev_started"]), p)


def respond_decision(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    task = tx.db.execute(
        "SELECT * FROM swf_decision_tasks WHERE token = ? AND state = 'STARTED'",
        (p["taskToken"],),
    ).fetchone()
    if task is None:
        raise _unknown_token(tx)
    execution = int(task["execution"])
    exe = swf_state.execution_row(tx, execution)
    decisions: list[dict[str, Any]] = p.get("decisions") or []
    swf_decisions.check(tx, decisions)
    # Events that arrived while the decider was thinking: it has not seen them,
    # so it may not close the execution on this answer.
    unseen = bool(exe["decision_pending"])
    completed = history.insert(
        tx.db,
        execution,
        "DecisionTaskCompleted",
        tx.now,
        {
            "executionContext": p.get("executionContext"),
            "scheduledEventId": task["scheduled_event_id"],
            "startedEventId": task["started_event_id"],
            "taskList": p.get("taskList"),
            "taskListScheduleToStartTimeout": p.get("taskListScheduleToStartTimeout"),
        },
    )
    cfg = swf_state.config(exe)
    if p.get("taskList"):
        swf_state.override_task_list(
            cfg,
            p["taskList"],
            parse_duration(
                p.get("taskListScheduleToStartTimeout"),
                "taskListScheduleToStartTimeout",
                tx.operation,
            ),
        )
    tx.db.execute(
        "UPDATE swf_executions SET prev_started = ?, config = ?, "
        "latest_context = COALESCE(?, latest_context) WHERE id = ?",
        (
            task["started_event_id"],
            json.dumps(cfg),
            p.get("executionContext"),
            execution,
        ),
    )
    swf_decisions.apply(tx, execution, completed, decisions, unseen)
    exe = swf_state.execution_row(tx, execution)
    if exe["status"] == "OPEN":
        tx.db.execute(
            "DELETE FROM swf_decision_tasks WHERE execution = ?", (execution,)
        )
        if exe["decision_pending"]:
            swf_state.schedule_decision(tx, execution)
    return {}


def _start(
    tx: Tx, execution: int, event_type: str, task: Any, p: dict[str, Any]
) -> tuple[str, int]:
    """Hand a claimed task to its poller: a fresh token and its *Started event."""
    started = swf_state.append(
        tx,
        execution,
        event_type,
        {"identity": p.get("identity"), "scheduledEventId": task["scheduled_event_id"]},
    )
    return swf_state.new_token(), started


def poll_activity(tx: Tx, p: dict[str, Any]) -> dict[str, Any] | None:
    swf_state.require_domain(tx, p["domain"])
    task = tx.db.execute(
        "SELECT * FROM swf_activity_tasks WHERE domain = ? AND task_list = ? "
        "AND state = 'SCHEDULED' ORDER BY priority DESC, scheduled, id LIMIT 1",
        (p["domain"], p["taskList"]["name"]),
    ).fetchone()
    if task is None:
        return None
    exe = swf_state.execution_row(tx, task["execution"])
    token, started = _start(tx, exe["id"], "ActivityTaskStarted", task, p)
    tx.db.execute(
        "UPDATE swf_activity_tasks SET state = 'STARTED', started_event_id = ?, "
        "token = ?, started = ?, heartbeat = ? WHERE id = ?",
        (started, token, tx.now, tx.now, task["id"]),
    )
    swf_state.refresh_activity_deadline(tx, task["id"])
    return prune(
        {
            "taskToken": token,
            "activityId": task["activity_id"],
            "startedEventId": started,
            "workflowExecution": swf_state.workflow_execution(exe),
            "activityType": {
                "name": task["type_name"],
                "version": task["type_version"],
            },
            "input": task["input"],
        }
    )


def _started_activity(tx: Tx, token: str) -> sqlite3.Row:
    row: sqlite3.Row | None = tx.db.execute(
        "SELECT * FROM swf_activity_tasks WHERE token = ? AND state = 'STARTED'",
        (token,),
    ).fetchone()
    if row is None:
        raise _unknown_token(tx)
    return row


def finish_activity(
    tx: Tx, p: dict[str, Any], event_type: str, attrs: dict[str, Any]
) -> dict[str, Any]:
    """Completed, failed or canceled: the task ends and the decider is told."""
    task = _started_activity(tx, p["taskToken"])
    tx.db.execute("DELETE FROM swf_activity_tasks WHERE id = ?", (task["id"],))
    attrs = {
        **attrs,
        "scheduledEventId": task["scheduled_event_id"],
        "startedEventId": task["started_event_id"],
    }
    if event_type == "ActivityTaskCanceled":
        attrs["latestCancelRequestedEventId"] = task["cancel_event_id"]
    swf_state.append(tx, task["execution"], event_type, attrs)
    return {}


def heartbeat(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    task = _started_activity(tx, p["taskToken"])
    tx.db.execute(
        "UPDATE swf_activity_tasks SET heartbeat = ?, details = COALESCE(?, details) "
        "WHERE id = ?",
        (tx.now, p.get("details"), task["id"]),
    )
    swf_state.refresh_activity_deadline(tx, task["id"])
    return {"cancelRequested": bool(task["cancel_requested"])}


def count_pending(tx: Tx, table: str, p: dict[str, Any]) -> dict[str, Any]:
    swf_state.require_domain(tx, p["domain"])
    row = tx.db.execute(
        f"SELECT COUNT(*) FROM {table} WHERE domain = ? AND task_list = ? "
        "AND state = 'SCHEDULED'",
        (p["domain"], p["taskList"]["name"]),
    ).fetchone()
    return {"count": int(row[0]), "truncated": False}
