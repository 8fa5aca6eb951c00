"""The folded states of recent executions, so a decision folds only new events.

A decider that replays the whole history at every decision task does work
that grows with the history; keeping the `Folder` of each execution it served
lately lets the next decision task fold only the events that came since. An
entry belongs to one run of one workflow (workflowId, runId) and to one IR
(its content hash): a redeployed plan never reuses a state folded with another.

The cache is bounded: the least recently used entry goes when it is full. An
entry is taken out while a decision uses it and put back afterwards, so two
pollers sharing a cache never fold into one Folder at the same time.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass

from cpe.runtime.history import Folder

DEFAULT_CACHE_SIZE = 256
"""Executions whose folded state a decider keeps by default."""

ExecutionKey = tuple[str, str]
"""(workflowId, runId) of an execution."""


@dataclass
class CachedExecution:
    """What one decision left for the next decision of the same execution."""

    ir_hash: str
    folder: Folder
    task_timeout: float | None = None
    """The decision task start-to-close timeout last seen, in seconds."""


class DecisionCache:
    """A bounded, least-recently-used map from executions to folded states."""

    def __init__(self, max_executions: int = DEFAULT_CACHE_SIZE) -> None:
        if max_executions < 0:
            raise ValueError("max_executions cannot be negative")
        self.max_executions = max_executions
        self._entries: OrderedDict[ExecutionKey, CachedExecution] = OrderedDict()
        self._lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()
        """How decisions went: "incremental", or "replay: <why>"."""

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def take(self, key: ExecutionKey) -> CachedExecution | None:
        """Remove and return the entry of `key`, if there is one."""
        with self._lock:
            return self._entries.pop(key, None)

    def put(self, key: ExecutionKey, entry: CachedExecution) -> None:
        """Keep `entry` as the newest; forget the oldest beyond the bound."""
        if self.max_executions == 0:
            return
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_executions:
                self._entries.popitem(last=False)

    def drop(self, key: ExecutionKey) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget every entry, as a decider that restarts has forgotten them."""
        with self._lock:
            self._entries.clear()

    def count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1
