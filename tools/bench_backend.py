#!/usr/bin/env python3
"""The embedded backend against what a user might pick instead on one machine.

Two workloads of no-op tasks, run side by side in one run on this machine:

- chain:  N tasks, each needing the one before (default 50);
- fanout: M independent tasks joined by one that needs them all (default 200).

They run through:

- cpe: a plan of language 1 generated in memory, served by one decider
  process and two worker processes (the decider and worker classes of
  cpe.runtime, as `cpec run --workers 2` runs them) on a durable SQLite file;
- Luigi, with its local scheduler and 2 workers (each task writes its marker
  file: that is how Luigi knows a task is done);
- Prefect, a flow of tasks run locally with a 2-thread task runner (the
  default local set-up: Prefect starts its own API on this machine);
- simpleflow's local executor: in one process and not durable, the floor of
  bookkeeping in memory;
- the SQLite floor: the four transactions a task of this design needs (claim
  and answer of its decision task, claim and answer of its activity task), on
  a database file with the backend's settings (WAL, synchronous=FULL).

Each workload runs once untimed (warm-up), then --repeats times; figures are
medians. The peers are not dependencies of cpe: they run in a subprocess of
--peers-python, a Python that has luigi, prefect and simpleflow (make one with
`--setup-peers DIR`, which creates a virtualenv in DIR with pip and uses it).
Without either, only cpe and the SQLite floor are measured.

    python tools/bench_backend.py --setup-peers /tmp/peers-venv
    python tools/bench_backend.py --peers-python /tmp/peers-venv/bin/python
    python tools/bench_backend.py --chain 5 --fanout 5 --repeats 1   # a smoke run

--profile DIR writes cProfile statistics of the decider and the workers there
(one file per process), to see where a task's time goes.

Goals reported against: at least 4x Luigi's throughput, 10x Prefect's, and a
per-task cost within 3x of the SQLite floor.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from queue import Empty
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS = ("luigi", "prefect", "simpleflow")
GOALS = {"luigi": 4.0, "prefect": 10.0}
FLOOR_GOAL = 3.0
DOMAIN = "bench"
NOOP_ACTIVITIES = """
from cpe.runtime import activity


@activity(name="Noop", version="1")
def noop(task):
    return {}
