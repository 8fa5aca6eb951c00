"""`cpec status`, `history`, `executions`, `signal`, `cancel`, `terminate`:
looking at and steering executions, on the embedded backend or on AWS alike.

build_parser() calls register(commands); the handlers follow cpe.compiler.cli's
conventions (exit 0/1/2; UsageError and WorkFailed become one line, never a
traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeAlias

from cpe.compiler.cli_backend import add_backend_arguments, backend_choice
from cpe.compiler.ops_client import Execution, OpsClient, OpsError
from cpe.compiler.ops_events import (
    jsonable,
    outcome,
    step_states_from_events,
    summary,
)
from cpe.compiler.ops_times import TimeFormatError, iso, parse_time
from cpe.runtime.executions import EPOCH
from cpe.runtime.swf_errors import swf_name_problem

CLOSE_STATUSES = (
    "COMPLETED",
    "FAILED",
    "CANCELED",
    "TERMINATED",
    "CONTINUED_AS_NEW",
    "TIMED_OUT",
)
RECENT = timedelta(days=1)
RECENT_SHOWN = 10

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(commands: Commands) -> None:
    """Add the operations subcommands to cpec's subparsers."""
    _register_status(commands)
    _register_history(commands)
    _register_executions(commands)
    _register_signal(commands)
    _register_cancel(commands)
    _register_terminate(commands)


# -- arguments ------------------------------------------------------------------


def _time(text: str) -> datetime:
    try:
        return parse_time(text)
    except TimeFormatError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _workflow_type(text: str) -> tuple[str, str | None]:
    name, _, version = text.partition(":")
    if not name:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no type name: write NAME[:VERSION]"
        )
    return name, version or None


def _add_execution(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "workflow_id",
        metavar="WORKFLOW_ID",
        type=_workflow_id,
        nargs=None if required else "?",
        help="the workflow id of the execution"
        + ("" if required else " (leave out for a summary of all executions)"),
    )
    parser.add_argument(
        "--run-id",
        metavar="ID",
        help="which run of the workflow id (default: the open run, else the latest)",
    )
    add_backend_arguments(parser)


def _new(commands: Commands, name: str, summary_line: str, description: str) -> Any:
    return commands.add_parser(name, help=summary_line, description=description)


# -- opening the backend --------------------------------------------------------


def _is_sqlite(path: Path) -> bool:
    """Whether `path` starts as every SQLite database does (or is empty)."""
    with path.open("rb") as file:
        head = file.read(16)
    return head in (b"", b"SQLite format 3\x00")


def _client(arguments: argparse.Namespace) -> OpsClient:
    from cpe.compiler.cli import UsageError, WorkFailed
    from cpe.runtime.backends.select import BackendError, open_clients

    if arguments.backend == "local" and not Path(arguments.db).is_file():
        raise UsageError(
            f"there is no database file {arguments.db}; name the one the workflows "
            "ran on with --db (or env CPE_DB), or use --backend aws"
        )
    if arguments.backend == "local" and not _is_sqlite(Path(arguments.db)):
        raise UsageError(
            f"{arguments.db} is not a cpe database (not an SQLite file); name the "
            "one the workflows ran on with --db (or env CPE_DB)"
        )
    choice = backend_choice(arguments, poll_timeout=1.0)
    try:
        swf, _sqs = open_clients(choice)
    except BackendError as error:
        raise UsageError(str(error)) from None
    client = OpsClient(swf, arguments.domain, choice.describe())
    try:
        client.check_domain()
    except OpsError as error:
        raise WorkFailed(str(error)) from None
    return client


def _run(arguments: argparse.Namespace, action: Any) -> int:
    """Run `action(client)`, turning backend errors into WorkFailed."""
    from cpe.compiler.cli import WorkFailed

    client = _client(arguments)
    try:
        code: int = action(client)
        return code
    except OpsError as error:
        raise WorkFailed(str(error)) from None


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(
            cell.ljust(width) for cell, width in zip(line, widths, strict=True)
        ).rstrip()
        for line in lines
    )


def _type_text(info: dict[str, Any]) -> str:
    kind = info.get("workflowType", {})
    return f"{kind.get('name', '?')} {kind.get('version', '?')}"


def _status_text(info: dict[str, Any]) -> str:
    return str(info.get("closeStatus") or info.get("executionStatus", "?"))


