#!/usr/bin/env python3
"""What a decision costs: full replay against reading the history, and the cached path.

Builds, in memory, a chain of 4,000 Echo-like steps (a language-1 plan,
compiled with cpe.compiler) and the SWF history of running it (6 events a
step: about 24,000 events, near SWF's limit of 25,000), then prints side by
side in one run:

1. at several history lengths: `json.loads` of the history's JSON, a full
   `decide` over it, and an incremental decision on the cached state (fold
   the new events of one decision task, snapshot, `decide_state`), with the
   ratios full / json.loads (goal: at most 3) and the incremental time, which
   should not grow with the length of the history;
2. a 50-step chain run decision task by decision task through the real
   DecisionPoller against the test SWF simulator (pages of 1,000 events,
   newest first), the decider's CPU time per step (time.process_time, the
   simulator's own time left out), with the cache and with a full replay at
   every task;
3. simpleflow's decider on the same 50-step chain (building its History from
   the polled events and replaying it, as its decider does for every task),
   and the ratio of cpe's cached decision to it (goal: at most 0.1), measured
   in a subprocess
   when `--simpleflow-python` names a Python that has simpleflow installed
   (kept out of our dependencies: `python3 -m venv /tmp/sf-venv &&
   /tmp/sf-venv/bin/pip install simpleflow`), otherwise the figure quoted for
   it, labelled as quoted.

The machine is noisy: every figure is CPU time (time.process_time, so other
processes' load matters less) and the median of `--repeat` runs, each
started after a garbage collection so that none pays for another's garbage.
An incremental decision still costs in proportion to the plan's steps
(deciding looks at every step), not to the history's length.

    .venv/bin/python tools/bench_decider.py [--steps 4000] [--repeat 5]
        [--simpleflow-python /tmp/sf-venv/bin/python]
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TOP = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOP))  # the SWF simulator lives with the tests

from cpe.compiler import compile_text  # noqa: E402
from cpe.runtime.decider import decide, decide_state  # noqa: E402
from cpe.runtime.decision_poller import DecisionPoller  # noqa: E402
from cpe.runtime.history import Folder  # noqa: E402
from tests.decider.swf_simulator import SimulatedSwf, Simulator  # noqa: E402

# The figure quoted for simpleflow when it is not installed, and the goal: a
# cached decision costs at most a tenth of simpleflow's full replay.
QUOTED_SIMPLEFLOW_MS_PER_STEP = 4.6
SIMPLEFLOW_GOAL = 0.1
EVENTS_PER_STEP = 6


def chain_plan(steps: int) -> str:
    """A language-1 plan: step i echoes a value computed from step i-1's."""
    lines = [
        "name: Chain",
        'version: "1"',
        "activities:",
        "  - name: Echo",
        '    version: "1"',
        '    outputs_spec: {value: "$.value"}',
        "steps:",
        "  - name: s0",
        "    activity: Echo",
        "    input: '{\"value\": 0}'",
    ]
    for index in range(1, steps):
        lines += [
            f"  - name: s{index}",
            "    activity: Echo",
            f"    requires: [s{index - 1}]",
            f"    input: '{{\"value\": {{{{ s{index - 1}.value + 1 }}}}}}'",
        ]
    return "\n".join(lines) + "\n"