"""


# -- the plans --------------------------------------------------------------


def plan_text(workload: str, size: int) -> str:
    """A language-1 plan of `size` no-op steps (plus a join for fanout)."""
    lines = [
        f"name: Bench{workload.capitalize()}",
        f'version: "{size}"',
        "activities:",
        "  - name: Noop",
        '    version: "1"',
        "steps:",
    ]
    for index in range(size):
        lines += [f"  - name: s{index}", "    activity: Noop"]
        if workload == "chain" and index > 0:
            lines.append(f"    requires: [s{index - 1}]")
    if workload == "fanout":
        lines += ["  - name: join", "    activity: Noop"]
        lines.append(f"    requires: [{', '.join(f's{i}' for i in range(size))}]")
    return "\n".join(lines) + "\n"


def compiled(workload: str, size: int) -> dict[str, Any]:
    from cpe.compiler.compile import check_text

    ir, diagnostics = check_text(plan_text(workload, size), f"<{workload}>")
    if ir is None:
        raise SystemExit("\n".join(d.render() for d in diagnostics))
    return ir


# -- cpe: decider and worker processes on one database file -----------------


@dataclass(frozen=True)
class Settings:
    poll_interval: float
    poll_timeout: float
    profile: str | None


def _profiled(name: str, settings: Settings, body: Any) -> None:
    if settings.profile is None:
        body()
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.runcall(body)
    profiler.dump_stats(os.path.join(settings.profile, f"{name}-{os.getpid()}.prof"))


def _stop_flag(stop: ProcessEvent) -> threading.Event:
    local = threading.Event()

    def watch() -> None:
        stop.wait()
        local.set()

    threading.Thread(target=watch, daemon=True).start()
    return local


def decider_main(
    db: str, ir: dict[str, Any], settings: Settings, stop: ProcessEvent, closed: Any
) -> None:
    from cpe.runtime.backends.local import DECISION_PAGE_SIZE, connect
    from cpe.runtime.decision_poller import DecisionPoller

    swf, _ = connect(
        db, poll_timeout=settings.poll_timeout, poll_interval=settings.poll_interval
    )
    kind = (ir["workflow"]["name"], ir["workflow"]["version"])

    def on_decisions(task: dict[str, Any], decisions: list[dict[str, Any]]) -> None:
        # Tell the timer the moment SWF accepted the workflow's completion.
        if any(d["decisionType"].endswith("WorkflowExecution") for d in decisions):
            closed.put(task["workflowExecution"]["workflowId"])

    poller = DecisionPoller(
        swf,
        domain=DOMAIN,
        task_list=ir["workflow"]["task_list"],
        ir_for_type=lambda name, version: ir if (name, version) == kind else None,
        on_decisions=on_decisions,
        page_size=DECISION_PAGE_SIZE,  # as cpec run and cpec decider ask
    )
    local = _stop_flag(stop)
    _profiled("decider", settings, lambda: poller.run(local))


def worker_main(
    db: str, activities: str, task_lists: list[str], settings: Settings, stop: Any
) -> None:
    from cpe.runtime.activity import load_activities
    from cpe.runtime.backends.local import connect
    from cpe.runtime.worker import ActivityWorker

    swf, _ = connect(
        db, poll_timeout=settings.poll_timeout, poll_interval=settings.poll_interval
    )
    worker = ActivityWorker(
        swf,
        domain=DOMAIN,
        task_lists=task_lists,
        activities=load_activities([activities]),
    )
    local = _stop_flag(stop)
    _profiled("worker", settings, lambda: worker.run(local))


@dataclass
class CpeTimes:
    seconds: list[float]
    floor_per_task: list[float]
    startup: float


def run_cpe(
    workload: str, size: int, repeats: int, settings: Settings, scratch: Path
) -> CpeTimes:
    """Seconds per repeat of the workload, the SQLite floor measured between
    the repeats (this machine's disk is shared and its speed drifts: the
    ratio must compare like with like), and the daemons' start-up time.

    One database file, one decider process and two worker processes per
    workload, started before the clock runs: in use they are daemons.
    """
    from cpe.runtime.backends.local import connect
    from cpe.runtime.registration import ensure_domain, ensure_types

    ir = compiled(workload, size)
    db = str(scratch / f"cpe-{workload}.sqlite")
    activities = scratch / "noop_activities.py"
    activities.write_text(NOOP_ACTIVITIES)
    swf, _ = connect(db)
    ensure_domain(swf, DOMAIN)
    ensure_types(swf, DOMAIN, ir)
    task_lists = sorted({a["task_list"] for a in ir["activities"].values()})
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    closed = context.Queue()
    began = time.perf_counter()
    processes = [
        context.Process(target=decider_main, args=(db, ir, settings, stop, closed)),
        *(
            context.Process(
                target=worker_main,
                args=(db, str(activities), task_lists, settings, stop),
            )
            for _ in range(2)
        ),
    ]
    for process in processes:
        process.start()
    seconds: list[float] = []
    floors: list[float] = []
    try:
        # The daemons are up once a first run has gone through them; it is
        # also the warm-up, untimed.
        _one_run(swf, ir, "warm-up", closed, processes)
        startup = time.perf_counter() - began
        for attempt in range(repeats):
            seconds.append(_one_run(swf, ir, f"run-{attempt}", closed, processes))
            floor_db = scratch / f"floor-{workload}-{attempt}.sqlite"
            floors.append(sqlite_floor(floor_db, len(ir["order"])))
    finally:
        stop.set()
        for process in processes:
            process.join(settings.poll_timeout + 10)
            if process.is_alive():
                process.terminate()
    return CpeTimes(seconds, floors, startup)


def _one_run(
    swf: Any,
    ir: dict[str, Any],
    workflow_id: str,
    closed: Any,
    processes: list[Any],
) -> float:
    workflow = ir["workflow"]
    began = time.perf_counter()
    started = swf.start_workflow_execution(
        domain=DOMAIN,
        workflowId=workflow_id,
        workflowType={"name": workflow["name"], "version": workflow["version"]},
        taskList={"name": workflow["task_list"]},
        input="{}",
    )
    while True:
        try:
            finished = closed.get(timeout=1)
            break
        except Empty:
            if not all(p.is_alive() for p in processes):
                raise SystemExit("a cpe decider or worker process died") from None
    took = time.perf_counter() - began
    info = swf.describe_workflow_execution(
        domain=DOMAIN, execution={"workflowId": workflow_id, "runId": started["runId"]}
    )["executionInfo"]
    if finished != workflow_id or info.get("closeStatus") != "COMPLETED":
        raise SystemExit(f"the cpe run {workflow_id} did not complete: {info}")
    return took


# -- the SQLite floor ----------------------------------------------------------


def sqlite_floor(path: Path, tasks: int) -> float:
    """Seconds per task of the claim and answer transactions a task needs."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.executescript(
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, list TEXT, claimed TEXT);"
        "CREATE INDEX tasks_list ON tasks (list, claimed);"
        "CREATE TABLE events (id INTEGER PRIMARY KEY, type TEXT, attrs TEXT);"
    )
    db.execute("INSERT INTO tasks (list) VALUES ('decisions')")
    attrs = json.dumps({"activityId": "s1", "activityType": {"name": "Noop"}})

    def claim(task_list: str, event: str) -> int:
        db.execute("BEGIN IMMEDIATE")
        (task,) = db.execute(
            "SELECT id FROM tasks WHERE list = ? AND claimed IS NULL LIMIT 1",
            (task_list,),
        ).fetchone()
        db.execute("UPDATE tasks SET claimed = 'me' WHERE id = ?", (task,))
        db.execute("INSERT INTO events (type, attrs) VALUES (?, ?)", (event, attrs))
        db.execute("COMMIT")
        return int(task)

    def answer(task: int, events: tuple[str, str], next_list: str) -> None:
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM tasks WHERE id = ?", (task,))
        for event in events:
            db.execute("INSERT INTO events (type, attrs) VALUES (?, ?)", (event, attrs))
        db.execute("INSERT INTO tasks (list) VALUES (?)", (next_list,))
        db.execute("COMMIT")

    began = time.perf_counter()
    for _ in range(tasks):
        decision = claim("decisions", "DecisionTaskStarted")
        answer(decision, ("DecisionTaskCompleted", "ActivityTaskScheduled"), "work")
        activity = claim("work", "ActivityTaskStarted")
        answer(
            activity, ("ActivityTaskCompleted", "DecisionTaskScheduled"), "decisions"
        )
    took = time.perf_counter() - began
    db.close()
    return took / tasks


