"""`cpec deploy`, `cpec decider`, `cpec worker`: the long-lived stack.

`deploy` puts compiled IR in a registry (a folder or an S3 prefix) and
registers its SWF types; `decider` and `worker` are the daemons that serve
them, on the embedded backend or on AWS with the same code. The handlers
follow the conventions of cpe.compiler.cli (exit 0/1/2, UsageError and
WorkFailed for the errors main() prints without a traceback).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from cpe.compiler.cli_backend import LONG_POLL, add_backend_arguments, backend_choice
from cpe.runtime.daemon import add_daemon_arguments, leave
from cpe.runtime.swf_errors import describe_exception, swf_name_problem

_REGISTRY_HELP = "the registry: a folder, or s3://BUCKET/PREFIX (env CPE_REGISTRY)"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `deploy`, `decider` and `worker` subcommands."""
    _register_deploy(commands)
    _register_decider(commands)
    _register_worker(commands)


def _task_list(text: str) -> str:
    problem = swf_name_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{text!r} cannot be a task list: {problem}")
    return text


def _add_registry(parser: argparse.ArgumentParser, required: bool) -> None:
    default = os.environ.get("CPE_REGISTRY")
    parser.add_argument(
        "--registry",
        metavar="DIR|s3://BUCKET/PREFIX",
        default=default,
        required=required and default is None,
        help=_REGISTRY_HELP,
    )


# -- deploy -------------------------------------------------------------------


