"""Deciders, workers and writers killed with SIGKILL, over and over, mid-work.

Real processes share one database file. The test kills a random one of them
at a random moment (often inside a transaction), starts a replacement, and
repeats; then it lets the survivors finish. Every workflow must still end
COMPLETED with the result its activities produced, every acknowledged SQS
send must be in the queue, no task may have been handed to two pollers, and
the database must be intact.

The run is bounded in kills and in time and stops by itself. CI runs the
short version; `CPE_CRASH_KILLS=300 pytest tests/local_backend/test_crash.py`
runs a long one.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cpe.runtime.backends.local import connect

from .helpers import ACTIVITIES, DECISIONS, DOMAIN, WORKFLOW, register_all

CTX = multiprocessing.get_context("spawn")
KILLS = int(os.environ.get("CPE_CRASH_KILLS", "16"))
WORKFLOWS = 6
STEPS = 3
# Short task timeouts, so the task of a killed process comes back quickly.
TASK_TIMEOUT = "2"
# However many kills, the test ends by then.
DEADLINE_SECONDS = 60 + KILLS * 0.5
QUEUE = "crash-acks"

pytestmark = pytest.mark.crash


def _whole_history(swf: Any, task: dict[str, Any]) -> list[dict[str, Any]]:
    events = list(task["events"])
    token = task.get("nextPageToken")
    while token:
        page = swf.poll_for_decision_task(
            domain=DOMAIN, taskList=DECISIONS, nextPageToken=token
        )
        events += page["events"]
        token = page.get("nextPageToken")
    return events


def _decisions(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Schedule each step until one attempt of it completed; then complete."""
    scheduled: dict[int, str] = {}
    results: dict[str, str] = {}
    open_steps: set[str] = set()
    attempts: Counter[str] = Counter()
    for event in events:
        kind = event["eventType"]
        if kind == "ActivityTaskScheduled":
            a = event["activityTaskScheduledEventAttributes"]
            step = a["activityId"].split("#")[0]
            scheduled[event["eventId"]] = step
            attempts[step] += 1
            open_steps.add(step)
        elif kind in (
            "ActivityTaskCompleted",
            "ActivityTaskFailed",
            "ActivityTaskTimedOut",
            "ActivityTaskCanceled",
        ):
            a = event[kind[0].lower() + kind[1:] + "EventAttributes"]
            step = scheduled[a["scheduledEventId"]]
            open_steps.discard(step)
            if kind == "ActivityTaskCompleted":
                results[step] = a["result"]
    steps = [f"s{i}" for i in range(STEPS)]
    if all(s in results for s in steps):
        return [
            {
                "decisionType": "CompleteWorkflowExecution",
                "completeWorkflowExecutionDecisionAttributes": {
                    "result": ",".join(results[s] for s in steps)
                },
            }
        ]
    started = events[0]["workflowExecutionStartedEventAttributes"]
    return [
        {
            "decisionType": "ScheduleActivityTask",
            "scheduleActivityTaskDecisionAttributes": {
                "activityType": {"name": "Work", "version": "1"},
                "activityId": f"{s}#{attempts[s] + 1}",
                "input": f"{started['input']}-{s}",
            },
        }
        for s in steps
        if s not in results and s not in open_steps
    ]


def _decider(path: str) -> None:
    swf, _ = connect(path, poll_timeout=0.2, poll_interval=0.01)
    while True:
        task = swf.poll_for_decision_task(domain=DOMAIN, taskList=DECISIONS)
        if not task.get("taskToken"):
            continue
        decisions = _decisions(_whole_history(swf, task))
        time.sleep(random.uniform(0, 0.02))
        try:
            swf.respond_decision_task_completed(
                taskToken=task["taskToken"], decisions=decisions
            )
        except ClientError as exc:
            # Timed out while this process was slow: SWF has moved on.
            assert exc.response["Error"]["Code"] == "UnknownResourceFault"