# -- the peers -----------------------------------------------------------------


def setup_peers(directory: str) -> str:
    """Create a virtualenv in `directory` with the peers; its Python."""
    python = Path(directory) / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", directory], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEERS], check=True)
    return str(python)


def run_peer(
    python: str, peer: str, workload: str, size: int, repeats: int, scratch: Path
) -> list[float]:
    env = {
        **os.environ,
        # Prefect keeps its database and settings under PREFECT_HOME: a
        # private one, so the run neither reads nor leaves a user's set-up.
        "PREFECT_HOME": str(scratch / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
    }
    command = [python, str(HERE / "bench_peers.py"), peer, workload, str(size)]
    done = subprocess.run(
        [*command, str(repeats)], capture_output=True, text=True, env=env, cwd=scratch
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise SystemExit(f"{peer} {workload} failed:\n{tail}")
    seconds: list[float] = json.loads(lines[-1])["seconds"]
    return seconds


# -- the report ----------------------------------------------------------------


def report(
    workloads: dict[str, int],
    ours: dict[str, CpeTimes],
    peers: dict[str, dict[str, list[float]]],
) -> str:
    lines = []
    for name, size in workloads.items():
        tasks = size + (1 if name == "fanout" else 0)
        times = ours[name]
        our_rate = tasks / statistics.median(times.seconds)
        lines.append(f"{name}: {tasks} no-op tasks (median of {len(times.seconds)})")
        lines.append(f"  {'':22}{'tasks/s':>10}{'s/run':>10}  cpe vs it")
        lines.append(f"  {'cpe (embedded, 2 w.)':22}{our_rate:10.1f}"
                     f"{statistics.median(times.seconds):10.3f}")  # fmt: skip
        for peer, runs in peers.get(name, {}).items():
            rate = tasks / statistics.median(runs)
            goal = GOALS.get(peer)
            verdict = "" if goal is None else (
                f"  (goal {goal:g}x: {'met' if our_rate / rate >= goal else 'NOT met'})"
            )  # fmt: skip
            lines.append(
                f"  {peer:22}{rate:10.1f}{statistics.median(runs):10.3f}"
                f"  {our_rate / rate:6.2f}x{verdict}"
            )
        per_task = 1 / our_rate
        floor = statistics.median(times.floor_per_task)
        ratio = per_task / floor
        met = "met" if ratio <= FLOOR_GOAL else "NOT met"
        lines.append(
            f"  per task: cpe {per_task * 1e3:.2f} ms, SQLite floor "
            f"{floor * 1e3:.2f} ms: {ratio:.1f}x the floor "
            f"(goal {FLOOR_GOAL:g}x: {met})"
        )
    startup = max(times.startup for times in ours.values())
    lines.append(
        f"cpe's decider and 2 workers start (and run the warm-up) in {startup:.2f} s, "
        "not counted above: they are daemons"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chain", type=int, default=50, metavar="N")
    parser.add_argument("--fanout", type=int, default=200, metavar="M")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--peers-python",
        metavar="PATH",
        help="a Python with luigi, prefect, simpleflow",
    )
    parser.add_argument(
        "--setup-peers", metavar="DIR", help="create that Python as a venv in DIR first"
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=0.01,
        help="how often a waiting poll of the embedded backend looks again "
        "(seconds; the backend's default is 0.05, cpec run uses 0.01)",
    )
    parser.add_argument("--profile", metavar="DIR", help="write cProfile stats here")
    arguments = parser.parse_args()
    python = arguments.peers_python
    if arguments.setup_peers:
        python = setup_peers(arguments.setup_peers)
    workloads = {"chain": arguments.chain, "fanout": arguments.fanout}
    settings = Settings(arguments.poll_interval, 1.0, arguments.profile)
    with tempfile.TemporaryDirectory(prefix="bench-backend-") as scratch_dir:
        scratch = Path(scratch_dir)
        ours = {
            name: run_cpe(name, size, arguments.repeats, settings, scratch)
            for name, size in workloads.items()
        }
        peers: dict[str, dict[str, list[float]]] = {}
        if python:
            for name, size in workloads.items():
                peers[name] = {
                    peer: run_peer(python, peer, name, size, arguments.repeats, scratch)
                    for peer in PEERS
                }
    print(report(workloads, ours, peers))


if __name__ == "__main__":
    main()
