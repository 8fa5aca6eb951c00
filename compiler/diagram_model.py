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
        nodes=(_start_node(), *steps, _end_node(overlay, _output_lines(workflow))),
        edges=tuple(_edges(ir, ids)),
        overlay=overlay is not None,
    )


def step_annotations(ir: dict[str, Any], name: str) -> list[str]:
    """The lines a step's node shows under its name: the one place to add them.

    What the step does (its activity, or the wait or signal of a step of plan
    language 2), then its fan-out, its retries and its condition.
    """
    step = ir["steps"][name]
    lines = [_what_it_does(ir, step)]
    for_each = step.get("for_each")
    if for_each is not None:
        line = f"for each {for_each['as']} in {_one_line(for_each['text'])}"
        if for_each["max_concurrency"] is not None:
            line += f" · at most {for_each['max_concurrency']} at once"
        if for_each["tolerated_failures"]:
            line += f" · tolerates {for_each['tolerated_failures']} failed"
        lines.append(line)
    retry = step.get("retry")
    if retry is not None:
        lines.append(f"retry: up to {retry['max_attempts']} attempts")
    when = step.get("when")
    if when is not None:
        lines.append(f"when {_one_line(when['text'])}")
    return lines


def _one_line(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())  # one line, whatever the YAML
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _what_it_does(ir: dict[str, Any], step: dict[str, Any]) -> str:
    if "wait" in step:
        return f"wait {step['wait']['seconds']} s"
    signal = step.get("signal")
    if signal is not None:
        line = f"signal {signal['name']}"
        if signal["timeout"] is not None:
            line += f" · timeout {signal['timeout']} s"
        return line
    activity = ir["activities"][step["activity"]]
    return f"{activity['name']} {activity['version']}"


def _tooltip(ir: dict[str, Any], name: str) -> str:
    step = ir["steps"][name]
    if step["activity"] is None:
        return f"step {name}: " + _what_it_does(ir, step)
    task_list = ir["activities"][step["activity"]]["task_list"]
    return f"step {name}: task list {task_list}"


def _step_node(
    ir: dict[str, Any], name: str, node_id: str, overlay: Overlay | None
) -> Node:
    lines = tuple(step_annotations(ir, name))
    tooltip = _tooltip(ir, name)
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


def _output_lines(workflow: dict[str, Any]) -> tuple[str, ...]:
    """The workflow's output (plan language 2), shown on the end node."""
    output = workflow.get("output")
    if output is None:
        return ()
    return (f"output {_one_line(output['template'], 40)}",)


def _end_node(overlay: Overlay | None, lines: tuple[str, ...] = ()) -> Node:
    tip = "the workflow closes"
    if lines:
        tip += "; its result is the output template"
    if overlay is None:
        return Node(END_ID, "end", "end", lines, tooltip=tip)
    if overlay.closed_by is None:
        status = f"{LOOKS['pending'].marker} open"
        return Node(END_ID, "end", "end", lines, "pending", status, tip)
    look, word = WORKFLOW_CLOSES[overlay.closed_by]
    status = status_line(look, word, 0)
    return Node(END_ID, "end", "end", lines, look, status, tip)


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
