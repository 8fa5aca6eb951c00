"""Closed executions leave after their domain's retention period, as on SWF.

A domain's workflowExecutionRetentionPeriodInDays says how long a closed
execution stays visible; after it, the run, its history and anything left of
it are deleted. "0" (or "NONE") purges a run as soon as it closes. The sweep
runs inside an ordinary transaction as time moves, at most once a minute of
the store's clock per process, and removes a bounded number of runs each time
so that no transaction grows long; a backlog is cleared by later sweeps.
"""

from __future__ import annotations

from cpe.runtime.backends.local.store import Tx

SWEEP_INTERVAL_SECONDS = 60.0
# Runs purged per sweep: enough to keep up, few enough to stay short.
BATCH = 50
_SECONDS_PER_DAY = 86400.0
_KEY = "retention"


def retention_seconds(retention: str) -> float:
    """The retention period of a domain in seconds ("NONE" is none at all)."""
    if not retention.isdigit():
        return 0.0
    return int(retention) * _SECONDS_PER_DAY


def sweep_due(sweeps: dict[str, float], now: float) -> bool:
    """Whether this process's next transaction should run a sweep."""
    last = sweeps.get(_KEY)
    return last is None or not last <= now < last + SWEEP_INTERVAL_SECONDS


def sweep(tx: Tx) -> int:
    """Purge expired closed executions when a sweep is due; returns how many."""
    if not sweep_due(tx.sweeps, tx.now):
        return 0
    purged = 0
    for domain in tx.db.execute("SELECT name, retention FROM swf_domains").fetchall():
        cutoff = tx.now - retention_seconds(str(domain["retention"]))
        rows = tx.db.execute(
            "SELECT id FROM swf_executions WHERE domain = ? AND status = 'CLOSED' "
            "AND closed <= ? ORDER BY closed LIMIT ?",
            (domain["name"], cutoff, BATCH - purged),
        ).fetchall()
        for row in rows:
            purge(tx, int(row["id"]))
        purged += len(rows)
        if purged >= BATCH:
            # More may be waiting: leave the sweep due so the next call goes on.
            return purged
    tx.sweeps[_KEY] = tx.now
    return purged


def purge(tx: Tx, execution: int) -> None:
    """Delete one execution and everything that belongs to it."""
    for table in (
        "swf_events",
        "swf_decision_tasks",
        "swf_activity_tasks",
        "swf_timers",
    ):
        tx.db.execute(f"DELETE FROM {table} WHERE execution = ?", (execution,))
    tx.db.execute("DELETE FROM swf_executions WHERE id = ?", (execution,))
