"""Real processes and threads sharing one database file.

Children are started with 'spawn', so they share nothing with the test but
the file: exactly how separate decider and worker processes would run.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cpe.runtime.backends.local import LocalSWF, connect

from .helpers import (
    ACTIVITIES,
    DOMAIN,
    decide,
    last,
    register_all,
    schedule,
    start,
    types,
)

CTX = multiprocessing.get_context("spawn")
TASKS = 24
WORKERS = 4


class OffsetClock:
    """Real time plus a jump the test controls; children keep real time."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def _claim_until_empty(path: str, barrier: Any, out: Any) -> None:
    swf, _ = connect(path, poll_timeout=0.3, poll_interval=0.005)
    barrier.wait()
    claimed: list[str] = []
    while True:
        task = swf.poll_for_activity_task(
            domain=DOMAIN, taskList=ACTIVITIES, identity=str(os.getpid())
        )
        if not task.get("taskToken"):
            break
        claimed.append(task["activityId"])
        time.sleep(0.005)  # a little work, so the others get their turn
        swf.respond_activity_task_completed(taskToken=task["taskToken"], result="ok")
    out.put(claimed)
    swf.close()


def _take_and_hang(path: str, out: Any) -> None:
    swf, _ = connect(path, poll_timeout=5, poll_interval=0.01)
    task = swf.poll_for_activity_task(domain=DOMAIN, taskList=ACTIVITIES)
    swf.record_activity_task_heartbeat(taskToken=task["taskToken"], details="started")
    out.put(task["taskToken"])
    time.sleep(60)  # killed long before this ends


def _send_forever(path: str, out: Any) -> None:
    _, sqs = connect(path)
    url = sqs.get_queue_url(QueueName="acks")["QueueUrl"]
    n = 0
    while True:
        sent = sqs.send_message(QueueUrl=url, MessageBody=str(n))
        out.put(sent["MessageId"])  # acknowledged: send_message returned
        n += 1


def _receive_until_empty(path: str, url: str, barrier: Any, out: Any) -> None:
    _, sqs = connect(path, poll_interval=0.005)
    barrier.wait()
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)
        if "Messages" not in got:
            break
        for message in got["Messages"]:
            bodies.append(message["Body"])
            time.sleep(0.002)  # a little work, so the others get their turn
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    out.put(bodies)
    sqs.close()


def _with_activities(path: Path, count: int, **timeouts: str) -> tuple[LocalSWF, Any]:
    clock = OffsetClock()
    swf, _ = connect(path, poll_timeout=0.05, poll_interval=0.01, clock=clock)
    register_all(swf)
    execution = start(swf)
    decide(swf, *(schedule(f"a{i}", **timeouts) for i in range(count)))
    return swf, (execution, clock)


def test_competing_processes_claim_each_task_once(db_path: Path) -> None:
    swf, (execution, _) = _with_activities(db_path, TASKS)
    barrier = CTX.Barrier(WORKERS)
    out = CTX.Queue()
    procs = [
        CTX.Process(target=_claim_until_empty, args=(str(db_path), barrier, out))
        for _ in range(WORKERS)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=10)
        assert p.exitcode == 0
    claimed = Counter(a for r in results for a in r)
    assert sorted(claimed) == sorted(f"a{i}" for i in range(TASKS))
    assert set(claimed.values()) == {1}, "a task was handed out twice"
    assert sum(1 for r in results if r) >= 2, "the pollers did not compete"
    kinds = Counter(types(swf, execution))
    assert kinds["ActivityTaskStarted"] == TASKS
    assert kinds["ActivityTaskCompleted"] == TASKS
    # Dense, ordered event ids despite concurrent writers.
    history = swf.get_workflow_execution_history(domain=DOMAIN, execution=execution)
    ids = [e["eventId"] for e in history["events"]]
    assert ids == list(range(1, len(ids) + 1))
    swf.close()


def test_threads_share_one_client(db_path: Path) -> None:
    swf, (execution, _) = _with_activities(db_path, TASKS)
    claimed: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        while True:
            task = swf.poll_for_activity_task(domain=DOMAIN, taskList=ACTIVITIES)
            if not task.get("taskToken"):
                return
            with lock:
                claimed.append(task["activityId"])
            swf.respond_activity_task_completed(taskToken=task["taskToken"])

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(claimed) == sorted(f"a{i}" for i in range(TASKS))
    assert Counter(types(swf, execution))["ActivityTaskCompleted"] == TASKS
    swf.close()


