"""The embedded backend: SWF and SQS semantics on one shared SQLite file.

    swf, sqs = connect("cpe.db")

gives objects used exactly like boto3.client("swf") and boto3.client("sqs").
Any number of processes and threads may connect to the same file.
"""

from __future__ import annotations

from pathlib import Path

from cpe.runtime.backends.local.sqs import LocalSQS
from cpe.runtime.backends.local.store import Clock, Store
from cpe.runtime.backends.local.swf import LocalSWF

__all__ = ["DECISION_PAGE_SIZE", "Clock", "LocalSQS", "LocalSWF", "connect"]

# The history page a decider should ask of this backend. Reading a page here
# costs decoding its events, and a decider's cached state needs only the
# newest few: small pages. (On SWF a page is a round trip, and its default of
# 1,000 events is the better choice.)
DECISION_PAGE_SIZE = 50


def connect(
    path: str | Path,
    *,
    poll_timeout: float = 60.0,
    poll_interval: float = 0.05,
    clock: Clock | None = None,
) -> tuple[LocalSWF, LocalSQS]:
    """Open (creating if needed) the database at `path`.

    poll_timeout is how long poll_for_*_task waits for a task, as SWF's 60 s
    long poll; poll_interval how often a waiting poll looks again. clock
    (epoch seconds) is injectable so tests can make timeouts fire at will.
    """
    store = Store(path, clock)
    return (
        LocalSWF(store, poll_timeout=poll_timeout, poll_interval=poll_interval),
        LocalSQS(store, poll_interval=poll_interval),
    )
