"""Mermaid text: node lines, edges, labels, and classes under an overlay."""

from __future__ import annotations

import re

from cpe.compiler.diagram import overlay_from_history, to_mermaid
from cpe.compiler.diagram_style import LOOKS
from tests.diagram.helpers import (
    TRICKY_NAMES,
    compile_plan,
    fixture_ir,
    mermaid_decode,
    parse_mermaid,
    plan_with_steps,
    transcode_in_flight,
    transcode_ir,
)


def test_header_nodes_and_edges() -> None:
    parsed = parse_mermaid(to_mermaid(transcode_ir()))
    assert parsed.header == ["---", 'title: "Transcode 2.0"', "---", "flowchart LR"]
    assert list(parsed.nodes) == ["wf_start", "s0", "s1", "s2", "s3", "wf_end"]
    assert mermaid_decode(parsed.nodes["s0"]) == [
        "ValidateAssetStep",
        "ValidateAsset v2",
    ]
    assert [(t, h) for t, h, _, _ in parsed.edges] == [
        ("wf_start", "s0"),
        ("s0", "s1"),
        ("s0", "s2"),
        ("s0", "s3"),
        ("s1", "s3"),
        ("s2", "s3"),
        ("s3", "wf_end"),
    ]
    assert parsed.classes == {"wf_start": "cpe_terminal", "wf_end": "cpe_terminal"}
    assert parsed.legend == []
    assert parsed.other == []  # every line was understood


def test_rankdir() -> None:
    assert "flowchart TB" in to_mermaid(transcode_ir(), rankdir="TB").splitlines()


def test_labelled_edges_are_dotted() -> None:
    ir = fixture_ir("diamond.yml")
    ids = {name: f"s{i}" for i, name in enumerate(ir["order"])}
    parsed = parse_mermaid(to_mermaid(ir))
    edges = {(t, h): (label, arrow) for t, h, label, arrow in parsed.edges}
    assert edges[(ids["left"], ids["on_failure"])] == ("failed", "-.->")
    assert edges[(ids["probe"], ids["right"])] == (None, "-->")


def test_overlay_classes_and_legend() -> None:
    ir = transcode_ir()
    overlay = overlay_from_history(ir, transcode_in_flight().events)
    parsed = parse_mermaid(to_mermaid(ir, overlay))
    assert {node: parsed.classes[node] for node in ("s0", "s1", "s2", "s3")} == {
        "s0": "cpe_succeeded",
        "s1": "cpe_running",
        "s2": "cpe_succeeded",
        "s3": "cpe_pending",
    }
    assert parsed.classes["wf_end"] == "cpe_pending"
    for key, look in LOOKS.items():
        style = parsed.class_defs[f"cpe_{key}"]
        assert f"fill:{look.fill}" in style
        assert f"stroke:{look.border}" in style
    assert "stroke-dasharray" in parsed.class_defs["cpe_pending"]
    assert mermaid_decode(parsed.nodes["s1"])[-1] == "▶ running · 1 attempt"
    assert parsed.legend == [f"legend_{key}" for key in LOOKS]
    assert all(parsed.classes[f"legend_{key}"] == f"cpe_{key}" for key in LOOKS)
    assert parsed.other == []


def test_tricky_names_are_escaped_and_decode_back() -> None:
    ir = compile_plan(plan_with_steps(TRICKY_NAMES, {}))
    text = to_mermaid(ir)
    parsed = parse_mermaid(text)
    for index, name in enumerate(TRICKY_NAMES):
        label = parsed.nodes[f"s{index}"]
        written = re.sub(r"#\d+;", "", label.split("<br/>")[0])
        assert not set(written) & set('"<>#&%'), written
        assert mermaid_decode(label)[0] == name
    assert len(parsed.nodes) == len(TRICKY_NAMES) + 2


def test_same_ir_same_text() -> None:
    assert to_mermaid(transcode_ir()) == to_mermaid(transcode_ir())
