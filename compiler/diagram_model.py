"""The diagram of an IR as plain data: nodes and edges, before any format.

Both renderers (DOT, Mermaid) draw this model and nothing else, so they show
the same graph by construction. Node ids are made from positions in
`ir["order"]` (s0, s1, ...), never from step names, so they are safe in every
format whatever the names hold; names only ever appear in labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from cpe.compiler.diagram_overlay import Overlay
from cpe.compiler.diagram_style import LOOKS, WORKFLOW_CLOSES
from cpe.runtime.history import StepStatus

START_ID = "wf_start"
END_ID = "wf_end"
DEFAULT_STATUS = "succeeded"  # a requirement's status when the plan names none

NodeKind = Literal["step", "start", "end"]


@dataclass(frozen=True)
class Node:
    id: str
    kind: NodeKind
    title: str  # the step name, or "start" / "end"
    lines: tuple[str, ...] = ()  # the activity, then the annotations
    look: str | None = None  # a key of LOOKS when an overlay is drawn
    status: str | None = None  # e.g. "✓ succeeded · 1 attempt"
    tooltip: str = ""


@dataclass(frozen=True)
class Edge:
    tail: str
    head: str
    label: str | None = None  # the required status when it is not the default


@dataclass(frozen=True)
class Diagram:
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    overlay: bool  # whether nodes carry states (and a legend is due)


def build(ir: dict[str, Any], overlay: Overlay | None = None) -> Diagram:
    """The diagram of `ir`, with the states of `overlay` when one is given."""
    ids = {name: f"s{index}" for index, name in enumerate(ir["order"])}
    steps = tuple(_step_node(ir, name, ids[name], overlay) for name in ir["order"])
    workflow = ir["workflow"]
    return Diagram(
        title=f"{workflow['name']} {workflow['version']}",
        nodes=(_start_node(), *steps, _end_node(overlay)),
        edges=tuple(_edges(ir, ids)),
        overlay=overlay is not None,
    )


def step_annotations(ir: dict[str, Any], name: str) -> list[str]:
    """The lines a step's node shows under its name: the one place to add them.

    The activity, and the condition (`when`) of plan language 2; retries and
    fan-out (`for_each` and its cap) belong here once the IR carries them.
    """
    step = ir["steps"][name]
    activity = ir["activities"][step["activity"]]
    lines = [f"{activity['name']} {activity['version']}"]
    when = step.get("when")
    if when is not None:
        text = " ".join(when["text"].split())  # one line, whatever the YAML
        text = text if len(text) <= 60 else text[:57] + "..."
        lines.append(f"when {text}")
    return lines


def _step_node(
    ir: dict[str, Any], name: str, node_id: str, overlay: Overlay | None
) -> Node:
    lines = tuple(step_annotations(ir, name))
    task_list = ir["activities"][ir["steps"][name]["activity"]]["task_list"]
    tooltip = f"step {name}: task list {task_list}"
    if overlay is None:
        return Node(node_id, "step", name, lines, tooltip=tooltip)
    look = look_of(overlay.status.get(name, StepStatus.PENDING))
    status = status_line(look, LOOKS[look].word, overlay.attempts.get(name, 0))
    reason = overlay.reasons.get(name)
    if reason:  # why it failed or was skipped, for the SVG's hover text
        tooltip += f"; {reason}"
    return Node(node_id, "step", name, lines, look, status, tooltip)


def _start_node() -> Node:
    return Node(START_ID, "start", "start", tooltip="the workflow starts")


def _end_node(overlay: Overlay | None) -> Node:
    tip = "the workflow closes"
    if overlay is None:
        return Node(END_ID, "end", "end", tooltip=tip)
    if overlay.closed_by is None:
        status = f"{LOOKS['pending'].marker} open"
        return Node(END_ID, "end", "end", look="pending", status=status, tooltip=tip)
    look, word = WORKFLOW_CLOSES[overlay.closed_by]
    status = status_line(look, word, 0)
    return Node(END_ID, "end", "end", look=look, status=status, tooltip=tip)


def look_of(status: StepStatus) -> str:
    """The key of LOOKS for a step status (an open task that started is running)."""
    return "running" if status is StepStatus.STARTED else status.value


def status_line(look: str, word: str, attempts: int) -> str:
    line = f"{LOOKS[look].marker} {word}"
    if attempts:
        line += f" · {attempts} attempt" + ("s" if attempts > 1 else "")
    return line


def _edges(ir: dict[str, Any], ids: dict[str, str]) -> list[Edge]:
    """Start to the steps needing nothing, each requirement, the last steps to end."""
    required: set[str] = set()
    edges: list[Edge] = []
    for name in ir["order"]:
        requires = ir["steps"][name]["requires"]
        if not requires:
            edges.append(Edge(START_ID, ids[name]))
        for requirement in requires:
            status = requirement["status"]
            label = None if status == DEFAULT_STATUS else status
            edges.append(Edge(ids[requirement["step"]], ids[name], label))
            required.add(requirement["step"])
    edges.extend(Edge(ids[n], END_ID) for n in ir["order"] if n not in required)
    if not ir["order"]:
        edges.append(Edge(START_ID, END_ID))
    return edges
