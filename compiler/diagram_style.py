"""How each execution state looks on a diagram: fill, border, text and marker.

The colours are the Okabe-Ito palette (and light tints of it), chosen to stay
distinguishable with the common colour-vision deficiencies; every state also
carries a text marker and a word, so colour is never the only cue (grey-scale
prints, screen readers reading the SVG).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Look:
    word: str  # what the legend and the node say
    marker: str  # a glyph DejaVu Sans and common browser fonts have
    fill: str
    border: str
    text: str
    dashed: bool = False
    bold: bool = False


# The order is the legend's order: from not begun, through open, to closed.
LOOKS: dict[str, Look] = {
    "pending": Look("pending", "○", "#FFFFFF", "#8C8C8C", "#333333", dashed=True),
    "scheduled": Look("scheduled", "⋯", "#CDE7F7", "#56B4E9", "#000000"),
    "running": Look("running", "▶", "#F0E442", "#7A7100", "#000000", bold=True),
    "succeeded": Look("succeeded", "✓", "#9FD9C5", "#009E73", "#000000"),
    "failed": Look("failed", "✗", "#D55E00", "#7F3800", "#FFFFFF", bold=True),
    "skipped": Look("skipped", "↷", "#E6E6E6", "#A6A6A6", "#4D4D4D", dashed=True),
    "timed_out": Look("timed out", "◷", "#E69F00", "#8A5F00", "#000000", bold=True),
    "canceled": Look("canceled", "⊘", "#E7B8D3", "#CC79A7", "#000000"),
}

# How a closed workflow marks the end node: (look, the word shown).
WORKFLOW_CLOSES: dict[str, tuple[str, str]] = {
    "WorkflowExecutionCompleted": ("succeeded", "completed"),
    "WorkflowExecutionFailed": ("failed", "failed"),
    "WorkflowExecutionTimedOut": ("timed_out", "timed out"),
    "WorkflowExecutionCanceled": ("canceled", "canceled"),
    "WorkflowExecutionTerminated": ("failed", "terminated"),
    "WorkflowExecutionContinuedAsNew": ("succeeded", "continued as new"),
}

FONT = "Helvetica,Arial,sans-serif"
EDGE_COLOUR = "#555555"
PLAIN_FILL = "#F7F9FC"  # steps without an overlay
PLAIN_BORDER = "#4A6785"
TERMINAL_FILL = "#333333"  # the start and end nodes without an overlay
