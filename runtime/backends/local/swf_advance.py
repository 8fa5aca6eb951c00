"""Moving SWF time forward: every timeout and timer that is due, in time order.

Each SWF operation first calls `advance`, so a timeout fires when the next
caller, in any process, touches the database; `Sweeper` (sweeper.py) calls it
on a timer for a database that nobody else touches. Closed executions past
their domain's retention period are purged on the same path.
Events are stamped with the moment they were due, not with the moment they
were noticed, so histories read as if a server had been watching.
"""

from __future__ import annotations

from cpe.runtime.backends.local import retention, swf_state
from cpe.runtime.backends.local.store import Look, Tx

_DUE_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "execution",
        "SELECT deadline AS at, id AS key, '' AS extra FROM swf_executions "
        "WHERE status = 'OPEN' AND deadline <= ? ORDER BY deadline LIMIT 1",
    ),
    (
        "decision",
        "SELECT deadline AS at, execution AS key, '' AS extra "
        "FROM swf_decision_tasks WHERE deadline <= ? ORDER BY deadline LIMIT 1",
    ),
    (
        "activity",
        "SELECT deadline AS at, id AS key, '' AS extra FROM swf_activity_tasks "
        "WHERE deadline <= ? ORDER BY deadline LIMIT 1",
    ),
    (
        "timer",
        "SELECT fire_at AS at, execution AS key, timer_id AS extra FROM swf_timers "
        "WHERE fire_at <= ? ORDER BY fire_at LIMIT 1",
    ),
)


def anything_due(look: Look) -> bool:
    """Whether `advance` would have work: a deadline or timer that has come,
    or a retention sweep this process owes."""
    if retention.sweep_due(look.sweeps, look.now):
        return True
    return any(
        look.db.execute(query, (look.now,)).fetchone() is not None
        for _, query in _DUE_QUERIES
    )


def advance(tx: Tx) -> None:
    while True:
        earliest: tuple[float, str, int, str] | None = None
        for kind, query in _DUE_QUERIES:
            row = tx.db.execute(query, (tx.now,)).fetchone()
            if row is not None and (earliest is None or row["at"] < earliest[0]):
                earliest = (float(row["at"]), kind, int(row["key"]), str(row["extra"]))
        if earliest is None:
            retention.sweep(tx)
            return
        at, kind, key, extra = earliest
        if kind == "execution":
            _execution_timed_out(tx, key, at)
        elif kind == "decision":
            _decision_timed_out(tx, key, at)
        elif kind == "activity":
            _activity_timed_out(tx, key, at)
        else:
            _timer_fired(tx, key, extra, at)


def _execution_timed_out(tx: Tx, execution: int, at: float) -> None:
    exe = swf_state.execution_row(tx, execution)
    swf_state.close(
        tx,
        execution,
        "TIMED_OUT",
        "WorkflowExecutionTimedOut",
        {
            "timeoutType": "START_TO_CLOSE",
            "childPolicy": swf_state.config(exe)["childPolicy"],
        },
        ts=at,
    )


def _decision_timed_out(tx: Tx, execution: int, at: float) -> None:
    task = tx.db.execute(
        "DELETE FROM swf_decision_tasks WHERE execution = ? RETURNING *", (execution,)
    ).fetchone()
    kind = "START_TO_CLOSE"
    if task["state"] == "SCHEDULED":
        # Only a temporary task list override gives a scheduled decision task
        # a deadline: nobody polled that list, so the execution goes back to
        # its own list, where the next decision task is scheduled.
        kind = "SCHEDULE_TO_START"
        swf_state.revert_task_list(tx, execution)
    swf_state.append(
        tx,
        execution,
        "DecisionTaskTimedOut",
        {
            "timeoutType": kind,
            "scheduledEventId": task["scheduled_event_id"],
            "startedEventId": task["started_event_id"],
        },
        ts=at,
    )


def _activity_timed_out(tx: Tx, task_id: int, at: float) -> None:
    task = tx.db.execute(
        "DELETE FROM swf_activity_tasks WHERE id = ? RETURNING *", (task_id,)
    ).fetchone()
    swf_state.append(
        tx,
        task["execution"],
        "ActivityTaskTimedOut",
        {
            "timeoutType": task["deadline_type"],
            "scheduledEventId": task["scheduled_event_id"],
            "startedEventId": task["started_event_id"],
            # The last heartbeat's details tell the decider how far it got.
            "details": task["details"],
        },
        ts=at,
    )


def _timer_fired(tx: Tx, execution: int, timer_id: str, at: float) -> None:
    timer = tx.db.execute(
        "DELETE FROM swf_timers WHERE execution = ? AND timer_id = ? RETURNING *",
        (execution, timer_id),
    ).fetchone()
    swf_state.append(
        tx,
        execution,
        "TimerFired",
        {"timerId": timer_id, "startedEventId": timer["started_event_id"]},
        ts=at,
    )