class ChainHistory:
    """The events of a chain run, shaped as SWF's JSON API returns them."""

    def __init__(self, ir: dict[str, Any]) -> None:
        self.ir = ir
        self.events: list[dict[str, Any]] = []
        self.clock = 1_767_225_600.0
        self._add(
            "WorkflowExecutionStarted",
            input="{}",
            workflowType={"name": "Chain", "version": "1"},
            taskList={"name": "Chain-1"},
            childPolicy="TERMINATE",
            executionStartToCloseTimeout="86400",
            taskStartToCloseTimeout="60",
        )
        self._decision_task()
        for index, name in enumerate(ir["order"]):
            self._step(index, name)

    def _add(self, event_type: str, **attributes: Any) -> int:
        self.clock += 0.25
        event_id = len(self.events) + 1
        key = event_type[0].lower() + event_type[1:] + "EventAttributes"
        self.events.append(
            {
                "eventId": event_id,
                "eventType": event_type,
                "eventTimestamp": self.clock,
                key: attributes,
            }
        )
        return event_id

    def _decision_task(self) -> None:
        scheduled = self._add(
            "DecisionTaskScheduled",
            taskList={"name": "Chain-1"},
            startToCloseTimeout="60",
        )
        self._add("DecisionTaskStarted", scheduledEventId=scheduled, identity="d")

    def _step(self, index: int, name: str) -> None:
        started = len(self.events)
        completed = self._add(
            "DecisionTaskCompleted",
            scheduledEventId=started - 1,
            startedEventId=started,
        )
        scheduled = self._add(
            "ActivityTaskScheduled",
            activityType={"name": "Echo", "version": "1"},
            activityId=name,
            taskList={"name": "Echo-1"},
            input=json.dumps({"value": index}),
            heartbeatTimeout="NONE",
            scheduleToStartTimeout="43200",
            scheduleToCloseTimeout="518400",
            startToCloseTimeout="432000",
            decisionTaskCompletedEventId=completed,
        )
        activity_started = self._add(
            "ActivityTaskStarted", scheduledEventId=scheduled, identity="worker-1"
        )
        self._add(
            "ActivityTaskCompleted",
            result=json.dumps({"value": index + 1}),
            scheduledEventId=scheduled,
            startedEventId=activity_started,
        )
        self._decision_task()

    def up_to_step(self, steps_done: int) -> list[dict[str, Any]]:
        """The history when `steps_done` steps have completed."""
        return self.events[: 3 + EVENTS_PER_STEP * steps_done]


