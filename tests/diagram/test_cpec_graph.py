"""`cpec graph` as a user runs it, once the command is wired into cpec.

Until build_parser() registers it, these skip; test_cli_graph.py covers the
same behaviour in-process either way.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cpec_process import cpec
from tests.diagram.helpers import (
    TRANSCODE,
    history_json,
    needs_dot,
    parse_mermaid,
    png_size,
    transcode_in_flight,
)


@pytest.fixture(scope="module", autouse=True)
def wired() -> None:
    if cpec("graph", "--help").returncode != 0:
        pytest.skip("cpec graph is not wired into build_parser() yet")


def test_help_names_every_option() -> None:
    result = cpec("graph", "--help")
    for option in ("--format", "--output", "--rankdir", "--history", "--execution"):
        assert option in result.stdout


def test_mermaid_to_stdout() -> None:
    result = cpec("graph", TRANSCODE, "-f", "mermaid")
    assert result.returncode == 0, result.stderr
    assert len(parse_mermaid(result.stdout).nodes) == 6


@needs_dot
def test_png_with_an_overlay(tmp_path: Path) -> None:
    history = tmp_path / "h.json"
    history.write_text(history_json(transcode_in_flight()), encoding="utf-8")
    out = tmp_path / "overlay.png"
    result = cpec("graph", TRANSCODE, "--history", history, "-o", out)
    assert result.returncode == 0, result.stderr
    width, height = png_size(out.read_bytes())
    assert width > height > 100


def test_misuse_and_failure_exit_codes(tmp_path: Path) -> None:
    misuse = cpec("graph", TRANSCODE, "-f", "png")
    assert misuse.returncode == 2
    assert "cpec graph: error:" in misuse.stderr
    no_dot = cpec(
        "graph", TRANSCODE, "-o", tmp_path / "t.svg",
        env={**os.environ, "PATH": str(tmp_path)},
    )  # fmt: skip
    assert no_dot.returncode == 1
    assert "apt-get install graphviz" in no_dot.stderr
    assert "Traceback" not in no_dot.stderr
