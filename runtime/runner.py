"""`cpec run`: one workflow, start to end, on the embedded backend.

The run is the whole stack in miniature: the plan's types are registered, one
execution is started, a decider thread and worker processes serve it through
one SQLite file, and the caller gets the outcome once the execution closes.
Workers are separate processes, as in production, so a crashing activity
cannot take the decider with it; a worker that dies is replaced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import signal
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import ClientError, ParamValidationError

from cpe.runtime.activity import ActivityLoadError, load_activities
from cpe.runtime.backends.local import DECISION_PAGE_SIZE, connect
from cpe.runtime.blobs import BlobError, LocalBlobStore, reference_in
from cpe.runtime.decision_poller import DecisionPoller
from cpe.runtime.progress import ProgressPrinter
from cpe.runtime.registration import ensure_domain, ensure_types
from cpe.runtime.swf_errors import error_code
from cpe.runtime.worker_pool import WorkerPool

logger = logging.getLogger(__name__)

# Polls are short in a run: a worker visits every task list of the plan in
# turn, so a long poll on an idle list would delay a task waiting on another;
# on the local database a short poll costs next to nothing.
_POLL_TIMEOUT = 0.25
# How often a waiting poll looks again. Each step of a chain waits for a
# decider poll and then a worker poll, so this is paid twice per step: at the
# backend's default of 0.05 s a chain of no-op steps ran at 14 steps/s, at
# 0.01 s at about 30 (tools/bench_backend.py), for a small idle cost (a poll
# of an empty task list is one short transaction).
_POLL_INTERVAL = 0.01
_WATCH_INTERVAL = 0.2


class Terminated(KeyboardInterrupt):
    """The run was stopped with SIGTERM; it cleans up as for Ctrl-C."""


class RunError(Exception):
    """The run could not be set up (the workflow itself never started)."""


@dataclass(frozen=True)
class RunOutcome:
    workflow_id: str
    run_id: str
    close_status: str
    """COMPLETED, FAILED, CANCELED, TERMINATED or TIMED_OUT."""
    result: Any = None
    reason: str | None = None
    details: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.close_status == "COMPLETED"


def _check_activity_code(ir: dict[str, Any], sources: Sequence[str]) -> None:
    try:
        table = load_activities(sources)
    except ActivityLoadError as error:
        raise RunError(str(error)) from None
    missing = [
        f"{a['name']} {a['version']}"
        for a in ir["activities"].values()
        if (a["name"], a["version"]) not in table
    ]
    if missing:
        defined = ", ".join(f"{n} {v}" for n, v in sorted(table)) or "none"
        raise RunError(
            f"no code for activity {', '.join(missing)} in {', '.join(sources)} "
            f"(it defines: {defined})"
        )


def _heartbeat_interval(ir: dict[str, Any]) -> float:
    # Beat well inside the shortest heartbeat timeout of the plan.
    timeouts = [
        int(a["heartbeat_timeout"])
        for a in ir["activities"].values()
        if a["heartbeat_timeout"] != "NONE"
    ]
    return max(0.5, min([10.0, *(t / 3 for t in timeouts)]))


def _close_event(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    closing = {
        "WorkflowExecutionCompleted",
        "WorkflowExecutionFailed",
        "WorkflowExecutionCanceled",
        "WorkflowExecutionTerminated",
        "WorkflowExecutionTimedOut",
    }
    return next((e for e in events if e["eventType"] in closing), None)


def _history(swf: Any, domain: str, execution: dict[str, str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        request: dict[str, Any] = {"domain": domain, "execution": execution}
        if token:
            request["nextPageToken"] = token
        page = swf.get_workflow_execution_history(**request)
        events.extend(page["events"])
        token = page.get("nextPageToken")
        if not token:
            return events


def _outcome(execution: dict[str, str], event: dict[str, Any]) -> RunOutcome:
    event_type = event["eventType"]
    status = {
        "WorkflowExecutionCompleted": "COMPLETED",
        "WorkflowExecutionFailed": "FAILED",
        "WorkflowExecutionCanceled": "CANCELED",
        "WorkflowExecutionTerminated": "TERMINATED",
        "WorkflowExecutionTimedOut": "TIMED_OUT",
    }[event_type]
    attributes = event.get(
        event_type[0].lower() + event_type[1:] + "EventAttributes", {}
    )
    result = attributes.get("result")
    return RunOutcome(
        workflow_id=execution["workflowId"],
        run_id=execution["runId"],
        close_status=status,
        result=json.loads(result) if result else None,
        reason=attributes.get("reason") or attributes.get("cause") or status.lower(),
        details=attributes.get("details"),
    )


def run_plan(
    ir: dict[str, Any],
    workflow_input: str,
    *,
    activity_sources: Sequence[str],
    workers: int = 3,
    db: str | None = None,
    domain: str = "cpe-local",
    workflow_id: str | None = None,
    progress: TextIO | None = None,
) -> RunOutcome:
    """Run one execution of `ir` to its end; raises RunError if it cannot start."""
    sources = [
        str(Path(s).resolve()) if s.endswith(".py") else s for s in activity_sources
    ]
    _check_activity_code(ir, sources)
    with (
        _terminate_as_interrupt(),
        tempfile.TemporaryDirectory(prefix="cpec-run-") as scratch,
    ):
        path = db or str(Path(scratch) / "cpe.sqlite")
        with _exclusive(path):
            return _run(
                ir,
                workflow_input,
                sources,
                workers,
                path,
                domain,
                workflow_id,
                progress,
            )


@contextlib.contextmanager
def _signal_handlers(handler: Any, *signums: signal.Signals) -> Iterator[None]:
    """`handler` for `signums` while the block runs (only the main thread
    can set handlers; elsewhere the block runs as it is)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        yield
    finally:
        for signum, earlier in previous.items():
            signal.signal(signum, earlier)


