"""`cpec graph` through its own parser and through cpec's main().

register() is tested on a parser built here, so these pass before the lead
wires the command into build_parser() and after; main() is run with a parser
that has `graph` whether or not it is wired yet.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from cpe.compiler import cli
from cpe.compiler.cli import UsageError, WorkFailed
from cpe.compiler.cli_graph import output_format, register
from tests.diagram.helpers import (
    TRANSCODE,
    history_json,
    needs_dot,
    parse_mermaid,
    png_size,
    svg_nodes,
    transcode_in_flight,
)


def own_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cpec")
    register(parser.add_subparsers(dest="command"))
    return parser


def handle(*arguments: str | Path) -> int:
    parsed = own_parser().parse_args(["graph", *map(str, arguments)])
    code: int = parsed.handler(parsed)
    return code


@pytest.fixture
def main_with_graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """cli.main() whose parser has `graph`, registering it if it is not wired."""
    real = cli.build_parser

    def build() -> argparse.ArgumentParser:
        parser = real()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                if "graph" not in action.choices:
                    register(action)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    yield


@pytest.fixture
def in_flight_history(tmp_path: Path) -> Path:
    path = tmp_path / "history.json"
    path.write_text(history_json(transcode_in_flight()), encoding="utf-8")
    return path


def test_default_is_dot_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert handle(TRANSCODE) == 0
    out = capsys.readouterr().out
    assert out.startswith("digraph workflow {")
    assert "rankdir=LR" in out


def test_mermaid_top_to_bottom(capsys: pytest.CaptureFixture[str]) -> None:
    assert handle(TRANSCODE, "-f", "mermaid", "--rankdir", "tb") == 0
    parsed = parse_mermaid(capsys.readouterr().out)
    assert parsed.header[-1] == "flowchart TB"
    assert len(parsed.nodes) == 6


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (None, "dot"),
        ("-", "dot"),
        ("g.dot", "dot"),
        ("g.gv", "dot"),
        ("g.mmd", "mermaid"),
        ("g.mermaid", "mermaid"),
        ("G.SVG", "svg"),
        ("g.png", "png"),
        ("graph", "dot"),
    ],
)
def test_format_from_the_output_name(output: str | None, expected: str) -> None:
    assert output_format(None, output) == expected


def test_format_and_extension_must_agree_and_unknown_extension_is_misuse() -> None:
    assert output_format("mermaid", "g.txt") == "mermaid"
    assert output_format("svg", "g.svg") == "svg"
    with pytest.raises(
        UsageError, match=r"-f mermaid contradicts the extension of g\.svg"
    ):
        output_format("mermaid", "g.svg")
    with pytest.raises(UsageError, match="give -f"):
        output_format(None, "g.jpg")


def test_mermaid_file_from_its_extension(tmp_path: Path) -> None:
    out = tmp_path / "t.mmd"
    assert handle(TRANSCODE, "-o", out) == 0
    assert "flowchart LR" in out.read_text(encoding="utf-8")


@needs_dot
def test_svg_and_png_files(tmp_path: Path) -> None:
    assert handle(TRANSCODE, "-o", tmp_path / "t.svg") == 0
    assert len(svg_nodes((tmp_path / "t.svg").read_bytes())) == 6
    assert handle(TRANSCODE, "-f", "png", "-o", tmp_path / "picture") == 0
    width, height = png_size((tmp_path / "picture").read_bytes())
    assert width > height > 100


@needs_dot
def test_svg_may_go_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert handle(TRANSCODE, "-f", "svg") == 0
    assert "<svg" in capsys.readouterr().out


def test_png_needs_a_file() -> None:
    with pytest.raises(UsageError, match=r"-o FILE\.png"):
        handle(TRANSCODE, "-f", "png")


def test_history_overlay(
    in_flight_history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert handle(TRANSCODE, "-f", "mermaid", "--history", in_flight_history) == 0
    parsed = parse_mermaid(capsys.readouterr().out)
    assert parsed.classes["s1"] == "cpe_running"
    assert parsed.classes["s3"] == "cpe_pending"
    assert len(parsed.legend) == 8


def test_history_of_another_workflow_type_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = transcode_in_flight()
    history.events[0]["workflowExecutionStartedEventAttributes"]["workflowType"] = {
        "name": "Other",
        "version": "9",
    }
    path = tmp_path / "h.json"
    path.write_text(history_json(history), encoding="utf-8")
    assert handle(TRANSCODE, "--history", path) == 0
    assert "history is of workflow type Other 9" in capsys.readouterr().err


def test_history_problems(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such history file"):
        handle(TRANSCODE, "--history", tmp_path / "missing.json")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{events: [1, 2", encoding="utf-8")
    with pytest.raises(WorkFailed):
        handle(TRANSCODE, "--history", garbage)
    foreign = tmp_path / "foreign.json"
    foreign.write_text(
        '{"events": [{"eventId": 1, "eventType": "ActivityTaskScheduled", '
        '"activityTaskScheduledEventAttributes": {"activityId": "Nope"}}]}',
        encoding="utf-8",
    )
    with pytest.raises(WorkFailed, match="cannot be drawn on this plan"):
        handle(TRANSCODE, "--history", foreign)


def test_history_and_execution_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as raised:
        handle(TRANSCODE, "--history", "h.json", "--execution", "w")
    assert raised.value.code == 2


def test_execution_needs_an_existing_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CPE_DB", raising=False)
    with pytest.raises(UsageError, match="--db PATH or CPE_DB"):
        handle(TRANSCODE, "--execution", "w")
    with pytest.raises(UsageError, match="no such database"):
        handle(TRANSCODE, "--execution", "w", "--db", tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()


def test_main_exit_codes_and_messages(
    main_with_graph: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["graph", str(TRANSCODE), "-f", "mermaid"]) == 0
    capsys.readouterr()
    assert cli.main(["graph", str(TRANSCODE), "-o", "x.jpg"]) == 2
    assert "cpec graph: error: cannot tell the format" in capsys.readouterr().err
    assert cli.main(["graph", str(tmp_path / "nope.yml")]) == 2
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    assert cli.main(["graph", str(TRANSCODE), "-o", str(tmp_path / "t.svg")]) == 1
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err
    assert "Traceback" not in err
    assert not (tmp_path / "t.svg").exists()
