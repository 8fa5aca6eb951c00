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


@dataclass
class Step:
    name: str
    activity: str
    position: Position
    activity_position: Position
    requires: list[Requirement] = field(default_factory=list)
    input: Scalar | None = None
    """The input template, as the node that holds its text."""
    when: Condition | None = None


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