def _terminate_as_interrupt() -> contextlib.AbstractContextManager[None]:
    """SIGTERM (a `kill`, a service stop) cleans up as Ctrl-C does."""

    def interrupt(signum: int, frame: object) -> None:
        raise Terminated

    return _signal_handlers(interrupt, signal.SIGTERM)


def _signals_held() -> contextlib.AbstractContextManager[None]:
    """Ctrl-C and SIGTERM are ignored while cleaning up after one of them."""
    return _signal_handlers(signal.SIG_IGN, signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _exclusive(db: str) -> Iterator[None]:
    """Hold the database's run lock: two runs on one database would run each
    other's tasks with their own (possibly different) activity code."""
    try:
        lock = open(f"{db}.lock", "a")
    except OSError as error:
        raise RunError(f"cannot use the database {db}: {error.strerror}") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunError(
                f"another cpec run is using the database {db}; runs cannot share "
                "a database while they run (leave out --db for a private one)"
            ) from None
        yield


def _run(
    ir: dict[str, Any],
    workflow_input: str,
    sources: list[str],
    workers: int,
    db: str,
    domain: str,
    workflow_id: str | None,
    progress: TextIO | None,
) -> RunOutcome:
    workflow = ir["workflow"]
    workflow_id = workflow_id or f"{workflow['name']}-{uuid.uuid4().hex[:12]}"
    swf, execution = _start(ir, workflow_input, db, domain, workflow_id)
    if progress is not None:
        print(
            f"cpec: started {workflow['name']} {workflow['version']} as {workflow_id} "
            f"(database {db})",
            file=progress,
            flush=True,
        )

    # Texts too long for SWF are kept beside the database, so a kept database
    # (--db) keeps them too.
    blobs = LocalBlobStore(f"{db}.blobs")
    stop = threading.Event()
    decider = threading.Thread(
        target=_decide_until,
        args=(db, domain, ir, stop, blobs),
        name="cpec-decider",
        daemon=True,
    )
    decider.start()
    task_lists = sorted({a["task_list"] for a in ir["activities"].values()})
    pool = WorkerPool(
        # A plan of only wait and signal steps has no activity to run.
        workers if task_lists else 0,
        db=db,
        domain=domain,
        task_lists=task_lists,
        sources=sources,
        heartbeat_interval=_heartbeat_interval(ir),
        poll_timeout=_POLL_TIMEOUT,
        blob_directory=str(blobs.directory),
        poll_interval=_POLL_INTERVAL,
    )
    began = time.monotonic()
    try:
        outcome = _watch(swf, domain, execution, pool, ProgressPrinter(progress, ir))
        outcome = _result_read_back(outcome, blobs)
    except KeyboardInterrupt:
        # Leave no open execution behind in a database that outlives the run,
        # even when a second Ctrl-C follows the first.
        with _signals_held():
            swf.terminate_workflow_execution(
                domain=domain, **execution, reason="cpec run was interrupted"
            )
        raise
    finally:
        # A signal here would leave worker processes that the interpreter's
        # exit then waits for, however long their activities take.
        with _signals_held():
            stop.set()
            pool.shut_down()
            decider.join(_POLL_TIMEOUT + 5)
    if progress is not None:
        took = time.monotonic() - began
        print(
            f"cpec: workflow {outcome.close_status.lower()} in {took:.1f} s",
            file=progress,
            flush=True,
        )
    return outcome


def _start(
    ir: dict[str, Any], workflow_input: str, db: str, domain: str, workflow_id: str
) -> tuple[Any, dict[str, str]]:
    """Register the plan's types and start its execution; RunError if we cannot."""
    workflow = ir["workflow"]
    try:
        swf, _ = connect(db, poll_timeout=_POLL_TIMEOUT, poll_interval=_POLL_INTERVAL)
        ensure_domain(swf, domain)
        ensure_types(swf, domain, ir)
        started = swf.start_workflow_execution(
            domain=domain,
            workflowId=workflow_id,
            workflowType={"name": workflow["name"], "version": workflow["version"]},
            taskList={"name": workflow["task_list"]},
            input=workflow_input,
        )
    except sqlite3.Error as error:
        raise RunError(f"cannot use the database {db}: {error}") from None
    except (ClientError, ParamValidationError) as error:
        if error_code(error) == "WorkflowExecutionAlreadyStartedFault":
            raise RunError(
                f"an execution with workflow id {workflow_id} is already open in {db}; "
                "choose another --workflow-id"
            ) from None
        raise RunError(f"the backend refused to start the workflow: {error}") from None
    return swf, {"workflowId": workflow_id, "runId": started["runId"]}


def _watch(
    swf: Any,
    domain: str,
    execution: dict[str, str],
    pool: WorkerPool,
    printer: ProgressPrinter,
) -> RunOutcome:
    """Show the execution's progress until it closes; keep the workers alive."""
    while True:
        events = _history(swf, domain, execution)
        printer.show(events)
        closing = _close_event(events)
        if closing is not None:
            return _outcome(execution, closing)
        pool.replace_dead(printer.stream)
        time.sleep(_WATCH_INTERVAL)


def _result_read_back(outcome: RunOutcome, blobs: LocalBlobStore) -> RunOutcome:
    """The outcome with a result kept in the blob store read back from it."""
    digest = reference_in(outcome.result)
    if digest is None:
        return outcome
    try:
        result = json.loads(blobs.get(json.dumps(outcome.result)))
    except (BlobError, ValueError) as error:
        raise RunError(f"the workflow's result cannot be read back: {error}") from None
    return dataclasses.replace(outcome, result=result)


def _decide_until(
    db: str,
    domain: str,
    ir: dict[str, Any],
    stop: threading.Event,
    blobs: LocalBlobStore,
) -> None:
    swf, _ = connect(db, poll_timeout=_POLL_TIMEOUT, poll_interval=_POLL_INTERVAL)
    expected = (ir["workflow"]["name"], ir["workflow"]["version"])

    def ir_for_type(name: str, version: str) -> dict[str, Any] | None:
        return ir if (name, version) == expected else None

    DecisionPoller(
        swf,
        domain=domain,
        task_list=ir["workflow"]["task_list"],
        ir_for_type=ir_for_type,
        blobs=blobs,
        page_size=DECISION_PAGE_SIZE,
    ).run(stop)
