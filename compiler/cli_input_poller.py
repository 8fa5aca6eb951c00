"""`cpec input-poller`: the daemon that turns a client's commands into SWF calls.

Registered by cpec's build_parser() with register(commands). SIGTERM and
SIGINT stop it cleanly: a long poll under way is abandoned (a message it was
about to hand over stays on the queue), a message in hand is finished, and
the exit code is 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from typing import Any

from cpe.compiler.cli import UsageError, WorkFailed
from cpe.compiler.cli_backend import add_backend_arguments, backend_choice
from cpe.runtime.backends.select import BackendError, open_clients
from cpe.runtime.daemon import configure_logging
from cpe.runtime.input_poller import MAX_WAIT_SECONDS, InputPoller, PollInterrupted
from cpe.runtime.job_commands import JobCommands, JobSettings
from cpe.runtime.swf_errors import describe_exception, error_code


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `input-poller` subcommand to cpec's subparsers."""
    parser = commands.add_parser(
        "input-poller",
        help="serve a client's SQS input queue: start, cancel and report jobs",
        description="Long-poll a client's SQS input queue for CPE commands "
        "(START_JOB, CANCEL_JOB, GET_JOB_STATUS, GET_JOB_LIST, GET_ACTIVITY_STATUS), "
        "carry them out on SWF and reply on the client's output queue, as the "
        "original CPE's InputPoller. See docs/protocol.md.",
    )
    parser.add_argument(
        "--queue",
        metavar="URL",
        default=os.environ.get("INPUT_QUEUE"),
        help="the client's input queue (env INPUT_QUEUE)",
    )
    parser.add_argument(
        "--output-queue",
        metavar="URL",
        default=os.environ.get("OUTPUT_QUEUE"),
        help="where to reply when a message names no client queue, e.g. a message "
        "that is not JSON (env OUTPUT_QUEUE)",
    )
    parser.add_argument(
        "--client-name",
        metavar="NAME",
        default=os.environ.get("CLIENT_NAME"),
        help="with --output-queue: the client given to jobs that name none, so "
        "they are notified (env CLIENT_NAME)",
    )
    parser.add_argument(
        "--workflow",
        metavar="NAME[:VERSION]",
        default=os.environ.get("CPE_DEFAULT_WORKFLOW"),
        help="the workflow type START_JOB starts when the job names none "
        "(env CPE_DEFAULT_WORKFLOW; VERSION defaults to 1)",
    )
    parser.add_argument(
        "--wait",
        metavar="SECONDS",
        type=_wait_seconds,
        default=MAX_WAIT_SECONDS,
        help=f"the long poll's length, 0 to {MAX_WAIT_SECONDS} (default: {MAX_WAIT_SECONDS})",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=os.environ.get("CPE_LOG_FORMAT", "text"),
        help="text lines, or one JSON object a line (env CPE_LOG_FORMAT)",
    )
    add_backend_arguments(parser)
    parser.set_defaults(handler=command_input_poller)


def _wait_seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_WAIT_SECONDS:
        raise argparse.ArgumentTypeError(f"it must be 0 to {MAX_WAIT_SECONDS}")
    return value


def _default_workflow(text: str | None) -> tuple[str, str] | None:
    if not text:
        return None
    name, _, version = text.partition(":")
    if not name:
        raise UsageError(f"--workflow {text!r} names no workflow; write NAME[:VERSION]")
    return name, version or "1"


def command_input_poller(arguments: argparse.Namespace) -> int:
    if not arguments.queue:
        raise UsageError(
            "give the client's input queue with --queue URL (or INPUT_QUEUE)"
        )
    if arguments.client_name and not arguments.output_queue:
        raise UsageError("--client-name needs --output-queue (or OUTPUT_QUEUE)")
    configure_logging("input-poller", arguments.log_format)
    try:
        swf, sqs = open_clients(backend_choice(arguments))
    except BackendError as error:
        raise UsageError(str(error)) from None
    _check_queue(sqs, arguments.queue)
    client = None
    if arguments.client_name:
        client = {
            "name": arguments.client_name,
            "queues": {"input": arguments.queue, "output": arguments.output_queue},
        }
    settings = JobSettings(
        domain=arguments.domain,
        default_workflow=_default_workflow(arguments.workflow),
        client=client,
    )
    poller = InputPoller(
        sqs,
        JobCommands(swf, settings),
        queue_url=arguments.queue,
        reply_queue=arguments.output_queue,
        wait_seconds=arguments.wait,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()
        # Shortcoming: a signal in the instant after SQS handed over a message
        # but before `receiving` is cleared abandons that message too; SQS
        # delivers it again once its visibility timeout ends.
        if poller.receiving:
            raise PollInterrupted

    previous = {
        number: signal.signal(number, on_signal)
        for number in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        poller.run(stop)
    except PollInterrupted:
        pass  # the signal came between the loop's check and its poll
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return 0


def _check_queue(sqs: Any, queue: str) -> None:
    """Fail at once, in a sentence, on a queue that cannot be read at all."""
    try:
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    except Exception as error:
        code = error_code(error) or ""
        if "NonExistentQueue" in code or "QueueDoesNotExist" in code:
            raise WorkFailed(f"the input queue {queue} does not exist") from None
        raise WorkFailed(
            f"cannot read the input queue {queue}: {describe_exception(error)}"
        ) from None
