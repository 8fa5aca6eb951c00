"""Rendering DOT to SVG or PNG with Graphviz's `dot` program.

DOT and Mermaid text need nothing installed; pictures need `dot`. Its absence
is a user's setup problem, reported as one sentence that says how to fix it.
"""

from __future__ import annotations

import shutil

import graphviz

INSTALL_HINT = (
    "rendering {fmt} needs Graphviz's 'dot' program, which is not on PATH: "
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; "
    "macOS: brew install graphviz), or ask for -f dot or -f mermaid"
)
PICTURE_FORMATS = ("svg", "png")
# Sharp on high-density screens for plans of a page or so; a big plan's PNG
# is already thousands of pixels wide at the base resolution.
PNG_DPI = 144
LARGE_PNG_DPI = 72
LARGE_NODE_COUNT = 60


def png_dpi(node_count: int) -> int:
    return PNG_DPI if node_count <= LARGE_NODE_COUNT else LARGE_PNG_DPI


class RenderError(Exception):
    """A picture could not be made; the message says why and what to do."""


def dot_available() -> bool:
    return shutil.which("dot") is not None


def render(graph: graphviz.Digraph, fmt: str) -> bytes:
    """`graph` as an SVG or PNG file's bytes; raises RenderError."""
    if fmt not in PICTURE_FORMATS:
        raise ValueError(f"not a picture format: {fmt!r}")
    if not dot_available():
        raise RenderError(INSTALL_HINT.format(fmt=fmt))
    try:
        data: bytes = graph.pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound:
        raise RenderError(INSTALL_HINT.format(fmt=fmt)) from None
    except graphviz.CalledProcessError as error:
        stderr = error.stderr or b""
        detail = (
            stderr.decode("utf-8", "replace").strip()
            if isinstance(stderr, bytes)
            else str(stderr)
        )
        raise RenderError(f"dot failed to render {fmt}: {detail or error}") from None
    return data
