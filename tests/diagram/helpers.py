"""Parsers of each diagram format, and the plans and histories the tests draw.

The tests read diagrams back (DOT through Graphviz's own JSON output, SVG as
XML, Mermaid line by line) so they check what a reader would see, not that a
file appeared.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz
import pytest

from cpe.compiler import compile_file, compile_text
from tests.history_builder import HistoryBuilder

ROOT = Path(__file__).parents[2]
TRANSCODE = ROOT / "plans" / "transcode" / "plan.yml"
FIXTURE_PLANS = ROOT / "tests" / "fixtures" / "plans"

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot program is not installed"
)


# Step names that break naive quoting in DOT, HTML-like labels or Mermaid.
TRICKY_NAMES = [
    'a "quoted" step',
    "dash-and space",
    "ünïcødé ✓ 名前",
    "<b>&amp; #quot; #35;",
    "back\\slash \\n \\",
    "end",
    '"]; s0 --> x[',
    "--> -.-> %% default",
]


def transcode_ir() -> dict[str, Any]:
    return compile_file(TRANSCODE)


def fixture_ir(name: str) -> dict[str, Any]:
    return compile_file(FIXTURE_PLANS / name)


# -- plans and histories ------------------------------------------------------


def plan_with_steps(names: list[str], requires: dict[str, list[Any]]) -> str:
    """A plan text whose steps have these names (any characters YAML can quote)."""
    lines = ["name: Tricky", "version: '1'", "activities:"]
    lines.append("  - {name: A, version: '1'}")
    lines.append("steps:")
    for name in names:
        needs = json.dumps(requires.get(name, []), ensure_ascii=False)
        lines.append(
            f"  - {{name: {json.dumps(name, ensure_ascii=False)}, activity: A, "
            f"requires: {needs}}}"
        )
    return "\n".join(lines) + "\n"


def compile_plan(text: str) -> dict[str, Any]:
    return compile_text(text, "plan.yml")


def big_plan(steps: int, seed: int = 7) -> str:
    """A generated plan: each step needs one to three of the twenty before it."""
    chooser = random.Random(seed)
    lines = ["name: Big", "version: '1'", "activities:", "  - {name: A, version: '1'}"]
    lines.append("steps:")
    for index in range(steps):
        window = range(max(0, index - 20), index)
        needs = (
            sorted({chooser.choice(window) for _ in range(chooser.randint(1, 3))})
            if index
            else []
        )
        names = ", ".join(f"step{n}" for n in needs)
        lines.append(f"  - {{name: step{index}, activity: A, requires: [{names}]}}")
    return "\n".join(lines) + "\n"


def transcode_in_flight() -> HistoryBuilder:
    """Validate and thumbnail succeeded, transcode runs, the manifest waits."""
    history = HistoryBuilder(("Transcode", "2.0")).started({})
    history.scheduled("ValidateAssetStep", ("ValidateAsset", "v2"))
    history.completed("ValidateAssetStep", {"format": {"duration": 12.5}})
    history.scheduled("TranscodeAssetStep", ("TranscodeAsset", "v2"))
    history.scheduled("MakeThumbnailStep", ("MakeThumbnail", "v1"))
    history.activity_started("TranscodeAssetStep")
    history.completed("MakeThumbnailStep", {"file": "poster.jpg"})
    return history


def history_json(history: HistoryBuilder) -> str:
    return json.dumps({"events": history.events}, default=lambda t: t.isoformat())


# -- DOT, read back through Graphviz ------------------------------------------


@dataclass
class Layout:
    """Nodes (by id) and visible edges of a DOT graph, as Graphviz read it."""

    nodes: dict[str, dict[str, Any]]
    edges: list[tuple[str, str, dict[str, Any]]]
    clusters: list[str] = field(default_factory=list)


def dot_layout(dot_source: str) -> Layout:
    data = json.loads(graphviz.Source(dot_source).pipe(format="json"))
    objects = data.get("objects", [])
    names = {o["_gvid"]: o["name"] for o in objects}
    nodes = {o["name"]: o for o in objects if "nodes" not in o and "edges" not in o}
    clusters = [o["name"] for o in objects if o["name"].startswith("cluster")]
    for cluster in clusters:
        nodes.pop(cluster, None)
    edges = [
        (names[e["tail"]], names[e["head"]], e)
        for e in data.get("edges", [])
        if e.get("style") != "invis"
    ]
    return Layout(nodes, edges, clusters)


NODE_LINE = re.compile(r"^\t(\w+) \[(.*)\]$", re.MULTILINE)
EDGE_LINE = re.compile(r"^\t(\w+) -> (\w+)(?: \[(.*)\])?$", re.MULTILINE)


def dot_statements(dot_source: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Node ids and (tail, head, attributes) of DOT text, read without Graphviz."""
    nodes = [m.group(1) for m in NODE_LINE.finditer(dot_source)]
    edges = [(m[1], m[2], m[3] or "") for m in EDGE_LINE.finditer(dot_source)]
    return [n for n in nodes if n not in ("graph", "node", "edge")], edges


