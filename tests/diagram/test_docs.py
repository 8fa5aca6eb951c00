"""The committed diagrams of the example plan are what cpec graph makes now."""

from __future__ import annotations

from cpe.compiler.diagram import to_mermaid
from tests.diagram.helpers import ROOT, png_size, transcode_ir

DOCS = ROOT / "docs"
REGENERATE = "regenerate: cpec graph plans/transcode/plan.yml -o docs/transcode.mmd"


def test_mermaid_text_is_current() -> None:
    committed = (DOCS / "transcode.mmd").read_text(encoding="utf-8")
    assert committed == to_mermaid(transcode_ir()), REGENERATE


def test_committed_pictures_are_pngs() -> None:
    for name in ("transcode.png", "transcode-overlay.png"):
        width, height = png_size((DOCS / name).read_bytes())
        assert width > 2 * height > 400, name
