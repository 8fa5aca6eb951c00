"""`cpec diff OLD NEW`: what deploying NEW in place of OLD changes."""

from __future__ import annotations

import argparse
import json

from cpe.compiler.diagnostics import CompileError
from cpe.compiler.diff import diff_ir


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `diff` command to cpec's subcommands."""
    parser = commands.add_parser(
        "diff",
        help="what changes in workflow behaviour between two versions of a plan",
        description="Compare two versions of a plan (each a plan file or compiled IR) "
        "and list what changes in workflow behaviour: steps, requirements, activity "
        "versions and task lists, timeouts, input and output schemas, input "
        "bindings, ordering, and whether each change breaks running executions.",
    )
    parser.add_argument("old", metavar="OLD", help="the deployed plan or its IR")
    parser.add_argument("new", metavar="NEW", help="the plan or IR to deploy")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default) or json",
    )
    parser.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 1 when they differ, like git diff --exit-code "
        "(without it, exit 0 whether or not they differ)",
    )
    parser.set_defaults(handler=command_diff)


def command_diff(arguments: argparse.Namespace) -> int:
    # Imported here: cli imports this module to register the command.
    from cpe.compiler.cli import EXIT_FAILED, EXIT_OK, load_plan_or_ir

    irs = []
    failures: list[CompileError] = []
    for path in (arguments.old, arguments.new):
        try:
            irs.append(load_plan_or_ir(path))
        except CompileError as error:
            # Keep going: both plans' diagnostics in one run.
            failures.append(error)
    if failures:
        raise failures[0]
    diff = diff_ir(irs[0], irs[1])
    if arguments.format == "json":
        print(json.dumps(diff.as_json(), indent=2, ensure_ascii=False))
    else:
        print(diff.render_text(), end="")
    if arguments.exit_code and not diff.identical:
        return EXIT_FAILED
    return EXIT_OK
