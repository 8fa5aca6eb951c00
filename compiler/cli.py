"""`cpec`: the command line of cpe.

Each subcommand is a thin layer over the library: it parses arguments, calls
one function, and turns the outcome into output and an exit code (0 success,
1 the work failed or the plan has errors, 2 the command was used wrongly).
A user's mistake is reported in a sentence, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cpe.compiler.compile import check_file, check_text, read_plan
from cpe.compiler.diagnostics import CompileError, Diagnostic, Severity, render_json
from cpe.compiler.ir import dumps
from cpe.runtime.ir import IRError, check_ir, looks_like_ir
from cpe.runtime.swf_errors import swf_name_problem

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """The command was used wrongly (exit 2)."""


class WorkFailed(Exception):
    """The work the command did failed (exit 1); the message says why."""


def _print_diagnostics(diagnostics: Sequence[Diagnostic], output_format: str) -> None:
    if output_format == "json":
        sys.stderr.write(render_json(diagnostics))
        return
    for diagnostic in diagnostics:
        if output_format == "github":
            # Workflow commands are read from standard output.
            print(diagnostic.render_github())
        else:
            print(diagnostic.render(), file=sys.stderr)


def _check_file(
    path: str, strict: bool
) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """Compile one plan; with `strict`, warnings count as errors."""
    ir, diagnostics = check_file(path)
    if strict and any(d.severity is Severity.WARNING for d in diagnostics):
        return None, [d.as_error() for d in diagnostics]
    return ir, diagnostics


def _existing_file(path: str, what: str) -> Path:
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{path}: no such {what} file")
    return file


def load_plan_or_ir(path: str, output_format: str = "text") -> dict[str, Any]:
    """The IR of a plan file (compiled now) or of an IR file (checked)."""
    file = _existing_file(path, "plan or IR")
    try:
        text = read_plan(file)
    except CompileError as error:
        _print_diagnostics(error.diagnostics, output_format)
        raise
    if looks_like_ir(text):
        try:
            return check_ir(json.loads(text), path)
        except IRError as error:
            raise WorkFailed(str(error)) from None
    ir, diagnostics = check_text(text, path)
    _print_diagnostics(diagnostics, output_format)
    if ir is None:
        raise CompileError(diagnostics)
    return ir


# -- compile and check --------------------------------------------------------


def command_compile(arguments: argparse.Namespace) -> int:
    _existing_file(arguments.plan, "plan")
    ir, diagnostics = _check_file(arguments.plan, arguments.strict)
    _print_diagnostics(diagnostics, arguments.format)
    if ir is None:
        return EXIT_FAILED
    text = dumps(ir)
    if arguments.output in (None, "-"):
        sys.stdout.write(text)
        return EXIT_OK
    try:
        Path(arguments.output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise WorkFailed(f"cannot write {arguments.output}: {error.strerror}") from None
    return EXIT_OK


def command_check(arguments: argparse.Namespace) -> int:
    everything: list[Diagnostic] = []
    failed = False
    for path in arguments.plans:
        ir, diagnostics = _check_file(path, arguments.strict)
        everything.extend(diagnostics)
        failed = failed or ir is None
    _print_diagnostics(everything, arguments.format)
    if arguments.format == "text":
        errors = sum(d.severity is Severity.ERROR for d in everything)
        warnings = len(everything) - errors
        plans = len(arguments.plans)
        print(
            f"{plans} plan(s) checked: {errors} error(s), {warnings} warning(s)",
            file=sys.stderr,
        )
    return EXIT_FAILED if failed else EXIT_OK


# -- decide -------------------------------------------------------------------


def command_decide(arguments: argparse.Namespace) -> int:
    from cpe.runtime.decider import decide
    from cpe.runtime.history_file import (
        HistoryFileError,
        other_type_warning,
        read_history,
    )

    ir = load_plan_or_ir(arguments.plan)
    history = _existing_file(arguments.history, "history")
    try:
        events = read_history(history)
    except HistoryFileError as error:
        raise WorkFailed(str(error)) from None
    warning = other_type_warning(events, ir)
    if warning is not None:
        print(
            f"{arguments.history}: warning: {warning}; deciding anyway", file=sys.stderr
        )
    decisions = decide(ir, events)
    print(json.dumps({"decisions": decisions}, indent=2, ensure_ascii=False))
    return EXIT_OK


# -- run ----------------------------------------------------------------------


def command_run(arguments: argparse.Namespace) -> int:
    from cpe.runtime.runner import RunError, run_plan

    if arguments.db is not None and Path(arguments.db).is_dir():
        raise UsageError(f"--db {arguments.db} is a directory; name a database file")
    ir = load_plan_or_ir(arguments.plan)
    workflow_input = _read_input(arguments.input)
    if arguments.activities:
        sources = arguments.activities
    elif ir["activities"]:
        sources = [_default_activities(arguments.plan)]
    else:
        sources = []  # only wait and signal steps: no activity code to load
    try:
        outcome = run_plan(
            ir,
            workflow_input,
            activity_sources=sources,
            workers=arguments.workers,
            db=arguments.db,
            domain=arguments.domain,
            workflow_id=arguments.workflow_id,
            progress=sys.stderr,
        )
    except RunError as error:
        raise WorkFailed(str(error)) from None
    if outcome.succeeded:
        print(json.dumps(outcome.result, indent=2, ensure_ascii=False))
        return EXIT_OK
    status = outcome.close_status.lower()
    said = f": {outcome.reason}" if outcome.reason not in (None, "", status) else ""
    print(f"cpec: the workflow {status}{said}", file=sys.stderr)
    if outcome.details:
        print(outcome.details, file=sys.stderr)
    return EXIT_FAILED


def _read_input(value: str | None) -> str:
    """The text of --input (JSON text, or @file holding it), checked as JSON."""
    if value is None:
        return "{}"
    text = read_text_argument(value, "input")
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        source = value[1:] if value.startswith("@") else "--input"
        raise UsageError(f"{source} is not JSON: {error}") from None
    except RecursionError:
        source = value[1:] if value.startswith("@") else "--input"
        raise UsageError(f"{source} is JSON nested too deeply to read") from None
    return text


def read_text_argument(value: str, what: str) -> str:
    """An argument's text, or the text of the file it names as @FILE."""
    if not value.startswith("@"):
        return value
    path = _existing_file(value[1:], what)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = (
            error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        )
        raise UsageError(f"cannot read {path}: {reason}") from None