@pytest.mark.parametrize(
    ("timeouts", "wait", "expected"),
    [
        ({"heartbeatTimeout": "30", "startToCloseTimeout": "600"}, 31, "HEARTBEAT"),
        (
            {"heartbeatTimeout": "NONE", "startToCloseTimeout": "20"},
            21,
            "START_TO_CLOSE",
        ),
    ],
)
def test_killed_worker_task_times_out(
    db_path: Path, timeouts: dict[str, str], wait: float, expected: str
) -> None:
    swf, (execution, clock) = _with_activities(db_path, 1, **timeouts)
    out = CTX.Queue()
    proc = CTX.Process(target=_take_and_hang, args=(str(db_path), out))
    proc.start()
    token = out.get(timeout=30)
    assert proc.pid is not None
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(timeout=10)
    assert proc.exitcode == -signal.SIGKILL
    info = swf.describe_workflow_execution(domain=DOMAIN, execution=execution)
    assert info["openCounts"]["openActivityTasks"] == 1
    assert "ActivityTaskTimedOut" not in types(swf, execution)
    clock.offset = wait
    timed_out = last(swf, execution, "ActivityTaskTimedOut")
    assert timed_out["timeoutType"] == expected
    if expected == "HEARTBEAT":
        assert timed_out["details"] == "started"
    assert types(swf, execution)[-1] == "DecisionTaskScheduled"
    with pytest.raises(swf.exceptions.UnknownResourceFault):
        swf.respond_activity_task_completed(taskToken=token)
    swf.close()


def test_sigkill_loses_nothing_acknowledged(db_path: Path) -> None:
    swf, sqs = connect(db_path, poll_interval=0.01)
    url = sqs.create_queue(QueueName="acks")["QueueUrl"]
    out = CTX.Queue()
    proc = CTX.Process(target=_send_forever, args=(str(db_path), out))
    proc.start()
    acked = [out.get(timeout=30) for _ in range(30)]
    assert proc.pid is not None
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(timeout=10)
    while True:
        try:
            acked.append(out.get(timeout=0.2))
        except queue.Empty:
            break
    stored: set[str] = set()
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        if "Messages" not in got:
            break
        stored |= {m["MessageId"] for m in got["Messages"]}
    assert set(acked) <= stored
    check = sqlite3.connect(db_path)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        check.close()
    swf.close()


def test_competing_processes_receive_each_message_once(db_path: Path) -> None:
    _, sqs = connect(db_path)
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    for start_at in range(0, TASKS * 2, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": f"m{n}", "MessageBody": str(n)}
                for n in range(start_at, min(start_at + 10, TASKS * 2))
            ],
        )
    barrier = CTX.Barrier(WORKERS)
    out = CTX.Queue()
    procs = [
        CTX.Process(target=_receive_until_empty, args=(str(db_path), url, barrier, out))
        for _ in range(WORKERS)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=10)
        assert p.exitcode == 0
    received = Counter(b for r in results for b in r)
    assert sorted(received, key=int) == [str(n) for n in range(TASKS * 2)]
    assert set(received.values()) == {1}, "a message was received twice"
    assert sum(1 for r in results if r) >= 2, "the receivers did not compete"
    sqs.close()


def test_a_poll_with_nothing_to_claim_never_takes_the_write_lock(
    db_path: Path,
) -> None:
    # Every poller wakes at every commit; one that took the write lock for
    # nothing would make the poller with a task wait behind it.
    swf, _ = connect(db_path, poll_timeout=0.3, poll_interval=0.01)
    register_all(swf)
    writer = sqlite3.connect(db_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # held for the whole poll
    try:
        began = time.monotonic()
        answer = swf.poll_for_activity_task(domain=DOMAIN, taskList=ACTIVITIES)
        waited = time.monotonic() - began
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert not answer.get("taskToken")
    assert waited < 5  # the busy timeout (30 s) was never entered


def test_a_waiting_poll_still_claims_a_task_and_names_an_unknown_domain(
    db_path: Path,
) -> None:
    swf, _ = connect(db_path, poll_timeout=5, poll_interval=0.01)
    register_all(swf)
    with pytest.raises(swf.exceptions.UnknownResourceFault):
        swf.poll_for_activity_task(domain="no-such-domain", taskList=ACTIVITIES)
    execution = start(swf)
    answer: queue.Queue[dict[str, Any]] = queue.Queue()
    poller = threading.Thread(
        target=lambda: answer.put(
            swf.poll_for_activity_task(domain=DOMAIN, taskList=ACTIVITIES)
        )
    )
    poller.start()
    time.sleep(0.1)  # the poll is waiting when the task comes
    decide(swf, schedule("a1"))
    poller.join(10)
    assert answer.get(timeout=1)["activityId"] == "a1"
    assert "ActivityTaskStarted" in types(swf, execution)
