"""A 500-step generated plan: every format keeps every node and edge.

The timings are printed (pytest -s shows them), never asserted: machines vary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from cpe.compiler.diagram import render, to_dot, to_mermaid
from tests.diagram.helpers import (
    big_plan,
    compile_plan,
    dot_statements,
    needs_dot,
    parse_mermaid,
    svg_nodes,
)

STEPS = 500
T = TypeVar("T")


@pytest.fixture(scope="module")
def big_ir() -> dict[str, Any]:
    return compile_plan(big_plan(STEPS))


def timed(what: str, make: Callable[[], T]) -> T:
    began = time.perf_counter()
    made = make()
    print(f"\n{STEPS} steps, {what}: {time.perf_counter() - began:.3f} s")
    return made


def requirement_count(ir: dict[str, Any]) -> int:
    return sum(len(step["requires"]) for step in ir["steps"].values())


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_dot_text(big_ir: dict[str, Any], rankdir: str) -> None:
    nodes, edges = dot_statements(
        timed(f"DOT {rankdir}", lambda: to_dot(big_ir, rankdir=rankdir))
    )
    assert len(nodes) == STEPS + 2
    assert nodes[1:-1] == [f"s{i}" for i in range(STEPS)]
    step_edges = [e for e in edges if "wf_" not in e[0] + e[1]]
    assert len(step_edges) == requirement_count(big_ir)


def test_mermaid_text(big_ir: dict[str, Any]) -> None:
    parsed = parse_mermaid(timed("Mermaid", lambda: to_mermaid(big_ir)))
    assert len(parsed.nodes) == STEPS + 2
    step_edges = [e for e in parsed.edges if "wf_" not in e[0] + e[1]]
    assert len(step_edges) == requirement_count(big_ir)
    if len(parsed.edges) > 500:  # Mermaid's default maxEdges; the text says so
        assert any("maxEdges" in line for line in parsed.other)


@needs_dot
def test_svg(big_ir: dict[str, Any]) -> None:
    nodes = svg_nodes(timed("SVG", lambda: render(big_ir, "svg")))
    assert len(nodes) == STEPS + 2
    assert nodes["s499"][0] == "step499"