def _default_activities(plan: str) -> str:
    beside = Path(plan).resolve().parent / "activities.py"
    if not beside.is_file():
        raise UsageError(
            f"no activity code given and there is no activities.py beside {plan}: "
            "name it with --activities FILE.py"
        )
    return str(beside)


# -- schema -------------------------------------------------------------------


def command_schema(arguments: argparse.Namespace) -> int:
    from importlib import resources

    text = resources.files("cpe.compiler").joinpath("plan.schema.json").read_text()
    sys.stdout.write(text)
    return EXIT_OK


# -- the parser ---------------------------------------------------------------


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cpe")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _env_default(name: str, default: str | None) -> str | None:
    return os.environ.get(name, default)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cpec",
        description=(
            "Compile CPE workflow plans (YAML) into a validated DAG IR, replay "
            "histories against it, draw it, and run it on the embedded SQLite "
            "backend (SWF and SQS semantics, no cloud account)."
        ),
        epilog="Run 'cpec COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"cpec {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    formats = ("text", "json", "github")
    format_help = (
        "how to print diagnostics: text (default), json, or github "
        "(annotations for CI, on stdout)"
    )
    strict_help = "treat warnings as errors"
    compile_parser = commands.add_parser(
        "compile",
        help="compile a plan to IR",
        description="Compile a plan to IR (JSON). Diagnostics go to stderr as "
        "path:line:col: error: message; the exit code is 1 when the plan has errors.",
    )
    compile_parser.add_argument("plan", metavar="PLAN", help="the plan file (YAML)")
    compile_parser.add_argument(
        "-o", "--output", metavar="IR", help="write the IR here (default: stdout)"
    )
    compile_parser.add_argument(
        "--format", choices=formats, default="text", help=format_help
    )
    compile_parser.add_argument("--strict", action="store_true", help=strict_help)
    compile_parser.set_defaults(handler=command_compile)

    check_parser = commands.add_parser(
        "check",
        help="report the problems of plans without writing IR",
        description="Check plans and print every diagnostic; exit 1 if any has errors.",
    )
    check_parser.add_argument(
        "plans", metavar="PLAN", nargs="+", help="plan files (YAML)"
    )
    check_parser.add_argument(
        "--format", choices=formats, default="text", help=format_help
    )
    check_parser.add_argument("--strict", action="store_true", help=strict_help)
    check_parser.set_defaults(handler=command_check)

    decide_parser = commands.add_parser(
        "decide",
        help="replay a recorded history offline and print the decisions",
        description="Replay a history, as GetWorkflowExecutionHistory returns it "
        '({"events": [...]}, JSON or YAML), against a plan or its IR, and print '
        '{"decisions": [...]} as RespondDecisionTaskCompleted takes them.',
    )
    decide_parser.add_argument(
        "plan", metavar="PLAN|IR", help="a plan file or compiled IR"
    )
    decide_parser.add_argument(
        "--history",
        metavar="FILE",
        required=True,
        help="the recorded history (JSON or YAML)",
    )
    decide_parser.set_defaults(handler=command_decide)

    schema_parser = commands.add_parser(
        "schema",
        help="print the JSON Schema of the plan format (for editors)",
        description="Print the JSON Schema of plans, for YAML language servers: "
        "point yaml.schemas (or a '# yaml-language-server: $schema=' comment) at "
        "the saved file. cpec check goes further than any schema can.",
    )
    schema_parser.set_defaults(handler=command_schema)

    run_parser = commands.add_parser(
        "run",
        help="run one workflow to its end on the embedded backend",
        description="Compile PLAN, start one execution on an embedded backend, run a "
        "decider and workers until it closes, print the workflow result as JSON. "
        "Progress goes to stderr. Exit 0 when the workflow completed, 1 otherwise.",
    )
    run_parser.add_argument("plan", metavar="PLAN", help="a plan file or compiled IR")
    run_parser.add_argument(
        "--input",
        metavar="JSON|@FILE",
        help="the workflow input, as JSON text or @file (default: {})",
    )
    run_parser.add_argument(
        "--activities",
        metavar="PATH",
        action="append",
        help="a Python file (or module) defining the activities; repeatable "
        "(default: activities.py beside the plan)",
    )
    run_parser.add_argument(
        "--workers",
        metavar="N",
        type=_worker_count,
        default=3,
        help=f"how many worker processes to run, 1 to {MAX_WORKERS} (default: 3)",
    )
    run_parser.add_argument(
        "--db",
        metavar="PATH",
        default=_env_default("CPE_DB", None),
        help="the embedded backend's database file (env CPE_DB; default: a temporary one)",
    )
    run_parser.add_argument(
        "--domain",
        metavar="NAME",
        default=_env_default("CPE_DOMAIN", "cpe-local"),
        help="the SWF domain (env CPE_DOMAIN; default: cpe-local)",
    )
    run_parser.add_argument(
        "--workflow-id",
        metavar="ID",
        type=_workflow_id,
        help="the workflow id (default: the workflow name and a random suffix)",
    )
    run_parser.set_defaults(handler=command_run)

    from cpe.compiler.cli_diff import register as register_diff
    from cpe.compiler.cli_graph import register as register_graph
    from cpe.compiler.cli_input_poller import register as register_input_poller
    from cpe.compiler.cli_ops import register as register_ops
    from cpe.compiler.cli_stack import register as register_stack

    register_graph(commands)
    register_diff(commands)
    register_ops(commands)
    register_stack(commands)
    register_input_poller(commands)
    return parser


MAX_WORKERS = 64


def _worker_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"it must be 1 to {MAX_WORKERS}")
    return value


def _workflow_id(text: str) -> str:
    problem = swf_name_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{text!r} cannot be a workflow id: {problem}")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = arguments.handler(arguments)
        return code
    except UsageError as error:
        print(f"cpec {arguments.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except CompileError:
        return EXIT_FAILED  # its diagnostics were printed where they were found
    except WorkFailed as error:
        print(f"cpec {arguments.command}: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt as interruption:
        print(f"cpec {arguments.command}: interrupted", file=sys.stderr)
        # By shell convention, 128 + the signal's number.
        terminated = type(interruption).__name__ == "Terminated"
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)
    except BrokenPipeError:
        return EXIT_FAILED
    except Exception as error:
        # A bug of ours, not a mistake of the user's: say so in one line, and
        # give the traceback to whoever asks for it to report the bug.
        if os.environ.get("CPE_DEBUG"):
            raise
        print(
            f"cpec {arguments.command}: internal error: {type(error).__name__}: {error}\n"
            "  (set CPE_DEBUG=1 to see where; please report it)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
