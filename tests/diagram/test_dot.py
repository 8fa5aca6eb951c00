"""DOT text: its statements, and the graph Graphviz reads from it."""

from __future__ import annotations

import re

from cpe.compiler.diagram import overlay_from_history, to_dot
from cpe.compiler.diagram_style import LOOKS
from tests.diagram.helpers import (
    TRICKY_NAMES,
    compile_plan,
    dot_layout,
    dot_statements,
    fixture_ir,
    needs_dot,
    plan_with_steps,
    transcode_in_flight,
    transcode_ir,
)


def test_statements_without_graphviz() -> None:
    nodes, edges = dot_statements(to_dot(transcode_ir()))
    assert nodes == ["wf_start", "s0", "s1", "s2", "s3", "wf_end"]
    assert [(t, h) for t, h, _ in edges] == [
        ("wf_start", "s0"),
        ("s0", "s1"),
        ("s0", "s2"),
        ("s0", "s3"),
        ("s1", "s3"),
        ("s2", "s3"),
        ("s3", "wf_end"),
    ]
    assert "rankdir=LR" in to_dot(transcode_ir())
    assert "rankdir=TB" in to_dot(transcode_ir(), rankdir="TB")


def test_same_ir_same_bytes() -> None:
    ir = transcode_ir()
    overlay = overlay_from_history(ir, transcode_in_flight().events)
    assert to_dot(ir) == to_dot(transcode_ir())
    assert to_dot(ir, overlay) == to_dot(ir, overlay)


def test_no_legend_without_an_overlay() -> None:
    assert "cluster_legend" not in to_dot(transcode_ir())


@needs_dot
def test_graphviz_reads_nodes_labels_and_edges() -> None:
    layout = dot_layout(to_dot(transcode_ir()))
    assert list(layout.nodes) == ["wf_start", "s0", "s1", "s2", "s3", "wf_end"]
    label = layout.nodes["s1"]["label"]
    assert "<B>TranscodeAssetStep</B>" in label
    assert "TranscodeAsset v2" in label
    assert layout.nodes["wf_start"]["shape"] == "circle"
    assert layout.nodes["wf_end"]["shape"] == "doublecircle"
    assert len(layout.edges) == 7
    assert layout.clusters == []


@needs_dot
def test_non_default_requirement_edges_are_labelled_and_dashed() -> None:
    ir = fixture_ir("diamond.yml")
    ids = {name: f"s{i}" for i, name in enumerate(ir["order"])}
    layout = dot_layout(to_dot(ir))
    by_pair = {(t, h): attributes for t, h, attributes in layout.edges}
    failure = by_pair[(ids["left"], ids["on_failure"])]
    assert failure["label"] == "failed"
    assert failure["style"] == "dashed"
    plain = by_pair[(ids["probe"], ids["left"])]
    # Graphviz gives every edge the attribute once one has it; empty is unset.
    assert plain.get("label", "") == ""
    assert plain.get("style", "") == ""


@needs_dot
def test_overlay_colours_each_node_and_adds_a_legend() -> None:
    ir = transcode_ir()
    overlay = overlay_from_history(ir, transcode_in_flight().events)
    layout = dot_layout(to_dot(ir, overlay))
    fills = {node: layout.nodes[node]["fillcolor"] for node in ("s0", "s1", "s2", "s3")}
    assert fills == {
        "s0": LOOKS["succeeded"].fill,
        "s1": LOOKS["running"].fill,
        "s2": LOOKS["succeeded"].fill,
        "s3": LOOKS["pending"].fill,
    }
    assert "dashed" in layout.nodes["s3"]["style"]
    assert "▶ running · 1 attempt" in layout.nodes["s1"]["label"]
    assert layout.clusters == ["cluster_legend"]
    legend = layout.nodes["legend"]["label"]
    for look in LOOKS.values():
        assert f'BGCOLOR="{look.fill}"' in legend
        assert f"{look.marker} {look.word}" in legend
    # The legend hangs off the end by an invisible edge only.
    assert all("legend" not in (t, h) for t, h, _ in layout.edges)


@needs_dot
def test_tricky_names_survive_into_labels() -> None:
    ir = compile_plan(plan_with_steps(TRICKY_NAMES, {}))
    layout = dot_layout(to_dot(ir))
    for index, name in enumerate(TRICKY_NAMES):
        label = layout.nodes[f"s{index}"]["label"]
        bold = re.match(r"<B>(.*?)</B>", label)
        assert bold is not None
        unescaped = (
            bold[1]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", '"')
            .replace("&amp;", "&")
        )
        assert unescaped == name
