#!/usr/bin/env python3
"""simpleflow's decider on an N-step chain, for tools/bench_decider.py to compare with.

Run with a Python that has simpleflow installed (it is not a dependency of
cpe): `python3 -m venv /tmp/sf-venv && /tmp/sf-venv/bin/pip install simpleflow`.
The chain is the same as the benchmark's: step i echoes a value one more than
step i-1's. The history is grown with simpleflow's own history builder, one
decision task at a time, and every task is answered as simpleflow's decider
answers a polled task: the History is built from the raw events (what the
poll returns) and then replayed whole. Its log lines are switched off, as cpe's decider logs
nothing per decision at its default level. Prints one line of JSON: the
decision tasks and the CPU seconds (time.process_time) per task.

    /tmp/sf-venv/bin/python tools/simpleflow_chain.py 50
"""

from __future__ import annotations

import json
import logging
import sys
import time

from simpleflow import Workflow, activity
from simpleflow.swf.executor import Executor
from simpleflow.swf.mapper.models.domain import Domain
from simpleflow.swf.mapper.models.history import History, builder
from simpleflow.swf.mapper.responses import Response

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 50


@activity.with_attributes(task_list="echo", version="1")
def echo(value):
    return value


class Chain(Workflow):
    name = "chain"
    version = "1"
    task_list = "decisions"
    decision_tasks_timeout = "300"
    execution_timeout = "3600"

    def run(self):
        value = 0
        for _ in range(STEPS):
            value = self.submit(echo, value + 1).result
        return value


def main() -> None:
    logging.disable(logging.CRITICAL)
    executor = Executor(Domain("bench"), Chain)
    history = builder.History(Chain, input={})
    cpu = []
    while True:
        raw_events = [event.raw for event in history.events]
        start = time.process_time()
        polled = History.from_event_list(raw_events)
        decisions = executor.replay(Response(history=polled, execution=None)).decisions
        cpu.append(time.process_time() - start)
        (decision,) = decisions
        if decision["decisionType"] != "ScheduleActivityTask":
            break
        attributes = decision["scheduleActivityTaskDecisionAttributes"]
        task_input = json.loads(attributes["input"])
        history.add_decision_task_completed()
        history.add_activity_task(
            echo,
            decision_id=history.last_id,
            activity_id=attributes["activityId"],
            input=task_input,
            last_state="completed",
            result=task_input["args"][0],
        )
        history.add_decision_task_scheduled()
        history.add_decision_task_started()
    if decision["decisionType"] != "CompleteWorkflowExecution":
        raise SystemExit(f"the chain did not complete: {decision}")
    print(json.dumps({"tasks": len(cpu), "cpu_per_task": sum(cpu) / len(cpu)}))


if __name__ == "__main__":
    main()