# -- status ---------------------------------------------------------------------


def _register_status(commands: Commands) -> None:
    parser = _new(
        commands,
        "status",
        "show one execution's state, or a summary of all",
        "Without WORKFLOW_ID: how many executions are open per workflow type, and "
        f"the {RECENT_SHOWN} most recently closed in the last day with their close "
        "status. With it: that execution's type, times, status, the state of each "
        "step, and its result or failure reason. Steps come from the activity "
        "events, or, with --plan, from folding the history against the plan.",
    )
    _add_execution(parser, required=False)
    parser.add_argument(
        "--plan",
        metavar="PLAN|IR",
        help="the execution's plan or IR: every step is shown, as the decider sees it",
    )
    parser.set_defaults(handler=command_status)


def command_status(arguments: argparse.Namespace) -> int:
    from cpe.compiler.cli import UsageError, load_plan_or_ir

    if arguments.workflow_id is None:
        if arguments.run_id or arguments.plan:
            raise UsageError("--run-id and --plan need a WORKFLOW_ID")
        return _run(arguments, _summary)
    ir = load_plan_or_ir(arguments.plan) if arguments.plan else None
    return _run(arguments, lambda client: _one_status(client, arguments, ir))


def _summary(client: OpsClient) -> int:
    window = {"startTimeFilter": {"oldestDate": EPOCH}}
    per_type = Counter(_type_text(i) for i in client.executions("open", window))
    print(f"open executions in domain {client.domain} ({client.where}):")
    if not per_type:
        print("  none")
    for kind, count in sorted(per_type.items()):
        print(f"  {count:5d}  {kind}")
    since = datetime.now(UTC) - RECENT
    closed = client.executions("closed", {"closeTimeFilter": {"oldestDate": since}})
    recent = [info for _, info in zip(range(RECENT_SHOWN), closed, strict=False)]
    print("recently closed (last day, newest first):")
    if not recent:
        print("  none")
        return 0
    rows = [
        [
            i["execution"]["workflowId"],
            _type_text(i),
            _status_text(i),
            iso(i.get("closeTimestamp", "")),
        ]
        for i in recent
    ]
    print(_indent(_table(rows, ["WORKFLOW ID", "TYPE", "CLOSE STATUS", "CLOSED"])))
    return 0


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _one_status(
    client: OpsClient, arguments: argparse.Namespace, ir: dict[str, Any] | None
) -> int:
    info = client.find(arguments.workflow_id, arguments.run_id)
    execution = Execution(arguments.workflow_id, info["execution"]["runId"])
    events = client.history(execution, reverse=False)
    print(f"workflow id:  {execution.workflow_id}")
    print(f"run id:       {execution.run_id}")
    print(f"type:         {_type_text(info)}")
    print(f"status:       {info['executionStatus']}")
    if info.get("closeStatus"):
        print(f"close status: {info['closeStatus']}")
    print(f"started:      {iso(info['startTimestamp'])}")
    if info.get("closeTimestamp"):
        print(f"closed:       {iso(info['closeTimestamp'])}")
    if info.get("cancelRequested"):
        print("cancel:       requested")
    steps = (
        _plan_steps(ir, events) if ir is not None else step_states_from_events(events)
    )
    print("steps:" + ("" if steps else "        none scheduled yet"))
    width = max((len(name) for name in steps), default=0)
    for name, state in steps.items():
        print(f"  {name.ljust(width)}  {state}")
    ending = outcome(events)
    if ending is not None:
        print(f"{ending[0] + ':':13} {ending[1]}")
    return 0


def _plan_steps(ir: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, str]:
    from cpe.runtime.history import HistoryError, fold, in_order

    try:
        state = fold(ir, in_order(events))
    except HistoryError as error:
        raise OpsError(
            f"the history does not fit the plan given with --plan: {error}; "
            "leave --plan out to see the steps from the events alone"
        ) from None
    shown: dict[str, str] = {}
    for name in ir["order"]:
        step = state.steps[name]
        reason = f": {step.reason}" if step.reason else ""
        shown[name] = f"{step.status.value}{reason}"
    return shown


# -- history --------------------------------------------------------------------