def median_time(repeat: int, work: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        gc.collect()  # no one pays for the garbage of the one before
        start = time.process_time()
        work()
        timings.append(time.process_time() - start)
    return statistics.median(timings)


def incremental_time(
    ir: dict[str, Any], events: list[dict[str, Any]], repeat: int
) -> tuple[float, list[dict[str, Any]]]:
    """The median time of folding one decision task's new events into a copy
    of the cached state and deciding on its snapshot."""
    cached = Folder(ir)
    cached.fold(events[:-EVENTS_PER_STEP])
    new_events = events[-EVENTS_PER_STEP:]
    timings, decisions = [], []
    for _ in range(repeat):
        folder = copy.deepcopy(cached)  # each repetition starts from the cache
        gc.collect()
        start = time.process_time()
        folder.fold(new_events)
        decisions = decide_state(ir, folder.snapshot())
        timings.append(time.process_time() - start)
    return statistics.median(timings), decisions


def length_table(steps: int, repeat: int) -> None:
    started = time.perf_counter()
    ir = compile_text(chain_plan(steps), "chain.yml")
    history = ChainHistory(ir)
    print(
        f"{steps}-step chain compiled and its history of {len(history.events)} "
        f"events built in {time.perf_counter() - started:.1f} s\n"
    )
    print("CPU time, median of the repetitions:")
    print(
        f"{'steps done':>10} {'events':>7} {'json.loads':>11} {'full decide':>12} "
        f"{'full / json':>12} {'incremental':>12} {'full / incr':>12}"
    )
    lengths = sorted({max(1, steps // 8), steps // 4, steps // 2, steps})
    for done in lengths:
        events = history.up_to_step(done)
        text = json.dumps(events)
        load = median_time(repeat, lambda text=text: json.loads(text))
        full = median_time(repeat, lambda events=events: decide(ir, events))
        incremental, decisions = incremental_time(ir, events, repeat)
        if decisions != decide(ir, events):
            raise SystemExit("the incremental decision differs from the full replay")
        print(
            f"{done:>10} {len(events):>7} {load * 1000:>9.1f}ms {full * 1000:>10.1f}ms "
            f"{full / load:>11.2f}x {incremental * 1000:>10.2f}ms "
            f"{full / incremental:>11.0f}x"
        )


class TimedSwf(SimulatedSwf):
    """The simulator, counting the CPU time it spends itself."""

    cpu = 0.0

    def poll_for_decision_task(self, **kwargs: Any) -> dict[str, Any]:
        start = time.process_time()
        try:
            return super().poll_for_decision_task(**kwargs)
        finally:
            self.cpu += time.process_time() - start

    def respond_decision_task_completed(self, **kwargs: Any) -> dict[str, Any]:
        start = time.process_time()
        try:
            return super().respond_decision_task_completed(**kwargs)
        finally:
            self.cpu += time.process_time() - start


def run_chain(ir: dict[str, Any], cache_size: int) -> tuple[float, int]:
    """(decider CPU seconds per decision task, tasks) of one run of the chain."""
    simulator = Simulator({"name": "Chain", "version": "1"}, "{}")
    swf = TimedSwf(simulator)
    poller = DecisionPoller(
        swf,
        domain="bench",
        task_list="Chain-1",
        ir_for_type=lambda name, version: ir,
        cache_size=cache_size,
    )
    total, tasks = 0.0, 0
    while simulator.closed is None:
        if simulator.decision_task is not None:
            start = time.process_time()
            poller.poll_once()
            total += time.process_time() - start
            tasks += 1
        else:
            (activity_id, activity) = next(iter(simulator.activities.items()))
            value = json.loads(activity.input or "{}")["value"]
            simulator.complete_activity(activity_id, json.dumps({"value": value}))
    if simulator.closed["decisionType"] != "CompleteWorkflowExecution":
        raise SystemExit(f"the chain did not complete: {simulator.closed}")
    return (total - swf.cpu) / tasks, tasks


def simpleflow_per_step(python: str, steps: int, repeat: int) -> float:
    script = TOP / "tools" / "simpleflow_chain.py"
    figures = []
    for _ in range(repeat):
        output = subprocess.run(
            [python, str(script), str(steps)],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        ).stdout
        figures.append(json.loads(output.strip().splitlines()[-1])["cpu_per_task"])
    return statistics.median(figures)


def chain_run(steps: int, repeat: int, simpleflow_python: str | None) -> None:
    ir = compile_text(chain_plan(steps), "chain.yml")
    cached = [run_chain(ir, cache_size=256) for _ in range(repeat)]
    full = [run_chain(ir, cache_size=0) for _ in range(repeat)]
    tasks = cached[0][1]
    cached_ms = statistics.median(c for c, _ in cached) * 1000
    full_ms = statistics.median(f for f, _ in full) * 1000
    print(
        f"\n{steps}-step chain through the DecisionPoller, {tasks} decision tasks; "
        "decider CPU per decision task (time.process_time, median of "
        f"{repeat} runs):"
    )
    print(f"  {'cpe, cached state, incremental':<40} {cached_ms:8.2f} ms")
    print(f"  {'cpe, full replay at every task':<40} {full_ms:8.2f} ms")
    if simpleflow_python:
        simpleflow_ms = simpleflow_per_step(simpleflow_python, steps, repeat) * 1000
        label = "simpleflow, full replay (measured)"
        print(f"  {label:<40} {simpleflow_ms:8.2f} ms   ({simpleflow_python})")
    else:
        simpleflow_ms = QUOTED_SIMPLEFLOW_MS_PER_STEP
        label = "simpleflow (QUOTED, not measured)"
        print(
            f"  {label:<40} {simpleflow_ms:8.2f} ms"
            "   (pass --simpleflow-python to measure it)"
        )
    ratio = cached_ms / simpleflow_ms
    verdict = "met" if ratio <= SIMPLEFLOW_GOAL else "NOT met"
    print(
        f"  cpe cached / simpleflow: {ratio:.3f} "
        f"(goal: at most {SIMPLEFLOW_GOAL}; {verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--chain-steps", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--simpleflow-python", metavar="PATH")
    arguments = parser.parse_args()
    length_table(arguments.steps, arguments.repeat)
    chain_run(arguments.chain_steps, arguments.repeat, arguments.simpleflow_python)


if __name__ == "__main__":
    main()
