#!/usr/bin/env python3
"""How fast the input poller turns START_JOB messages into workflows.

Queues N START_JOB commands with the SDK on a fresh embedded database, then
lets one InputPoller (in this process, no long poll) handle them one by one:
each is a receive, a closed-run look-up, StartWorkflowExecution, the reply and
the delete. Then the SDK reads the N replies. The embedded backend is one
SQLite file, so this measures our code and SQLite, not SQS or SWF latency.

    python tools/bench_input_poller.py [--jobs 300]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from cpe.compiler import compile_file
from cpe.runtime.backends.local import connect
from cpe.runtime.client import CpeClient
from cpe.runtime.input_poller import InputPoller
from cpe.runtime.job_commands import JobCommands, JobSettings
from cpe.runtime.registration import ensure_domain, ensure_types

PLAN = Path(__file__).parents[1] / "tests" / "fixtures" / "plans" / "engine.yml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=300, help="how many START_JOB")
    jobs = parser.parse_args().jobs
    logging.disable(logging.CRITICAL)  # one log line a message would dominate
    with tempfile.TemporaryDirectory() as folder:
        swf, sqs = connect(Path(folder) / "bench.db", poll_timeout=0.2)
        ensure_domain(swf, "bench")
        ensure_types(swf, "bench", compile_file(PLAN))
        inbox = sqs.create_queue(QueueName="bench-input")["QueueUrl"]
        outbox = sqs.create_queue(QueueName="bench-output")["QueueUrl"]
        client = CpeClient(sqs, inbox, outbox, name="bench")
        for number in range(jobs):
            client.start_job(f"job-{number}", {"mode": "ok"}, workflow=("Engine", "1"))

        commands = JobCommands(swf, JobSettings(domain="bench"))
        poller = InputPoller(sqs, commands, queue_url=inbox, wait_seconds=0)
        began = time.monotonic()
        while poller.poll_once() is not None:
            pass
        took = time.monotonic() - began
        print(
            f"{jobs} START_JOB handled in {took:.2f} s: {jobs / took:.0f} a second, "
            f"{1000 * took / jobs:.1f} ms each"
        )

        began = time.monotonic()
        replies = 0
        for _ in client.notifications(wait=0.5, poll_seconds=0):
            replies += 1
            if replies == jobs:
                break
        print(f"{replies} replies read by the SDK in {time.monotonic() - began:.2f} s")
        swf.close()


if __name__ == "__main__":
    main()
