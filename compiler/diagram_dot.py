"""The diagram model as Graphviz DOT, built with the `graphviz` package.

Labels are HTML-like labels (bold step name, smaller activity line) whose text
is XML-escaped here; nothing a plan names reaches the DOT text unescaped.
"""

from __future__ import annotations

import html
import unicodedata

import graphviz

from cpe.compiler.diagram_model import END_ID, START_ID, Diagram, Node
from cpe.compiler.diagram_style import (
    EDGE_COLOUR,
    FONT,
    LOOKS,
    PLAIN_BORDER,
    PLAIN_FILL,
    TERMINAL_FILL,
    Look,
)

LEGEND_ID = "legend"


def to_digraph(
    diagram: Diagram, rankdir: str = "LR", dpi: int | None = None
) -> graphviz.Digraph:
    graph = graphviz.Digraph(
        "workflow",
        graph_attr=_graph_attributes(diagram, rankdir, dpi),
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fillcolor": PLAIN_FILL,
            "color": PLAIN_BORDER,
            "fontname": FONT,
            "fontsize": "12",
            "margin": "0.2,0.08",
            "penwidth": "1.2",
        },
        edge_attr={
            "color": EDGE_COLOUR,
            "fontcolor": EDGE_COLOUR,
            "fontname": FONT,
            "fontsize": "10",
            "arrowsize": "0.7",
        },
    )
    for node in diagram.nodes:
        graph.node(node.id, **_node_attributes(node))
    for edge in diagram.edges:
        if edge.label is None:
            graph.edge(edge.tail, edge.head)
        else:
            # A requirement on failure or skipping is a side path: dashed.
            label = graphviz.escape(edge.label)
            graph.edge(edge.tail, edge.head, label=label, style="dashed")
    if diagram.overlay:
        _add_legend(graph, rankdir)
    return graph


def to_dot(diagram: Diagram, rankdir: str = "LR") -> str:
    source: str = to_digraph(diagram, rankdir).source
    return source


def html_text(text: str) -> str:
    """Text for an HTML-like label: XML-escaped, control characters made visible.

    XML forbids most control characters even as references, so they become
    U+FFFD; plans cannot name them, hand-made IR might.
    """
    shown = "".join(
        "\N{REPLACEMENT CHARACTER}" if unicodedata.category(c) == "Cc" else c
        for c in text
    )
    return html.escape(shown, quote=True)


def _graph_attributes(
    diagram: Diagram, rankdir: str, dpi: int | None
) -> dict[str, str]:
    attributes = {
        "rankdir": rankdir,
        "label": f"<<B>{html_text(diagram.title)}</B>>",
        "labelloc": "t",
        "fontname": FONT,
        "fontsize": "16",
        "nodesep": "0.35",
        "ranksep": "0.55",
        "pad": "0.3",
        "bgcolor": "white",
    }
    if dpi is not None:
        attributes["dpi"] = str(dpi)
    return attributes


def _node_attributes(node: Node) -> dict[str, str]:
    attributes = {"label": _label(node), "tooltip": graphviz.escape(node.tooltip)}
    if node.kind != "step":
        attributes.update(_terminal_attributes(node))
    if node.look is not None:
        attributes.update(_look_attributes(LOOKS[node.look], node.kind))
    return attributes


def _label(node: Node) -> str:
    parts = [f"<B>{html_text(node.title)}</B>"]
    parts += [f'<FONT POINT-SIZE="10">{html_text(line)}</FONT>' for line in node.lines]
    if node.status is not None:
        parts.append(f'<FONT POINT-SIZE="10">{html_text(node.status)}</FONT>')
    return "<" + "<BR/>".join(parts) + ">"


def _terminal_attributes(node: Node) -> dict[str, str]:
    shape = "circle" if node.id == START_ID else "doublecircle"
    if node.lines:
        # The end of a workflow with an output template shows it; a circle
        # round a line of text would be huge, so a double-bordered box.
        shape = "doubleoctagon"
    return {
        "shape": shape,
        "style": "filled",
        "fillcolor": TERMINAL_FILL,
        "color": TERMINAL_FILL,
        "fontcolor": "white",
        "fontsize": "10",
        "margin": "0.04",
    }


def _look_attributes(look: Look, kind: str) -> dict[str, str]:
    style = ["filled"] if kind != "step" else ["rounded", "filled"]
    if look.dashed:
        style.append("dashed")
    return {
        "style": ",".join(style),
        "fillcolor": look.fill,
        "color": look.border,
        "fontcolor": look.text,
        "penwidth": "2.4" if look.bold else "1.6",
    }


def _add_legend(graph: graphviz.Digraph, rankdir: str) -> None:
    """One node holding a table of every state, in a cluster titled Legend."""
    cells = [_legend_cell(look) for look in LOOKS.values()]
    # The legend follows the flow: a column beside a left-to-right diagram,
    # a row under a top-to-bottom one.
    rows = (
        "".join(f"<TR>{c}</TR>" for c in cells)
        if rankdir == "LR"
        else ("<TR>" + "".join(cells) + "</TR>")
    )
    table = (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="3" CELLPADDING="4">'
        f"{rows}</TABLE>>"
    )
    with graph.subgraph(name="cluster_legend") as legend:
        legend.attr(
            label="<<B>Legend</B>>", fontsize="12", color="#BBBBBB", style="rounded"
        )
        legend.node(LEGEND_ID, label=table, shape="plain", style="", tooltip="legend")
    # Invisible, so the legend sits after the end instead of beside the start.
    graph.edge(END_ID, LEGEND_ID, style="invis")


def _legend_cell(look: Look) -> str:
    return (
        f'<TD BGCOLOR="{look.fill}" COLOR="{look.border}" ALIGN="LEFT">'
        f'<FONT COLOR="{look.text}">{html_text(look.marker + " " + look.word)}</FONT></TD>'
    )
