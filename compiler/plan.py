"""The typed plan: what the checker makes of the YAML, with source positions kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cpe.compiler.diagnostics import Position
from cpe.compiler.source import Scalar


class Status(StrEnum):
    """The closing state a requirement asks of the step it names."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    COMPLETED = "completed"
    """Closed in any way: succeeded, failed or skipped."""


TIMEOUT_KEYS = (
    "heartbeat_timeout",
    "schedule_to_start_timeout",
    "schedule_to_close_timeout",
    "start_to_close_timeout",
)

# The original CPE's activity defaults, in seconds.
DEFAULT_ACTIVITY_TIMEOUTS = {
    "heartbeat_timeout": "60",
    "schedule_to_start_timeout": "43200",
    "schedule_to_close_timeout": "518400",
    "start_to_close_timeout": "432000",
}
DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT = "518400"
DEFAULT_TASK_START_TO_CLOSE_TIMEOUT = "300"
DEFAULT_CHILD_POLICY = "TERMINATE"


@dataclass
class Selector:
    text: str
    steps: list[dict[str, str]]
    position: Position


@dataclass
class Activity:
    name: str
    version: str
    position: Position
    task_list: str
    timeouts: dict[str, str]
    input_spec: Any = None
    outputs_spec: dict[str, Selector] | None = None
    key_positions: dict[str, Position] = field(default_factory=dict)
    """Where the value of each key was written, for diagnostics about it."""


@dataclass
class Requirement:
    step: str
    status: Status
    position: Position


@dataclass
class Condition:
    """A step's `when:` (plan language 2): its text, parsed AST and node."""

    text: str
    ast: dict[str, Any]
    node: Scalar


RETRY_OUTCOMES = ("failed", "timed_out")
"""How an attempt may end for a retry to follow, in the order the IR lists them."""


@dataclass
class Retry:
    """A step's `retry:` (plan language 2), every default filled in."""

    position: Position
    max_attempts: int = 3
    interval: int = 1
    backoff_rate: int | float = 2
    max_interval: int = 3600
    jitter: bool = False
    outcomes: tuple[str, ...] = RETRY_OUTCOMES


@dataclass
class ForEach:
    """A step's `for_each:` and the keys that go with it (plan language 2)."""

    text: str
    path: dict[str, Any]
    """The parsed path: {"name": step or __input__, "steps": [selector steps]}."""
    node: Scalar
    item: str
    """The name of the item in the step's input template (`as:`)."""
    item_position: Position
    max_concurrency: int | None = None
    tolerated_failures: int = 0


@dataclass
class Signal:
    """A step's `signal:` (plan language 2): the name it waits for."""

    name: str
    timeout: int | None
    position: Position


@dataclass
class Step:
    name: str
    activity: str
    """Empty for a wait or signal step, and for an activity that did not read."""
    position: Position
    activity_position: Position
    requires: list[Requirement] = field(default_factory=list)
    input: Scalar | None = None
    """The input template, as the node that holds its text."""
    when: Condition | None = None
    retry: Retry | None = None
    for_each: ForEach | None = None
    wait: int | None = None
    """The seconds of a wait step's timer."""
    signal: Signal | None = None

    @property
    def runs_activity(self) -> bool:
        return self.wait is None and self.signal is None


@dataclass
class Plan:
    path: str
    name: str
    version: str
    language: int
    position: Position
    execution_start_to_close_timeout: str
    task_start_to_close_timeout: str
    input_spec: Any = None
    activities: dict[str, Activity] = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)
    output: Scalar | None = None
    """The workflow's `output:` template (plan language 2)."""