def _register_deploy(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    parser = commands.add_parser(
        "deploy",
        help="put a plan's IR in a registry and register its SWF types",
        description="Compile PLAN (or check IR), store the IR in the registry under "
        "its workflow name and version, and register the domain, the workflow type "
        "and the activity types (idempotently: deploying the same IR again changes "
        "nothing). Another IR under a deployed name and version is refused unless "
        "--force; existing SWF types whose defaults differ are warned about.",
    )
    parser.add_argument("plan", metavar="PLAN|IR", help="a plan file or compiled IR")
    _add_registry(parser, required=True)
    parser.add_argument(
        "--task-list",
        metavar="NAME",
        type=_task_list,
        help="the workflow type's default decision task list (default: the IR's)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an IR deployed under the same name and version",
    )
    add_backend_arguments(parser)
    parser.set_defaults(handler=command_deploy)


def command_deploy(arguments: argparse.Namespace) -> int:
    from cpe.compiler.cli import EXIT_OK, UsageError, WorkFailed, load_plan_or_ir
    from cpe.runtime.backends.select import BackendError, open_clients
    from cpe.runtime.registration import ensure_domain, register_plan_types
    from cpe.runtime.registry import RegistryError, open_registry

    ir = load_plan_or_ir(arguments.plan)
    workflow = ir["workflow"]
    label = f"{workflow['name']} version {workflow['version']}"
    try:
        registry = open_registry(arguments.registry)
        outcome = registry.store(
            ir, task_list=arguments.task_list, force=arguments.force
        )
    except RegistryError as error:
        raise WorkFailed(str(error)) from None
    try:
        swf, _ = open_clients(backend_choice(arguments))
        ensure_domain(swf, arguments.domain)
        report = register_plan_types(swf, arguments.domain, ir, arguments.task_list)
    except BackendError as error:
        raise UsageError(str(error)) from None
    except Exception as error:
        raise WorkFailed(
            f"the IR of {label} is in {registry.describe()}, but registering its "
            f"types in domain {arguments.domain} failed: {describe_exception(error)}; "
            "deploy again once that is fixed"
        ) from None
    for warning in report.warnings:
        print(f"cpec deploy: warning: {warning}", file=sys.stderr)
    task_list = arguments.task_list or workflow["task_list"]
    said = {
        "stored": "deployed",
        "unchanged": "already deployed",
        "replaced": "replaced",
    }
    print(
        f"{said[outcome]} {label} ({ir['content_hash']}) in {registry.describe()}; "
        f"decision task list {task_list}; domain {arguments.domain}"
    )
    for made in report.made:
        print(f"registered {made}")
    return EXIT_OK


# -- decider ------------------------------------------------------------------


def _register_decider(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    parser = commands.add_parser(
        "decider",
        help="the decider daemon, serving every workflow type of a registry",
        description="Poll the decision task list of each type deployed in the "
        "registry (or only --task-list) and answer each task with the decisions of "
        "the IR of its workflow type. Newly deployed types are picked up without a "
        "restart. SIGTERM or SIGINT: stop polling, finish the tasks in hand within "
        "--grace, exit 0.",
    )
    _add_registry(parser, required=True)
    parser.add_argument(
        "--task-list",
        metavar="NAME",
        type=_task_list,
        help="poll only this decision task list (default: every deployed type's)",
    )
    parser.add_argument(
        "--refresh",
        metavar="SECONDS",
        type=float,
        default=30.0,
        help="how often to re-read the registry for new types (default: 30)",
    )
    _add_blobs(parser)
    add_backend_arguments(parser)
    add_daemon_arguments(parser, grace=30.0)
    parser.set_defaults(handler=command_decider)


def command_decider(arguments: argparse.Namespace) -> int:
    from cpe.compiler.cli import EXIT_OK
    from cpe.runtime.backends.local import DECISION_PAGE_SIZE
    from cpe.runtime.daemon import configure_logging, stop_on_signals
    from cpe.runtime.decider_daemon import DeciderDaemon, RegistryPlans
    from cpe.runtime.observers import all_decisions, decider_observers

    if arguments.refresh <= 0:
        _usage("--refresh must be more than 0 seconds")
    configure_logging("decider", arguments.log_format, arguments.log_level)
    registry = _open_registry(arguments.registry)
    open_swf, sqs = _backend(arguments)
    daemon = DeciderDaemon(
        open_swf,
        domain=arguments.domain,
        plans=RegistryPlans(registry, arguments.refresh),
        task_list=arguments.task_list,
        on_decisions=all_decisions(decider_observers(sqs)),
        refresh=arguments.refresh,
        blobs=_blob_store(arguments),
        page_size=DECISION_PAGE_SIZE if arguments.backend == "local" else None,
    )
    with stop_on_signals() as stopping:
        daemon.run(stopping, arguments.grace)
    return leave(EXIT_OK)


# -- worker -------------------------------------------------------------------


def _register_worker(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    parser = commands.add_parser(
        "worker",
        help="the activity worker daemon for the activities some code defines",
        description="Poll the task lists of the activities defined by --activities "
        "(Python files or modules with @activity functions, or YAML/JSON files "
        "declaring command activities) and run up to --concurrency tasks at once, "
        "each in a process of its own. Task lists: --task-list, else those the "
        "registry's plans give the activities, else NAME-VERSION. SIGTERM or "
        "SIGINT: stop polling, let running tasks finish within --grace, hand back "
        "the rest, exit 0.",
    )
    parser.add_argument(
        "--activities",
        metavar="PATH|MODULE",
        action="append",
        required=True,
        help="a Python file or module, or a .yml/.yaml/.json file of command "
        "activities; repeatable",
    )
    parser.add_argument(
        "--task-list",
        metavar="NAME",
        type=_task_list,
        action="append",
        help="poll this task list; repeatable (default: see above)",
    )
    _add_registry(parser, required=False)
    parser.add_argument(
        "--concurrency",
        metavar="N",
        type=_concurrency,
        default=1,
        help="how many tasks may run at once, each in its own process (default: 1)",
    )
    parser.add_argument(
        "--heartbeat",
        metavar="SECONDS",
        type=float,
        default=10.0,
        help="how often a running task heartbeats (default: 10; keep it well "
        "under the activities' heartbeat timeouts)",
    )
    parser.add_argument(
        "--cancel-grace",
        metavar="SECONDS",
        type=float,
        default=10.0,
        help="how long a task asked to cancel may take to return before its "
        "process is stopped (default: 10)",
    )
    _add_blobs(parser)
    add_backend_arguments(parser)
    add_daemon_arguments(parser, grace=60.0)
    parser.set_defaults(handler=command_worker)


MAX_CONCURRENCY = 256


def _concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"it must be 1 to {MAX_CONCURRENCY}")
    return value


def command_worker(arguments: argparse.Namespace) -> int:
    from cpe.compiler.cli import EXIT_OK, UsageError, WorkFailed
    from cpe.runtime.activity import ActivityLoadError
    from cpe.runtime.command_activity import load_activity_sources, resolve_sources
    from cpe.runtime.daemon import configure_logging, stop_on_signals
    from cpe.runtime.observers import all_events, worker_observers
    from cpe.runtime.registry import RegistryError
    from cpe.runtime.worker_daemon import (
        WorkerDaemon,
        heartbeat_warnings,
        task_lists_for,
    )

    if arguments.heartbeat <= 0 or arguments.cancel_grace < 0:
        _usage("--heartbeat must be more than 0 and --cancel-grace 0 or more seconds")
    configure_logging("worker", arguments.log_format, arguments.log_level)
    sources = resolve_sources(arguments.activities)
    try:
        activities = load_activity_sources(sources)
    except ActivityLoadError as error:
        raise UsageError(str(error)) from None
    deployments = []
    if arguments.registry is not None:
        try:
            deployments = list(_open_registry(arguments.registry).load_all().values())
        except RegistryError as error:
            raise WorkFailed(str(error)) from None
    task_lists = task_lists_for(activities, arguments.task_list, deployments)
    for warning in heartbeat_warnings(activities, deployments, arguments.heartbeat):
        logging.getLogger("cpe.stack").warning("%s", warning)
    round_robin = len(task_lists) > arguments.concurrency
    if round_robin and arguments.backend == "aws":
        logging.getLogger("cpe.stack").warning(
            "%d task lists and %d slot(s): each slot polls the lists in turn, so "
            "a task may wait up to 60 s for every other list's poll; give "
            "--concurrency %d or run a worker per --task-list",
            len(task_lists),
            arguments.concurrency,
            len(task_lists),
        )
    open_swf, sqs = _backend(arguments, _ROUND_ROBIN_POLL if round_robin else LONG_POLL)
    swf = open_swf()
    daemon = WorkerDaemon(
        open_swf,
        domain=arguments.domain,
        task_lists=task_lists,
        activities=activities,
        sources=sources,
        concurrency=arguments.concurrency,
        heartbeat_interval=arguments.heartbeat,
        cancel_grace=arguments.cancel_grace,
        on_event=all_events(worker_observers(sqs, swf, arguments.domain)),
        blobs=_blob_store(arguments),
    )
    with stop_on_signals() as stopping:
        daemon.run(stopping, arguments.grace)
    return leave(EXIT_OK)


# -- shared -------------------------------------------------------------------

# A worker slot polls its task lists in turn: with more lists than slots, a
# task waits for the polls of the other lists. The embedded backend's polls
# are cheap, so there they are kept short; SWF's cannot be shortened.
_ROUND_ROBIN_POLL = 1.0


def _usage(message: str) -> None:
    from cpe.compiler.cli import UsageError

    raise UsageError(message)


def _add_blobs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--blobs",
        metavar="DIR|s3://BUCKET/PREFIX",
        default=os.environ.get("CPE_BLOBS"),
        help="where inputs and results too long for SWF (over 32,768 characters) "
        "are kept, for the decider and the workers alike (env CPE_BLOBS; default: "
        "DB.blobs beside the embedded backend's database; on aws, none: such "
        "texts then fail their step with a reason)",
    )


def _blob_store(arguments: argparse.Namespace) -> Any:
    from cpe.compiler.cli import UsageError
    from cpe.runtime.blobs import BlobError, open_blob_store

    location = arguments.blobs
    if location is None and arguments.backend == "local":
        location = f"{arguments.db}.blobs"
    if location is None:
        return None
    try:
        return open_blob_store(location)
    except BlobError as error:
        raise UsageError(str(error)) from None


def _open_registry(location: str) -> Any:
    from cpe.compiler.cli import UsageError
    from cpe.runtime.registry import RegistryError, open_registry

    try:
        return open_registry(location)
    except RegistryError as error:
        raise UsageError(str(error)) from None


def _backend(
    arguments: argparse.Namespace, poll_timeout: float = LONG_POLL
) -> tuple[Any, Any]:
    """A function that opens an SWF client (one per poller thread), and SQS.

    `poll_timeout` is the embedded backend's long poll when --poll-timeout
    does not say."""
    from cpe.compiler.cli import UsageError
    from cpe.runtime.backends.select import BackendError, open_clients

    choice = backend_choice(
        arguments, poll_timeout=arguments.poll_timeout or poll_timeout
    )
    if choice.kind == "local" and not Path(choice.db).exists():
        # Deploy creates it; a daemon finding none may have been given a
        # mistyped --db, and would serve an empty backend without a word.
        logging.getLogger("cpe.stack").warning(
            "there is no database %s yet: it is created empty (is --db or CPE_DB "
            "the one cpec deploy used?)",
            choice.db,
        )
    try:
        _, sqs = open_clients(choice)
    except BackendError as error:
        raise UsageError(str(error)) from None

    def open_swf() -> Any:
        return open_clients(choice)[0]

    return open_swf, sqs
