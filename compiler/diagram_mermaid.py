"""The diagram model as Mermaid flowchart text, for pages that render Mermaid.

Every label is a quoted string in which the characters Mermaid or HTML would
read (quotes, angle brackets, ampersands, '#', '%') are written as Mermaid's
numeric entity codes (`#34;`), so a step may be named anything.
"""

from __future__ import annotations

import json

from cpe.compiler.diagram_model import Diagram, Edge, Node
from cpe.compiler.diagram_style import LOOKS, TERMINAL_FILL, Look

_SPECIAL = set('"#%&<>`')
# Mermaid's default limit (maxEdges); a bigger graph needs its site's config.
MERMAID_MAX_EDGES = 500
TERMINAL_CLASS = "cpe_terminal"


def to_mermaid(diagram: Diagram, rankdir: str = "LR") -> str:
    lines = [
        "---",
        f"title: {json.dumps(diagram.title, ensure_ascii=False)}",
        "---",
        f"flowchart {rankdir}",
    ]
    if len(diagram.edges) > MERMAID_MAX_EDGES:
        lines.append(
            f"%% {len(diagram.edges)} edges: raise Mermaid's maxEdges "
            f"(default {MERMAID_MAX_EDGES}) to render this diagram"
        )
    lines += [f"    {_node(node)}" for node in diagram.nodes]
    lines += [f"    {_edge(edge)}" for edge in diagram.edges]
    lines += _classes(diagram)
    if diagram.overlay:
        lines += _legend()
    return "\n".join(lines) + "\n"


def mermaid_text(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return "".join(
        f"#{ord(c)};" if c in _SPECIAL or ord(c) < 32 or c == "\x7f" else c
        for c in text
    )


def class_name(look: str) -> str:
    # A prefix keeps clear of Mermaid's reserved words ("end", "default").
    return f"cpe_{look}"


def _node(node: Node) -> str:
    parts = [node.title, *node.lines]
    if node.status is not None:
        parts.append(node.status)
    label = "<br/>".join(mermaid_text(part) for part in parts)
    if node.kind == "step":
        return f'{node.id}["{label}"]'
    return f'{node.id}(["{label}"])'


def _edge(edge: Edge) -> str:
    if edge.label is None:
        return f"{edge.tail} --> {edge.head}"
    return f'{edge.tail} -.->|"{mermaid_text(edge.label)}"| {edge.head}'


def _classes(diagram: Diagram) -> list[str]:
    """classDef lines for the looks in use, then which nodes have each."""
    by_class: dict[str, list[str]] = {}
    for node in diagram.nodes:
        if node.look is not None:
            by_class.setdefault(class_name(node.look), []).append(node.id)
        elif node.kind != "step":
            by_class.setdefault(TERMINAL_CLASS, []).append(node.id)
    lines = [f"    classDef {TERMINAL_CLASS} {_terminal_style()}"]
    if diagram.overlay:
        lines += [
            f"    classDef {class_name(k)} {_look_style(v)}" for k, v in LOOKS.items()
        ]
    lines += [f"    class {','.join(ids)} {name}" for name, ids in by_class.items()]
    return lines


def _terminal_style() -> str:
    return f"fill:{TERMINAL_FILL},stroke:{TERMINAL_FILL},color:#FFFFFF"


def _look_style(look: Look) -> str:
    style = f"fill:{look.fill},stroke:{look.border},color:{look.text}"
    style += ",stroke-width:3px" if look.bold else ",stroke-width:2px"
    if look.dashed:
        style += ",stroke-dasharray:5 3"
    return style


def _legend() -> list[str]:
    lines = ['    subgraph legend ["Legend"]', "        direction TB"]
    for key, look in LOOKS.items():
        text = mermaid_text(f"{look.marker} {look.word}")
        lines.append(f'        legend_{key}["{text}"]')
    lines.append("    end")
    lines += [f"    class legend_{key} {class_name(key)}" for key in LOOKS]
    return lines