# -- SVG ----------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def svg_nodes(svg: bytes) -> dict[str, list[str]]:
    """The text lines of each `<g class="node">`, by its title (the node id)."""
    root = ET.fromstring(svg)
    found: dict[str, list[str]] = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "node":
            title = group.find(f"{SVG}title")
            assert title is not None and title.text
            found[title.text] = [t.text or "" for t in group.iter(f"{SVG}text")]
    return found


def svg_fills(svg: bytes) -> dict[str, set[str]]:
    """The fill colours each node's shapes use, by node id."""
    root = ET.fromstring(svg)
    fills: dict[str, set[str]] = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "node":
            title = group.find(f"{SVG}title")
            assert title is not None and title.text
            fills[title.text] = {
                (shape.get("fill") or "").lower()
                for shape in group.iter()
                if shape.tag in (f"{SVG}path", f"{SVG}polygon", f"{SVG}ellipse")
            }
    return fills


# -- Mermaid ------------------------------------------------------------------

MERMAID_NODE = re.compile(r'^    (\w+)(?:\["(.*)"\]|\(\["(.*)"\]\))$')
MERMAID_EDGE = re.compile(r'^    (\w+) (-->|-\.->)(?:\|"(.*)"\|)? (\w+)$')
MERMAID_CLASS = re.compile(r"^    class ([\w,]+) (\w+)$")
MERMAID_CLASSDEF = re.compile(r"^    classDef (\w+) (\S.*)$")


@dataclass
class Mermaid:
    header: list[str]
    nodes: dict[str, str]  # id -> label as written
    edges: list[tuple[str, str, str | None, str]]  # tail, head, label, arrow
    classes: dict[str, str]  # node id -> class
    class_defs: dict[str, str]
    legend: list[str]  # node ids inside the legend subgraph
    other: list[str]


def parse_mermaid(text: str) -> Mermaid:
    lines = text.splitlines()
    end_of_header = lines.index("---", 1) + 1
    parsed = Mermaid(lines[: end_of_header + 1], {}, [], {}, {}, [], [])
    in_legend = False
    for line in lines[end_of_header + 1 :]:
        stripped = line.strip()
        if stripped.startswith("subgraph legend"):
            in_legend = True
        elif stripped == "end":
            in_legend = False
        elif in_legend and stripped == "direction TB":
            continue
        elif in_legend:
            match = re.match(r'^(\w+)\["(.*)"\]$', stripped)
            assert match, line
            parsed.legend.append(match[1])
            parsed.nodes[match[1]] = match[2]
        elif match := MERMAID_NODE.match(line):
            parsed.nodes[match[1]] = match[2] if match[2] is not None else match[3]
        elif match := MERMAID_EDGE.match(line):
            parsed.edges.append((match[1], match[4], match[3], match[2]))
        elif match := MERMAID_CLASS.match(line):
            for node in match[1].split(","):
                parsed.classes[node] = match[2]
        elif match := MERMAID_CLASSDEF.match(line):
            parsed.class_defs[match[1]] = match[2]
        else:
            parsed.other.append(line)
    return parsed


def mermaid_decode(label: str) -> list[str]:
    """A Mermaid label's lines with its #NN; entity codes decoded."""
    return [
        re.sub(r"#(\d+);", lambda m: chr(int(m[1])), part)
        for part in label.split("<br/>")
    ]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
