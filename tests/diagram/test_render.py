"""SVG and PNG made with Graphviz's dot, and the advice given when it is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpe.compiler.diagram import RenderError, overlay_from_history, render
from cpe.compiler.diagram_style import LOOKS
from tests.diagram.helpers import (
    TRICKY_NAMES,
    compile_plan,
    needs_dot,
    plan_with_steps,
    png_size,
    svg_fills,
    svg_nodes,
    transcode_in_flight,
    transcode_ir,
)


@needs_dot
def test_svg_has_a_node_group_per_step_with_its_labels() -> None:
    nodes = svg_nodes(render(transcode_ir(), "svg"))
    assert list(nodes) == ["wf_start", "s0", "s1", "s2", "s3", "wf_end"]
    assert nodes["s2"] == ["MakeThumbnailStep", "MakeThumbnail v1"]
    assert nodes["wf_start"] == ["start"]


@needs_dot
def test_svg_overlay_fills_and_legend() -> None:
    ir = transcode_ir()
    svg = render(ir, "svg", overlay_from_history(ir, transcode_in_flight().events))
    nodes = svg_nodes(svg)
    assert nodes["s1"] == [
        "TranscodeAssetStep",
        "TranscodeAsset v2",
        "▶ running · 1 attempt",
    ]
    assert nodes["wf_end"] == ["end", "○ open"]
    fills = svg_fills(svg)
    assert LOOKS["succeeded"].fill.lower() in fills["s0"]
    assert LOOKS["running"].fill.lower() in fills["s1"]
    legend = nodes["legend"]
    assert legend == [f"{look.marker} {look.word}" for look in LOOKS.values()]
    assert {look.fill.lower() for look in LOOKS.values()} <= fills["legend"]


@needs_dot
def test_svg_shows_tricky_names_exactly() -> None:
    ir = compile_plan(plan_with_steps(TRICKY_NAMES, {}))
    nodes = svg_nodes(render(ir, "svg"))
    assert [nodes[f"s{i}"][0] for i in range(len(TRICKY_NAMES))] == TRICKY_NAMES


@needs_dot
@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_png_is_a_plausible_picture(rankdir: str) -> None:
    data = render(transcode_ir(), "png", rankdir=rankdir)
    width, height = png_size(data)
    # Four boxes side by side (LR) or stacked (TB), at 144 dpi.
    if rankdir == "LR":
        assert width > 2 * height and 800 < width < 4000
    else:
        assert height > width and 600 < height < 4000
    assert len(data) > 10_000


@needs_dot
def test_same_ir_same_svg() -> None:
    assert render(transcode_ir(), "svg") == render(transcode_ir(), "svg")


def test_text_formats_need_no_graphviz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert render(transcode_ir(), "dot").startswith(b"digraph workflow {")
    assert b"flowchart LR" in render(transcode_ir(), "mermaid")


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_pictures_without_dot_say_how_to_install_it(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no dot on it
    with pytest.raises(RenderError) as raised:
        render(transcode_ir(), fmt)
    message = str(raised.value)
    assert "apt-get install graphviz" in message
    assert "brew install graphviz" in message
    assert fmt in message


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown diagram format"):
        render(transcode_ir(), "jpeg")