def _worker(path: str, log: str) -> None:
    swf, _ = connect(path, poll_timeout=0.2, poll_interval=0.01)
    with open(log, "a", encoding="utf-8") as acked:
        while True:
            task = swf.poll_for_activity_task(domain=DOMAIN, taskList=ACTIVITIES)
            if not task.get("taskToken"):
                continue
            time.sleep(random.uniform(0, 0.05))
            try:
                swf.respond_activity_task_completed(
                    taskToken=task["taskToken"], result=task["input"]
                )
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "UnknownResourceFault"
                continue
            # Acknowledged: the completion must be in the history for good.
            workflow_id = task["workflowExecution"]["workflowId"]
            acked.write(f"{workflow_id} {task['activityId']}\n")
            acked.flush()


def _writer(path: str, log: str, signals: str) -> None:
    swf, sqs = connect(path)
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    with (
        open(log, "a", encoding="utf-8") as acked,
        open(signals, "a", encoding="utf-8") as signaled,
    ):
        n = 0
        while True:
            sent = sqs.send_message(QueueUrl=url, MessageBody=f"{os.getpid()}:{n}")
            # Written only once the send returned: acknowledged.
            acked.write(sent["MessageId"] + "\n")
            acked.flush()
            workflow_id = f"wf-{n % WORKFLOWS}"
            token = f"{os.getpid()}:{n}"
            try:
                swf.signal_workflow_execution(
                    domain=DOMAIN,
                    workflowId=workflow_id,
                    signalName="poke",
                    input=token,
                )
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "UnknownResourceFault"
            else:
                signaled.write(f"{workflow_id} {token}\n")
                signaled.flush()
            n += 1


class Fleet:
    """The processes of the test, each started (and killed) by its pid."""

    def __init__(self, path: Path, logs: Path) -> None:
        self.path = str(path)
        self.logs = logs
        self.procs: list[tuple[str, Any]] = []

    def spawn(self, role: str) -> None:
        if role == "decider":
            proc = CTX.Process(target=_decider, args=(self.path,), daemon=True)
        elif role == "worker":
            log = str(self.logs / "completed.txt")
            proc = CTX.Process(target=_worker, args=(self.path, log), daemon=True)
        else:
            logs = (str(self.logs / "sent.txt"), str(self.logs / "signaled.txt"))
            proc = CTX.Process(target=_writer, args=(self.path, *logs), daemon=True)
        proc.start()
        self.procs.append((role, proc))

    def kill_one(self, rng: random.Random) -> str:
        role, proc = self.procs.pop(rng.randrange(len(self.procs)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=10)
        assert proc.exitcode == -signal.SIGKILL, f"a {role} died by itself"
        return role

    def stop(self) -> None:
        for _role, proc in self.procs:
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)
            proc.join(timeout=10)
        self.procs.clear()


def _all_closed(swf: Any) -> bool:
    count = swf.count_open_workflow_executions(
        domain=DOMAIN, startTimeFilter={"oldestDate": 0}
    )
    return int(count["count"]) == 0


def test_kills_lose_nothing_and_every_workflow_ends(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    swf, sqs = connect(path, poll_timeout=0.05, poll_interval=0.01)
    register_all(
        swf,
        defaultTaskStartToCloseTimeout=TASK_TIMEOUT,
        defaultTaskScheduleToStartTimeout="NONE",
    )
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    for n in range(WORKFLOWS):
        swf.start_workflow_execution(
            domain=DOMAIN,
            workflowId=f"wf-{n}",
            workflowType=WORKFLOW,
            input=f"in{n}",
            taskStartToCloseTimeout=TASK_TIMEOUT,
        )
    fleet = Fleet(path, tmp_path)
    rng = random.Random(20261204)
    give_up = time.monotonic() + DEADLINE_SECONDS
    try:
        for role in ("decider", "decider", "worker", "worker", "writer"):
            fleet.spawn(role)
        killed: Counter[str] = Counter()
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.05, 0.4))
            role = fleet.kill_one(rng)
            killed[role] += 1
            fleet.spawn(role)
            assert time.monotonic() < give_up, "the kill rounds took too long"
        # Survivors finish the work; tasks of killed processes time out.
        while not _all_closed(swf):
            assert time.monotonic() < give_up, "a workflow never ended"
            time.sleep(0.2)
    finally:
        fleet.stop()
    assert sum(killed.values()) == KILLS
    histories: dict[str, list[dict[str, Any]]] = {}
    for n in range(WORKFLOWS):
        execution = _run_of(swf, f"wf-{n}")
        info = swf.describe_workflow_execution(domain=DOMAIN, execution=execution)
        assert info["executionInfo"]["closeStatus"] == "COMPLETED"
        histories[f"wf-{n}"] = _history(swf, execution)
        _check_history(histories[f"wf-{n}"], f"in{n}")
    _check_acknowledged(histories, tmp_path)
    stored: set[str] = set()
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        if "Messages" not in got:
            break
        stored |= {m["MessageId"] for m in got["Messages"]}
    sent = _lines(tmp_path / "sent.txt")
    assert sent and set(sent) <= stored
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Nothing is left claimed: every task ended with its execution.
        for table in ("swf_decision_tasks", "swf_activity_tasks"):
            assert check.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
    finally:
        check.close()
    swf.close()


