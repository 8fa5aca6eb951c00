"""`cpec graph`: a plan or IR as a diagram, optionally with an execution on it.

The lead's build_parser() calls register(commands); the handler follows the
conventions of cpe.compiler.cli (exit 0/1/2, UsageError and WorkFailed for
errors main() prints without a traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from cpe.compiler.diagram import (
    FORMATS,
    RANKDIRS,
    Overlay,
    RenderError,
    dot_available,
    render,
)
from cpe.compiler.diagram_render import INSTALL_HINT, PICTURE_FORMATS

FORMAT_OF_SUFFIX = {
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".svg": "svg",
    ".png": "png",
}
DEFAULT_DOMAIN = "cpe-local"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `graph` subcommand to cpec's subparsers."""
    parser = commands.add_parser(
        "graph",
        help="draw a plan's workflow, optionally with an execution's state on it",
        description="Render the workflow of a plan (compiled now) or of an IR file "
        "as Graphviz DOT, Mermaid, SVG or PNG. With --history or --execution, each "
        "step is coloured by its state in that execution, with attempt counts and a "
        "legend. SVG and PNG need Graphviz's dot program.",
    )
    parser.add_argument("plan", metavar="PLAN|IR", help="a plan file or compiled IR")
    parser.add_argument(
        "-f",
        "--format",
        choices=FORMATS,
        help="the output format (default: from -o's extension "
        ".dot/.gv/.mmd/.mermaid/.svg/.png; dot when -o has no extension or is "
        "stdout; another extension needs -f)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write here (default: stdout; a PNG needs a file, or '-' for stdout)",
    )
    parser.add_argument(
        "--rankdir",
        choices=RANKDIRS,
        default="LR",
        type=str.upper,
        help="lay steps out left to right (LR, the default) or top to bottom (TB)",
    )
    _add_execution_arguments(parser)
    parser.set_defaults(handler=command_graph)


def _add_execution_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--history",
        metavar="FILE",
        help='draw the state of a recorded history ({"events": [...]}, JSON or YAML)',
    )
    source.add_argument(
        "--execution",
        metavar="WORKFLOW_ID",
        help="draw the state of the latest run of this workflow id, "
        "read from the embedded backend (--db)",
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=os.environ.get("CPE_DB"),
        help="the embedded backend's database file, for --execution (env CPE_DB)",
    )
    parser.add_argument(
        "--domain",
        metavar="NAME",
        default=os.environ.get("CPE_DOMAIN", DEFAULT_DOMAIN),
        help=f"the SWF domain, for --execution (env CPE_DOMAIN; default: {DEFAULT_DOMAIN})",
    )


def command_graph(arguments: argparse.Namespace) -> int:
    # Imported here: cpe.compiler.cli imports this module to register it.
    from cpe.compiler.cli import EXIT_OK, UsageError, WorkFailed, load_plan_or_ir

    fmt = output_format(arguments.format, arguments.output)
    if fmt == "png" and arguments.output is None:
        raise UsageError("a PNG is binary: name a file with -o FILE.png (or -o -)")
    if arguments.execution is not None and not arguments.db:
        raise UsageError(
            "--execution needs the backend's database: --db PATH or CPE_DB"
        )
    if fmt in PICTURE_FORMATS and not dot_available():
        # Before compiling: say at once what to install, not after the work.
        raise WorkFailed(INSTALL_HINT.format(fmt=fmt))
    ir = load_plan_or_ir(arguments.plan)
    overlay = _overlay(arguments, ir)
    try:
        data = render(ir, fmt, overlay, arguments.rankdir)
    except RenderError as error:
        raise WorkFailed(str(error)) from None
    _write(data, arguments.output, binary=fmt == "png")
    return EXIT_OK


def output_format(given: str | None, output: str | None) -> str:
    """The format asked for, else the one -o's extension names, else dot."""
    from cpe.compiler.cli import UsageError

    if given is not None:
        named = FORMAT_OF_SUFFIX.get(Path(output).suffix.lower()) if output else None
        if named is not None and named != given:
            raise UsageError(
                f"-f {given} contradicts the extension of {output} ({named}): "
                "change one of them"
            )
        return given
    if output is None or output == "-":
        return "dot"
    suffix = Path(output).suffix.lower()
    if not suffix:
        return "dot"
    if suffix not in FORMAT_OF_SUFFIX:
        known = ", ".join(FORMAT_OF_SUFFIX)
        raise UsageError(
            f"cannot tell the format of {output} from its extension ({known}): "
            "give -f dot|mermaid|svg|png"
        )
    return FORMAT_OF_SUFFIX[suffix]


# -- where the execution comes from --------------------------------------------


def _overlay(arguments: argparse.Namespace, ir: dict[str, Any]) -> Overlay | None:
    if arguments.history is not None:
        events = _history_events(arguments.history)
        where = arguments.history
    elif arguments.execution is not None:
        events = _execution_events(arguments.db, arguments.domain, arguments.execution)
        where = f"execution {arguments.execution}"
    else:
        return None
    return _overlay_of(ir, events, where)


def _history_events(path: str) -> list[dict[str, Any]]:
    from cpe.compiler.cli import UsageError, WorkFailed
    from cpe.runtime.history_file import HistoryFileError, read_history

    if not Path(path).is_file():
        raise UsageError(f"{path}: no such history file")
    try:
        return read_history(path)
    except HistoryFileError as error:
        raise WorkFailed(str(error)) from None


def _execution_events(db: str, domain: str, workflow_id: str) -> list[dict[str, Any]]:
    from cpe.compiler.cli import UsageError, WorkFailed
    from cpe.compiler.diagram_execution import ExecutionNotFound, latest_history
    from cpe.runtime.backends.local import connect

    # connect() would create a missing database; a typo must not look empty.
    if not Path(db).is_file():
        raise UsageError(f"{db}: no such database file")
    swf, _sqs = connect(db)
    try:
        return latest_history(swf, domain, workflow_id)
    except ExecutionNotFound as error:
        raise WorkFailed(str(error)) from None
    finally:
        swf.close()


def _overlay_of(
    ir: dict[str, Any], events: list[dict[str, Any]], where: str
) -> Overlay:
    from cpe.compiler.cli import WorkFailed
    from cpe.compiler.diagram import overlay_from_history
    from cpe.runtime.history import HistoryError
    from cpe.runtime.history_file import other_type_warning

    warning = other_type_warning(events, ir)
    if warning is not None:
        print(f"{where}: warning: {warning}; drawing it anyway", file=sys.stderr)
    try:
        return overlay_from_history(ir, events)
    except HistoryError as error:
        raise WorkFailed(f"{where}: cannot be drawn on this plan: {error}") from None


def _write(data: bytes, output: str | None, *, binary: bool) -> None:
    from cpe.compiler.cli import UsageError, WorkFailed

    if output is not None and output != "-":
        try:
            Path(output).write_bytes(data)
        except OSError as error:
            raise WorkFailed(
                f"cannot write {output}: {error.strerror or error}"
            ) from None
        return
    if binary:
        if sys.stdout.isatty():
            raise UsageError("will not write a PNG to a terminal: -o FILE.png")
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    sys.stdout.write(data.decode("utf-8"))
