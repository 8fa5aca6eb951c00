"""SWF executions: start, describe, history, listings, signals, cancel, terminate."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from typing import Any

from botocore.utils import parse_to_aware_datetime

from cpe.runtime.backends.local import history, paging, swf_state
from cpe.runtime.backends.local.errors import swf_error
from cpe.runtime.backends.local.history import prune, timestamp
from cpe.runtime.backends.local.store import Tx
from cpe.runtime.backends.local.swf_registry import require_type
from cpe.runtime.backends.local.timeouts import due, parse_duration


def _fail(tx: Tx) -> Any:
    return lambda msg: swf_error("ValidationException", msg, tx.operation)


def start(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    domain = swf_state.require_domain(tx, p["domain"])
    if domain["status"] != "REGISTERED":
        raise swf_error(
            "OperationNotPermittedFault", "Domain is deprecated", tx.operation
        )
    wtype = require_type(tx, "workflow", p["domain"], p["workflowType"])
    if wtype["status"] != "REGISTERED":
        raise swf_error(
            "TypeDeprecatedFault",
            f"WorkflowType=[name={wtype['name']}, version={wtype['version']}]",
            tx.operation,
        )
    defaults: dict[str, Any] = json.loads(wtype["config"])

    def pick(param: str, default: str) -> Any:
        value = p.get(param, defaults.get(default))
        if value is None:
            raise swf_error(
                "DefaultUndefinedFault",
                f"{param} is not given and the workflow type has no {default}",
                tx.operation,
            )
        return value

    cfg = prune(
        {
            "taskList": pick("taskList", "defaultTaskList"),
            "executionStartToCloseTimeout": pick(
                "executionStartToCloseTimeout", "defaultExecutionStartToCloseTimeout"
            ),
            "taskStartToCloseTimeout": pick(
                "taskStartToCloseTimeout", "defaultTaskStartToCloseTimeout"
            ),
            "childPolicy": pick("childPolicy", "defaultChildPolicy"),
            "taskPriority": p.get("taskPriority", defaults.get("defaultTaskPriority")),
            "lambdaRole": p.get("lambdaRole", defaults.get("defaultLambdaRole")),
        }
    )
    execution_timeout = parse_duration(
        cfg["executionStartToCloseTimeout"],
        "executionStartToCloseTimeout",
        tx.operation,
    )
    parse_duration(
        cfg["taskStartToCloseTimeout"], "taskStartToCloseTimeout", tx.operation
    )
    running = tx.db.execute(
        "SELECT 1 FROM swf_executions WHERE domain = ? AND workflow_id = ? "
        "AND status = 'OPEN'",
        (p["domain"], p["workflowId"]),
    ).fetchone()
    if running:
        raise swf_error(
            "WorkflowExecutionAlreadyStartedFault",
            f"Workflow execution already started: {p['workflowId']}",
            tx.operation,
        )
    run_id = uuid.uuid4().hex
    execution = tx.db.execute(
        "INSERT INTO swf_executions (domain, workflow_id, run_id, type_name, "
        "type_version, status, started, config, tags, deadline) "
        "VALUES (?, ?, ?, ?, ?, 'OPEN', ?, ?, ?, ?) RETURNING id",
        (
            p["domain"],
            p["workflowId"],
            run_id,
            wtype["name"],
            wtype["version"],
            tx.now,
            json.dumps(cfg),
            json.dumps(p.get("tagList", [])),
            due(tx.now, execution_timeout),
        ),
    ).fetchone()[0]
    swf_state.append(
        tx,
        execution,
        "WorkflowExecutionStarted",
        {
            "input": p.get("input"),
            "executionStartToCloseTimeout": cfg["executionStartToCloseTimeout"],
            "taskStartToCloseTimeout": cfg["taskStartToCloseTimeout"],
            "childPolicy": cfg["childPolicy"],
            "taskList": cfg["taskList"],
            "taskPriority": cfg.get("taskPriority"),
            "workflowType": {"name": wtype["name"], "version": wtype["version"]},
            "tagList": p.get("tagList"),
            "lambdaRole": cfg.get("lambdaRole"),
        },
    )
    return {"runId": run_id}


def _execution_info(row: sqlite3.Row) -> dict[str, Any]:
    tags = json.loads(row["tags"])
    return prune(
        {
            "execution": swf_state.workflow_execution(row),
            "workflowType": swf_state.workflow_type(row),
            "startTimestamp": timestamp(row["started"]),
            "closeTimestamp": (
                timestamp(row["closed"]) if row["closed"] is not None else None
            ),
            "executionStatus": row["status"],
            "closeStatus": row["close_status"],
            "tagList": tags or None,
            "cancelRequested": bool(row["cancel_requested"]),
        }
    )


def _count(tx: Tx, table: str, execution: int) -> int:
    row = tx.db.execute(
        f"SELECT COUNT(*) FROM {table} WHERE execution = ?", (execution,)
    ).fetchone()
    return int(row[0])


def describe(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    swf_state.require_domain(tx, p["domain"])
    ref = p["execution"]
    row = swf_state.find_execution(tx, p["domain"], ref["workflowId"], ref["runId"])
    return prune(
        {
            "executionInfo": _execution_info(row),
            "executionConfiguration": swf_state.public_config(row),
            "openCounts": {
                "openActivityTasks": _count(tx, "swf_activity_tasks", row["id"]),
                "openDecisionTasks": _count(tx, "swf_decision_tasks", row["id"]),
                "openTimers": _count(tx, "swf_timers", row["id"]),
                "openChildWorkflowExecutions": 0,
                "openLambdaFunctions": 0,
            },
            "latestActivityTaskTimestamp": (
                timestamp(row["latest_activity"])
                if row["latest_activity"] is not None
                else None
            ),
            "latestExecutionContext": row["latest_context"],
        }
    )


def events_page(
    tx: Tx,
    execution: int,
    p: dict[str, Any],
    scope: str,
    last: int | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of history; `last` caps it (a decision task sees up to its start).

    `extra` is carried inside the next page's token.
    """
    limit = p.get("maximumPageSize") or paging.SWF_MAX_PAGE
    reverse = bool(p.get("reverseOrder"))
    offset = 0
    if p.get("nextPageToken"):
        state = paging.decode(p["nextPageToken"], _fail(tx))
        if state.get("scope") != scope or not isinstance(state.get("offset"), int):
            raise _fail(tx)("Invalid nextPageToken")
        offset = state["offset"]
    events = history.load(
        tx.db, execution, after=offset, limit=limit, reverse=reverse, last=last
    )
    total = history.count(tx.db, execution, last)
    end = offset + len(events)
    token = (
        paging.encode({**(extra or {}), "scope": scope, "offset": end})
        if end < total
        else None
    )
    return events, token


