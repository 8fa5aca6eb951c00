"""Closed executions leave after the domain's retention period; time moves by itself."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from cpe.runtime.backends.local import LocalSWF, connect
from cpe.runtime.backends.local.retention import BATCH, SWEEP_INTERVAL_SECONDS
from cpe.runtime.backends.local.sweeper import Sweeper

from .helpers import (
    DECISIONS,
    DOMAIN,
    FakeClock,
    complete,
    decide,
    poll_decision,
    register_all,
    schedule,
    start,
    status,
)

DAY = 86400.0
EPOCH = {"oldestDate": 0}


def _rows(path: Path, table: str) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        db.close()


def _closed_ids(swf: LocalSWF) -> list[str]:
    listing = swf.list_closed_workflow_executions(domain=DOMAIN, startTimeFilter=EPOCH)
    return sorted(i["execution"]["workflowId"] for i in listing["executionInfos"])


def test_closed_runs_are_purged_after_the_retention_period(
    registered: LocalSWF, clock: FakeClock, db_path: Path
) -> None:
    swf = registered  # the domain keeps closed runs for 1 day
    old = start(swf, "old")
    decide(swf, complete())
    clock.advance(DAY / 2)
    young = start(swf, "young")
    decide(swf, schedule("a"))
    swf.terminate_workflow_execution(domain=DOMAIN, workflowId="young")
    still_open = start(swf, "open", executionStartToCloseTimeout=str(30 * 86400))
    clock.advance(DAY / 2 + 1)
    # A day and a second after it closed, "old" is gone with its history.
    assert _closed_ids(swf) == ["young"]
    with pytest.raises(swf.exceptions.UnknownResourceFault):
        swf.describe_workflow_execution(domain=DOMAIN, execution=old)
    with pytest.raises(swf.exceptions.UnknownResourceFault):
        swf.get_workflow_execution_history(domain=DOMAIN, execution=old)
    assert status(swf, young) == ("CLOSED", "TERMINATED")
    clock.advance(DAY)
    assert _closed_ids(swf) == []
    # An open run is never purged, however old.
    assert status(swf, still_open) == ("OPEN", None)
    db = sqlite3.connect(db_path)
    try:
        left = db.execute(
            "SELECT COUNT(*) FROM swf_events WHERE execution NOT IN "
            "(SELECT id FROM swf_executions)"
        ).fetchone()[0]
    finally:
        db.close()
    assert left == 0


def test_zero_retention_purges_on_the_next_sweep(
    swf: LocalSWF, clock: FakeClock
) -> None:
    register_all(swf)
    swf.register_domain(name="brief", workflowExecutionRetentionPeriodInDays="0")
    swf.register_workflow_type(
        domain="brief",
        name="Flow",
        version="1",
        defaultTaskList=DECISIONS,
        defaultExecutionStartToCloseTimeout="60",
        defaultTaskStartToCloseTimeout="10",
        defaultChildPolicy="TERMINATE",
    )
    swf.start_workflow_execution(
        domain="brief", workflowId="w", workflowType={"name": "Flow", "version": "1"}
    )
    swf.terminate_workflow_execution(domain="brief", workflowId="w")
    kept = start(swf, "kept")
    swf.terminate_workflow_execution(domain=DOMAIN, workflowId="kept")
    clock.advance(SWEEP_INTERVAL_SECONDS)
    listing = swf.list_closed_workflow_executions(domain="brief", startTimeFilter=EPOCH)
    assert listing["executionInfos"] == []
    # The other domain keeps its day.
    assert status(swf, kept) == ("CLOSED", "TERMINATED")


def test_a_backlog_is_purged_in_bounded_steps(
    registered: LocalSWF, clock: FakeClock, db_path: Path
) -> None:
    swf = registered
    for n in range(BATCH + 5):
        start(swf, f"w{n}")
        swf.terminate_workflow_execution(domain=DOMAIN, workflowId=f"w{n}")
    clock.advance(2 * DAY)
    swf.sweep()
    # One sweep removes at most BATCH runs; the next call goes on.
    assert _rows(db_path, "swf_executions") == 5
    swf.sweep()
    assert _rows(db_path, "swf_executions") == 0
    assert _rows(db_path, "swf_events") == 0


def test_sweeper_fires_timeouts_nobody_polls_for(db_path: Path) -> None:
    clock = FakeClock()
    swf, _ = connect(db_path, poll_timeout=0.05, poll_interval=0.01, clock=clock)
    register_all(swf)
    execution = start(swf, executionStartToCloseTimeout="100")
    decide(swf, schedule("a"))
    clock.advance(101)
    db = sqlite3.connect(db_path)
    try:
        before = db.execute("SELECT status FROM swf_executions").fetchone()[0]
        assert before == "OPEN"  # nothing has touched the database yet
        swept = threading.Event()

        def check() -> bool:
            row = db.execute("SELECT status FROM swf_executions").fetchone()
            return bool(row[0] == "CLOSED")

        with Sweeper(swf, interval=0.01):
            for _ in range(1000):
                if check():
                    swept.set()
                    break
                swept.wait(0.01)
        assert swept.is_set(), "the sweeper never moved time forward"
    finally:
        db.close()
    assert status(swf, execution) == ("CLOSED", "TIMED_OUT")
    swf.close()


def test_a_long_poll_waits_for_a_task_that_comes_later(db_path: Path) -> None:
    swf, _ = connect(db_path, poll_timeout=30, poll_interval=0.01)
    register_all(swf)
    polled: list[dict[str, object]] = []
    waiting = threading.Thread(target=lambda: polled.append(poll_decision(swf)))
    waiting.start()
    # The poll is already waiting (or about to): the task it gets starts now.
    start(swf)
    waiting.join(timeout=30)
    assert polled and polled[0].get("taskToken")
    swf.close()