def _lines(log: Path) -> list[str]:
    """Complete lines only: a process may have died in the middle of one."""
    if not log.exists():
        return []
    return [line for line in log.read_text(encoding="utf-8").split("\n")[:-1] if line]


def _history(swf: Any, execution: dict[str, str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        extra = {"nextPageToken": token} if token else {}
        page = swf.get_workflow_execution_history(
            domain=DOMAIN, execution=execution, **extra
        )
        events += page["events"]
        token = page.get("nextPageToken")
        if not token:
            return events


def _check_acknowledged(histories: dict[str, list[dict[str, Any]]], logs: Path) -> None:
    """Every completion and signal a process was told succeeded is in its history."""
    completed: set[tuple[str, str]] = set()
    signaled: set[tuple[str, str]] = set()
    for workflow_id, history in histories.items():
        scheduled = {
            e["eventId"]: e["activityTaskScheduledEventAttributes"]["activityId"]
            for e in history
            if e["eventType"] == "ActivityTaskScheduled"
        }
        for e in history:
            if e["eventType"] == "ActivityTaskCompleted":
                a = e["activityTaskCompletedEventAttributes"]
                completed.add((workflow_id, scheduled[a["scheduledEventId"]]))
            elif e["eventType"] == "WorkflowExecutionSignaled":
                a = e["workflowExecutionSignaledEventAttributes"]
                signaled.add((workflow_id, a["input"]))
    acked_completions = {
        (w, a) for w, a in (line.split(" ") for line in _lines(logs / "completed.txt"))
    }
    acked_signals = {
        (w, t) for w, t in (line.split(" ") for line in _lines(logs / "signaled.txt"))
    }
    assert acked_completions and acked_completions <= completed
    assert acked_signals <= signaled


def _run_of(swf: Any, workflow_id: str) -> dict[str, str]:
    listing = swf.list_closed_workflow_executions(
        domain=DOMAIN,
        startTimeFilter={"oldestDate": 0},
        executionFilter={"workflowId": workflow_id},
    )
    infos = listing["executionInfos"]
    assert len(infos) == 1
    execution: dict[str, str] = infos[0]["execution"]
    return execution


def _check_history(history: list[dict[str, Any]], given: str) -> None:
    ids = [e["eventId"] for e in history]
    assert ids == list(range(1, len(ids) + 1)), "event ids are not dense"
    completed = history[-1]
    assert completed["eventType"] == "WorkflowExecutionCompleted"
    expected = ",".join(f"{given}-s{i}" for i in range(STEPS))
    assert completed["workflowExecutionCompletedEventAttributes"]["result"] == expected
    # Each scheduled task and each decision task was started at most once.
    starts = Counter(
        e[k]["scheduledEventId"]
        for e in history
        for k in (
            "activityTaskStartedEventAttributes",
            "decisionTaskStartedEventAttributes",
        )
        if k in e
    )
    assert not starts or max(starts.values()) == 1, "a task was handed out twice"