def get_history(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    swf_state.require_domain(tx, p["domain"])
    ref = p["execution"]
    row = swf_state.find_execution(tx, p["domain"], ref["workflowId"], ref["runId"])
    scope = f"history:{row['run_id']}:{bool(p.get('reverseOrder'))}"
    events, token = events_page(tx, row["id"], p, scope)
    return prune({"events": events, "nextPageToken": token})


def _epoch(value: Any) -> float:
    return float(parse_to_aware_datetime(value).timestamp())


# SWF accepts at most one of these per listing or count.
_EXCLUSIVE_FILTERS = ("executionFilter", "typeFilter", "tagFilter", "closeStatusFilter")


def _matching(tx: Tx, p: dict[str, Any], status: str) -> list[sqlite3.Row]:
    swf_state.require_domain(tx, p["domain"])
    start_filter = p.get("startTimeFilter")
    close_filter = p.get("closeTimeFilter")
    if status == "CLOSED" and (start_filter is None) == (close_filter is None):
        raise swf_error(
            "ValidationException",
            "Exactly one of startTimeFilter and closeTimeFilter must be given",
            tx.operation,
        )
    given = [name for name in _EXCLUSIVE_FILTERS if p.get(name) is not None]
    if len(given) > 1:
        raise swf_error(
            "ValidationException",
            f"Only one of {', '.join(given)} may be given: executionFilter, "
            "typeFilter, tagFilter and closeStatusFilter are mutually exclusive",
            tx.operation,
        )
    sql = "SELECT * FROM swf_executions WHERE domain = ? AND status = ?"
    args: list[Any] = [p["domain"], status]
    for column, window in (("started", start_filter), ("closed", close_filter)):
        if window is None:
            continue
        sql += f" AND {column} >= ?"
        args.append(_epoch(window["oldestDate"]))
        if window.get("latestDate") is not None:
            sql += f" AND {column} <= ?"
            args.append(_epoch(window["latestDate"]))
    if p.get("executionFilter"):
        sql += " AND workflow_id = ?"
        args.append(p["executionFilter"]["workflowId"])
    if p.get("typeFilter"):
        sql += " AND type_name = ?"
        args.append(p["typeFilter"]["name"])
        if p["typeFilter"].get("version"):
            sql += " AND type_version = ?"
            args.append(p["typeFilter"]["version"])
    if p.get("closeStatusFilter"):
        sql += " AND close_status = ?"
        args.append(p["closeStatusFilter"]["status"])
    # Newest first unless reverseOrder, as SWF orders these listings.
    column = "closed" if close_filter is not None else "started"
    order = "ASC" if p.get("reverseOrder") else "DESC"
    rows = tx.db.execute(
        sql + f" ORDER BY {column} {order}, id {order}", args
    ).fetchall()
    tag = (p.get("tagFilter") or {}).get("tag")
    if tag is not None:
        rows = [r for r in rows if tag in json.loads(r["tags"])]
    return rows


def list_executions(tx: Tx, p: dict[str, Any], status: str) -> dict[str, Any]:
    rows = _matching(tx, p, status)
    scope = "executions:" + json.dumps(
        {k: v for k, v in p.items() if k not in ("nextPageToken", "maximumPageSize")},
        sort_keys=True,
        default=str,
    )
    infos, token = paging.page(
        [_execution_info(r) for r in rows],
        p.get("maximumPageSize"),
        p.get("nextPageToken"),
        hashlib.sha256(scope.encode()).hexdigest()[:16],
        _fail(tx),
    )
    return prune({"executionInfos": infos, "nextPageToken": token})


def count_executions(tx: Tx, p: dict[str, Any], status: str) -> dict[str, Any]:
    return {"count": len(_matching(tx, p, status)), "truncated": False}


def signal(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    swf_state.require_domain(tx, p["domain"])
    row = swf_state.find_open_execution(
        tx, p["domain"], p["workflowId"], p.get("runId")
    )
    swf_state.append(
        tx,
        row["id"],
        "WorkflowExecutionSignaled",
        {"signalName": p["signalName"], "input": p.get("input")},
    )
    return {}


def request_cancel(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    swf_state.require_domain(tx, p["domain"])
    row = swf_state.find_open_execution(
        tx, p["domain"], p["workflowId"], p.get("runId")
    )
    tx.db.execute(
        "UPDATE swf_executions SET cancel_requested = 1 WHERE id = ?", (row["id"],)
    )
    swf_state.append(tx, row["id"], "WorkflowExecutionCancelRequested", {})
    return {}


def terminate(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    swf_state.require_domain(tx, p["domain"])
    row = swf_state.find_open_execution(
        tx, p["domain"], p["workflowId"], p.get("runId")
    )
    swf_state.close(
        tx,
        row["id"],
        "TERMINATED",
        "WorkflowExecutionTerminated",
        {
            "reason": p.get("reason"),
            "details": p.get("details"),
            "childPolicy": p.get("childPolicy", swf_state.config(row)["childPolicy"]),
        },
    )
    return {}