def _register_history(commands: Commands) -> None:
    parser = _new(
        commands,
        "history",
        "print an execution's history events",
        "Print every event of an execution's history, following SWF's pages: as a "
        "table (id, time, type, the key attributes) or as JSON, exactly the events "
        'SWF gives ({"events": [...]}, dates as ISO text; what cpec decide and '
        "cpec graph --history read).",
    )
    _add_execution(parser)
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="default: table"
    )
    parser.add_argument("--reverse", action="store_true", help="newest event first")
    parser.set_defaults(handler=command_history)


def command_history(arguments: argparse.Namespace) -> int:
    def show(client: OpsClient) -> int:
        info = client.find(arguments.workflow_id, arguments.run_id)
        execution = Execution(arguments.workflow_id, info["execution"]["runId"])
        events = client.history(execution, reverse=arguments.reverse)
        if arguments.format == "json":
            print(
                json.dumps({"events": jsonable(events)}, indent=2, ensure_ascii=False)
            )
            return 0
        rows = [
            [str(e["eventId"]), iso(e["eventTimestamp"]), e["eventType"], summary(e)]
            for e in events
        ]
        print(_table(rows, ["ID", "TIME", "TYPE", "ATTRIBUTES"]))
        return 0

    return _run(arguments, show)


# -- executions -----------------------------------------------------------------


def _register_executions(commands: Commands) -> None:
    parser = _new(
        commands,
        "executions",
        "list executions, with filters",
        "List executions, newest first. SWF takes only one of its type, tag, "
        "execution and close-status filters per listing: cpec sends one and applies "
        "the others itself, so any combination works. --since and --until bound the "
        "start time; they take ISO 8601 (2026-12-04T03:00:00Z) or a span back from "
        "now (90s, 30m, 2h, 3d, 1w).",
    )
    parser.add_argument(
        "--status",
        choices=("open", "closed", "all"),
        default="all",
        help="which executions (default: all)",
    )
    parser.add_argument(
        "--close-status",
        choices=CLOSE_STATUSES,
        type=str.upper,
        help="only closed executions that closed so",
    )
    parser.add_argument(
        "--type",
        metavar="NAME[:VERSION]",
        type=_workflow_type,
        help="only executions of this workflow type",
    )
    parser.add_argument(
        "--since", metavar="TIME", type=_time, help="started at or after"
    )
    parser.add_argument(
        "--until", metavar="TIME", type=_time, help="started at or before"
    )
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="default: table"
    )
    add_backend_arguments(parser)
    parser.set_defaults(handler=command_executions)


def command_executions(arguments: argparse.Namespace) -> int:
    from cpe.compiler.cli import UsageError

    if arguments.close_status and arguments.status == "open":
        raise UsageError(
            "--close-status lists closed executions; leave out --status open"
        )
    if arguments.since and arguments.until and arguments.since > arguments.until:
        raise UsageError("--since is later than --until; swap them")
    statuses = ["open", "closed"] if arguments.status == "all" else [arguments.status]
    if arguments.close_status:
        statuses = ["closed"]

    def show(client: OpsClient) -> int:
        found = [
            info
            for status in statuses
            for info in client.executions(status, _listing_request(arguments))
            if _matches(info, arguments)
        ]
        found.sort(key=lambda info: info["startTimestamp"], reverse=True)
        if arguments.format == "json":
            print(json.dumps({"executionInfos": jsonable(found)}, indent=2))
            return 0
        if not found:
            print("no executions match", file=sys.stderr)
            return 0
        rows = [
            [
                i["execution"]["workflowId"],
                i["execution"]["runId"],
                _type_text(i),
                _status_text(i),
                iso(i["startTimestamp"]),
                iso(i["closeTimestamp"]) if i.get("closeTimestamp") else "",
            ]
            for i in found
        ]
        print(
            _table(
                rows, ["WORKFLOW ID", "RUN ID", "TYPE", "STATUS", "STARTED", "CLOSED"]
            )
        )
        return 0

    return _run(arguments, show)


def _listing_request(arguments: argparse.Namespace) -> dict[str, Any]:
    """The request with SWF's one allowed filter; _matches applies the rest."""
    window: dict[str, Any] = {"oldestDate": arguments.since or EPOCH}
    if arguments.until:
        window["latestDate"] = arguments.until
    request: dict[str, Any] = {"startTimeFilter": window}
    if arguments.close_status:
        request["closeStatusFilter"] = {"status": arguments.close_status}
    elif arguments.type and arguments.type[1]:
        # A name alone is matched here: some SWF look-alikes insist on a version.
        name, version = arguments.type
        request["typeFilter"] = {
            "name": name,
            **({"version": version} if version else {}),
        }
    return request


