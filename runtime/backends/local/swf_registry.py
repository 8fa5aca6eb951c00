"""SWF domains and workflow/activity types."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from cpe.runtime.backends.local import paging
from cpe.runtime.backends.local.errors import swf_error
from cpe.runtime.backends.local.history import prune, timestamp
from cpe.runtime.backends.local.store import Tx
from cpe.runtime.backends.local.swf_state import require_domain
from cpe.runtime.backends.local.timeouts import check_duration

ACCOUNT = "000000000000"
REGION = "us-east-1"

# The registration parameters kept as each kind of type's configuration.
_WORKFLOW_DEFAULTS = (
    "defaultTaskStartToCloseTimeout",
    "defaultExecutionStartToCloseTimeout",
    "defaultTaskList",
    "defaultTaskPriority",
    "defaultChildPolicy",
    "defaultLambdaRole",
)
_ACTIVITY_DEFAULTS = (
    "defaultTaskStartToCloseTimeout",
    "defaultTaskHeartbeatTimeout",
    "defaultTaskList",
    "defaultTaskPriority",
    "defaultTaskScheduleToStartTimeout",
    "defaultTaskScheduleToCloseTimeout",
)
_TYPE_KEY = {"workflow": "workflowType", "activity": "activityType"}


def _fail(tx: Tx) -> Any:
    return lambda msg: swf_error("ValidationException", msg, tx.operation)


def register_domain(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    exists = tx.db.execute(
        "SELECT 1 FROM swf_domains WHERE name = ?", (p["name"],)
    ).fetchone()
    if exists:
        raise swf_error("DomainAlreadyExistsFault", p["name"], tx.operation)
    tx.db.execute(
        "INSERT INTO swf_domains (name, description, retention, status, created) "
        "VALUES (?, ?, ?, 'REGISTERED', ?)",
        (
            p["name"],
            p.get("description"),
            p["workflowExecutionRetentionPeriodInDays"],
            tx.now,
        ),
    )
    return {}


def _domain_info(row: sqlite3.Row) -> dict[str, Any]:
    return prune(
        {
            "name": row["name"],
            "status": row["status"],
            "description": row["description"],
            "arn": f"arn:aws:swf:{REGION}:{ACCOUNT}:/domain/{row['name']}",
        }
    )


def describe_domain(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    row = require_domain(tx, p["name"])
    return {
        "domainInfo": _domain_info(row),
        "configuration": {"workflowExecutionRetentionPeriodInDays": row["retention"]},
    }


def list_domains(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    order = "DESC" if p.get("reverseOrder") else "ASC"
    rows = tx.db.execute(
        f"SELECT * FROM swf_domains WHERE status = ? ORDER BY name {order}",
        (p["registrationStatus"],),
    ).fetchall()
    infos, nxt = paging.page(
        [_domain_info(r) for r in rows],
        p.get("maximumPageSize"),
        p.get("nextPageToken"),
        "domains",
        _fail(tx),
    )
    return prune({"domainInfos": infos, "nextPageToken": nxt})


def deprecate_domain(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
    row = require_domain(tx, p["name"])
    if row["status"] == "DEPRECATED":
        raise swf_error("DomainDeprecatedFault", p["name"], tx.operation)
    tx.db.execute(
        "UPDATE swf_domains SET status = 'DEPRECATED' WHERE name = ?", (p["name"],)
    )
    return {}


def register_type(tx: Tx, kind: str, p: dict[str, Any]) -> dict[str, Any]:
    require_domain(tx, p["domain"])
    names = _WORKFLOW_DEFAULTS if kind == "workflow" else _ACTIVITY_DEFAULTS
    for name in names:
        if name.endswith("Timeout"):
            check_duration(p.get(name), name, tx.operation)
    exists = tx.db.execute(
        "SELECT 1 FROM swf_types WHERE kind = ? AND domain = ? AND name = ? "
        "AND version = ?",
        (kind, p["domain"], p["name"], p["version"]),
    ).fetchone()
    if exists:
        raise swf_error(
            "TypeAlreadyExistsFault",
            f"{_TYPE_KEY[kind]}=[name={p['name']}, version={p['version']}]",
            tx.operation,
        )
    cfg = prune({name: p.get(name) for name in names})
    tx.db.execute(
        "INSERT INTO swf_types (kind, domain, name, version, status, description, "
        "created, config) VALUES (?, ?, ?, ?, 'REGISTERED', ?, ?, ?)",
        (
            kind,
            p["domain"],
            p["name"],
            p["version"],
            p.get("description"),
            tx.now,
            json.dumps(cfg),
        ),
    )
    return {}


def find_type(
    tx: Tx, kind: str, domain: str, name: str, version: str
) -> sqlite3.Row | None:
    row: sqlite3.Row | None = tx.db.execute(
        "SELECT * FROM swf_types WHERE kind = ? AND domain = ? AND name = ? "
        "AND version = ?",
        (kind, domain, name, version),
    ).fetchone()
    return row


def require_type(tx: Tx, kind: str, domain: str, ref: dict[str, str]) -> sqlite3.Row:
    require_domain(tx, domain)
    row = find_type(tx, kind, domain, ref["name"], ref["version"])
    if row is None:
        raise swf_error(
            "UnknownResourceFault",
            f"Unknown type: {_TYPE_KEY[kind]}=[name={ref['name']}, "
            f"version={ref['version']}]",
            tx.operation,
        )
    return row


def _type_info(kind: str, row: sqlite3.Row) -> dict[str, Any]:
    return prune(
        {
            _TYPE_KEY[kind]: {"name": row["name"], "version": row["version"]},
            "status": row["status"],
            "description": row["description"],
            "creationDate": timestamp(row["created"]),
            "deprecationDate": (
                timestamp(row["deprecated"]) if row["deprecated"] is not None else None
            ),
        }
    )


def describe_type(tx: Tx, kind: str, p: dict[str, Any]) -> dict[str, Any]:
    row = require_type(tx, kind, p["domain"], p[_TYPE_KEY[kind]])
    return {
        "typeInfo": _type_info(kind, row),
        "configuration": json.loads(row["config"]),
    }


def list_types(tx: Tx, kind: str, p: dict[str, Any]) -> dict[str, Any]:
    require_domain(tx, p["domain"])
    order = "DESC" if p.get("reverseOrder") else "ASC"
    sql = "SELECT * FROM swf_types WHERE kind = ? AND domain = ? AND status = ?"
    args: list[Any] = [kind, p["domain"], p["registrationStatus"]]
    if p.get("name"):
        sql += " AND name = ?"
        args.append(p["name"])
    rows = tx.db.execute(
        sql + f" ORDER BY name {order}, version {order}", args
    ).fetchall()
    infos, nxt = paging.page(
        [_type_info(kind, r) for r in rows],
        p.get("maximumPageSize"),
        p.get("nextPageToken"),
        f"{kind}-types:{p['domain']}",
        _fail(tx),
    )
    return prune({"typeInfos": infos, "nextPageToken": nxt})


def set_type_status(tx: Tx, kind: str, p: dict[str, Any], deprecate: bool) -> None:
    row = require_type(tx, kind, p["domain"], p[_TYPE_KEY[kind]])
    if deprecate and row["status"] == "DEPRECATED":
        raise swf_error("TypeDeprecatedFault", row["name"], tx.operation)
    if not deprecate and row["status"] == "REGISTERED":
        raise swf_error("TypeAlreadyExistsFault", row["name"], tx.operation)
    tx.db.execute(
        "UPDATE swf_types SET status = ?, deprecated = ? WHERE kind = ? AND domain = ? "
        "AND name = ? AND version = ?",
        (
            "DEPRECATED" if deprecate else "REGISTERED",
            tx.now if deprecate else None,
            kind,
            row["domain"],
            row["name"],
            row["version"],
        ),
    )
