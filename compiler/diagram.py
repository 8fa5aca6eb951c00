"""Workflow diagrams: an IR (and optionally an execution's state) as a picture.

    to_dot(ir)                     Graphviz DOT text
    to_mermaid(ir, overlay)        Mermaid flowchart text
    render(ir, "png", overlay)     the bytes of a dot, mermaid, svg or png file

All are pure functions of their arguments: the same IR gives the same bytes.
Steps appear in `ir["order"]`, the compiler's deterministic order.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from cpe.compiler.diagram_dot import to_digraph
from cpe.compiler.diagram_dot import to_dot as _dot_text
from cpe.compiler.diagram_mermaid import to_mermaid as _mermaid_text
from cpe.compiler.diagram_model import build
from cpe.compiler.diagram_overlay import Overlay, overlay_from_history
from cpe.compiler.diagram_render import RenderError, dot_available, png_dpi
from cpe.compiler.diagram_render import render as _render_picture

Format = Literal["dot", "mermaid", "svg", "png"]
FORMATS: tuple[str, ...] = get_args(Format)
RANKDIRS = ("LR", "TB")

__all__ = [
    "FORMATS",
    "RANKDIRS",
    "Format",
    "Overlay",
    "RenderError",
    "dot_available",
    "overlay_from_history",
    "render",
    "to_dot",
    "to_mermaid",
]


def to_dot(
    ir: dict[str, Any], overlay: Overlay | None = None, rankdir: str = "LR"
) -> str:
    return _dot_text(build(ir, overlay), _rankdir(rankdir))


def to_mermaid(
    ir: dict[str, Any], overlay: Overlay | None = None, rankdir: str = "LR"
) -> str:
    return _mermaid_text(build(ir, overlay), _rankdir(rankdir))


def render(
    ir: dict[str, Any],
    fmt: str,
    overlay: Overlay | None = None,
    rankdir: str = "LR",
) -> bytes:
    """The file of `ir`'s diagram in `fmt`; raises RenderError without `dot`."""
    if fmt == "dot":
        return to_dot(ir, overlay, rankdir).encode("utf-8")
    if fmt == "mermaid":
        return to_mermaid(ir, overlay, rankdir).encode("utf-8")
    if fmt not in FORMATS:
        raise ValueError(f"unknown diagram format {fmt!r}; one of {', '.join(FORMATS)}")
    diagram = build(ir, overlay)
    dpi = png_dpi(len(diagram.nodes)) if fmt == "png" else None
    return _render_picture(to_digraph(diagram, _rankdir(rankdir), dpi), fmt)


def _rankdir(rankdir: str) -> str:
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be LR or TB, not {rankdir!r}")
    return rankdir