def _matches(info: dict[str, Any], arguments: argparse.Namespace) -> bool:
    if arguments.close_status and info.get("closeStatus") != arguments.close_status:
        return False
    if arguments.type:
        name, version = arguments.type
        kind = info.get("workflowType", {})
        if kind.get("name") != name or (version and kind.get("version") != version):
            return False
    return True


# -- signal, cancel, terminate ----------------------------------------------------


def _register_signal(commands: Commands) -> None:
    parser = _new(
        commands,
        "signal",
        "send a signal to an open execution",
        "Record the signal SIGNAL_NAME, with optional input, in an open execution's "
        "history; a `signal:` step waiting for that name then succeeds with the "
        "input as its output (parsed as JSON, or the text itself when it is not).",
    )
    _add_execution(parser)
    parser.add_argument(
        "signal_name",
        metavar="SIGNAL_NAME",
        type=_signal_name,
        help="the signal's name",
    )
    parser.add_argument(
        "--input",
        metavar="TEXT|@FILE",
        help="the signal's input: JSON (or any text), or @file holding it",
    )
    parser.set_defaults(handler=command_signal)


def _swf_name(what: str) -> Callable[[str], str]:
    """An argparse type for a name or id SWF must accept, called `what`."""

    def checked(text: str) -> str:
        problem = swf_name_problem(text)
        if problem is not None:
            raise argparse.ArgumentTypeError(f"{text!r} cannot be {what}: {problem}")
        return text

    return checked


_workflow_id = _swf_name("a workflow id")
_signal_name = _swf_name("a signal name")


def command_signal(arguments: argparse.Namespace) -> int:
    from cpe.compiler.cli import read_text_argument

    signal_input = (
        None
        if arguments.input is None
        else read_text_argument(arguments.input, "input")
    )

    def send(client: OpsClient) -> int:
        execution = client.find_open(arguments.workflow_id, arguments.run_id, "signal")
        request: dict[str, Any] = {
            "workflowId": execution.workflow_id,
            "runId": execution.run_id,
            "signalName": arguments.signal_name,
        }
        if signal_input is not None:
            request["input"] = signal_input
        client.call("signal_workflow_execution", **request)
        print(f"signaled {arguments.signal_name} to {_named(execution)}")
        return 0

    return _run(arguments, send)


def _named(execution: Execution) -> str:
    return f"{execution.workflow_id} (run {execution.run_id})"


def _register_cancel(commands: Commands) -> None:
    parser = _new(
        commands,
        "cancel",
        "ask an open execution to cancel itself",
        "Request the cancellation of an open execution: its decider cancels every "
        "open activity and timer, then closes it as canceled. The execution stays "
        "open until then; 'cpec terminate' closes it at once.",
    )
    _add_execution(parser)
    parser.set_defaults(handler=command_cancel)


def command_cancel(arguments: argparse.Namespace) -> int:
    def cancel(client: OpsClient) -> int:
        execution = client.find_open(arguments.workflow_id, arguments.run_id, "cancel")
        client.call("request_cancel_workflow_execution", **execution.reference())
        print(f"cancel requested for {_named(execution)}")
        return 0

    return _run(arguments, cancel)


def _register_terminate(commands: Commands) -> None:
    parser = _new(
        commands,
        "terminate",
        "close an open execution at once",
        "Terminate an open execution: SWF closes it now as TERMINATED, without "
        "asking its decider; activities in flight find their tasks gone.",
    )
    _add_execution(parser)
    parser.add_argument("--reason", metavar="TEXT", help="why, kept in the history")
    parser.add_argument("--details", metavar="TEXT", help="more words, kept too")
    parser.set_defaults(handler=command_terminate)


def command_terminate(arguments: argparse.Namespace) -> int:
    def terminate(client: OpsClient) -> int:
        execution = client.find_open(
            arguments.workflow_id, arguments.run_id, "terminate"
        )
        request: dict[str, Any] = execution.reference()
        for key in ("reason", "details"):
            if getattr(arguments, key) is not None:
                request[key] = getattr(arguments, key)
        client.call("terminate_workflow_execution", **request)
        print(f"terminated {_named(execution)}")
        return 0

    return _run(arguments, terminate)
