"""The peers' side of tools/bench_backend.py: one workload on one peer.

Run by the Python that has luigi, prefect and simpleflow (never cpe's own),
as `python bench_peers.py PEER WORKLOAD SIZE REPEATS`; prints a JSON object
{"seconds": [...], "tasks": N} on its last line. PEER is luigi, prefect or
simpleflow; WORKLOAD is chain (SIZE tasks, each needing the one before) or
fanout (SIZE independent tasks joined by one). Each peer runs one untimed
warm-up first, so one-time set-up (Prefect's database, imports) is not
counted against it; cpe is timed the same way.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any


def luigi_workload(workload: str, size: int) -> Callable[[], None]:
    import luigi

    class Noop(luigi.Task):  # type: ignore[misc]
        # Luigi knows a task is done by its output, so each no-op task writes
        # an empty file: Luigi's usual way, and what makes it durable.
        root = luigi.Parameter()
        index = luigi.IntParameter()
        after = luigi.IntParameter(default=-1)  # chain: the task before
        needs = luigi.IntParameter(default=0)  # fan-out join: how many before

        def requires(self) -> Any:
            if self.after >= 0:
                return Noop(root=self.root, index=self.after, after=self.after - 1)
            return [Noop(root=self.root, index=i) for i in range(self.needs)]

        def output(self) -> Any:
            return luigi.LocalTarget(os.path.join(self.root, f"{self.index}.done"))

        def run(self) -> None:
            with self.output().open("w"):
                pass

    def run() -> None:
        with tempfile.TemporaryDirectory(prefix="bench-luigi-") as root:
            if workload == "chain":
                final = Noop(root=root, index=size - 1, after=size - 2)
            else:
                final = Noop(root=root, index=size, needs=size)
            ok = luigi.build(
                [final], workers=2, local_scheduler=True, log_level="WARNING"
            )
            if not ok:
                raise SystemExit("luigi did not finish the workload")

    return run


def prefect_workload(workload: str, size: int) -> Callable[[], None]:
    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner

    @task
    def noop(value: int) -> int:
        return value

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))  # type: ignore[arg-type]
    def chain() -> int:
        value = 0
        for _ in range(size):
            value = noop(value)
        return value

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))  # type: ignore[arg-type]
    def fanout() -> int:
        parts = [noop.submit(i) for i in range(size)]
        return int(noop.submit(0, wait_for=parts).result())

    chosen = chain if workload == "chain" else fanout

    def run() -> None:
        chosen()

    return run


def simpleflow_workload(workload: str, size: int) -> Callable[[], None]:
    from simpleflow import Workflow, activity, futures
    from simpleflow.local import Executor

    @activity.with_attributes(task_list="bench", version="1")  # type: ignore[misc]
    def noop(value: int) -> int:
        return value

    class Chain(Workflow):  # type: ignore[misc]
        name = "chain"
        version = "1"
        task_list = "bench"

        def run(self) -> int:
            value = 0
            for _ in range(size):
                value = self.submit(noop, value).result
            return value

    class Fanout(Workflow):  # type: ignore[misc]
        name = "fanout"
        version = "1"
        task_list = "bench"

        def run(self) -> int:
            parts = [self.submit(noop, i) for i in range(size)]
            futures.wait(*parts)
            return int(self.submit(noop, 0).result)

    workflow = Chain if workload == "chain" else Fanout

    def run() -> None:
        Executor(workflow).run()

    return run


PEERS = {
    "luigi": luigi_workload,
    "prefect": prefect_workload,
    "simpleflow": simpleflow_workload,
}


def main() -> None:
    peer, workload, size, repeats = (
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]),
        int(sys.argv[4]),
    )
    run = PEERS[peer](workload, size)
    run()  # warm-up, untimed
    seconds = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - began)
    tasks = size if workload == "chain" else size + 1
    print(json.dumps({"seconds": seconds, "tasks": tasks}))


if __name__ == "__main__":
    main()
