"""What every long-lived cpe process shares: logging, stopping on signals.

The decider, the worker and the input poller run as services. Each logs one
line per lifecycle event (a task taken, answered, handed back; the daemon
started or stopped), as text for a terminal or as one JSON object per line
for a log collector, and each stops the same way on SIGTERM or SIGINT: it
stops taking work, lets the work in hand finish within a grace period,
hands back (by not answering) whatever is still running then, and exits 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

LOG_FORMATS = ("text", "json")

LOG_FIELDS = "cpe_fields"
"""The `extra` key under which a log record carries its fields (ids, outcome),
which the formatters below write beside the message."""


def add_daemon_arguments(parser: argparse.ArgumentParser, *, grace: float) -> None:
    """--log-format, --log-level, --grace and --poll-timeout."""
    group = parser.add_argument_group("daemon")
    group.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=os.environ.get("CPE_LOG_FORMAT", "text"),
        help="text lines, or one JSON object per line (env CPE_LOG_FORMAT; "
        "default: text)",
    )
    group.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default=os.environ.get("CPE_LOG_LEVEL", "info"),
        help="the least severe messages logged (env CPE_LOG_LEVEL; default: info)",
    )
    group.add_argument(
        "--grace",
        metavar="SECONDS",
        type=_non_negative,
        default=grace,
        help="on SIGTERM or SIGINT, how long work in hand may take to finish "
        f"before it is handed back unanswered (default: {grace:g})",
    )
    group.add_argument(
        "--poll-timeout",
        metavar="SECONDS",
        type=_positive,
        default=None,
        help="how long one poll of the embedded backend waits for a task, as "
        "SWF's long poll does (default: 60, or 1 for a worker with more task "
        "lists than slots; SWF itself always waits 60)",
    )


def _positive(text: str) -> float:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("it must be more than 0")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more seconds")
    return value


class _TextFormatter(logging.Formatter):
    def __init__(self, daemon: str) -> None:
        super().__init__()
        self._daemon = daemon

    def format(self, record: logging.LogRecord) -> str:
        when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        fields: dict[str, Any] = getattr(record, LOG_FIELDS, {})
        shown = " ".join(f"{key}={value}" for key, value in fields.items() if value)
        line = f"{when}Z {record.levelname} cpec {self._daemon}: {record.getMessage()}"
        if shown:
            line += f" [{shown}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class _JsonFormatter(logging.Formatter):
    def __init__(self, daemon: str) -> None:
        super().__init__()
        self._daemon = daemon

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "daemon": self._daemon,
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, LOG_FIELDS, {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(daemon: str, log_format: str, level: str = "info") -> None:
    """Log to stderr as `log_format` (text or json), from `level` up."""
    handler = logging.StreamHandler(sys.stderr)
    formatter: logging.Formatter = (
        _JsonFormatter(daemon) if log_format == "json" else _TextFormatter(daemon)
    )
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # botocore logs every retry of its own at INFO; ours say more.
    logging.getLogger("botocore").setLevel(logging.WARNING)


def lifecycle(
    log: logging.Logger, event: str, message: str, *args: object, **ids: Any
) -> None:
    """Log one lifecycle event at INFO, with its ids as fields of the line.

    `event` names what happened (`task_started`, `decisions_sent`, ...);
    `ids` are `workflow_id`, `run_id`, `activity_id` and the like.
    """
    fields = {"event": event, **{k: v for k, v in ids.items() if v is not None}}
    log.info(message, *args, extra={LOG_FIELDS: fields})


class Stopping:
    """Set by the first SIGTERM or SIGINT; `hurry` by the second.

    `requested` says polling must stop; `hurry` says the grace period is over
    at once (an operator who presses Ctrl-C twice does not want to wait).
    """

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.hurry = threading.Event()
        self.signal_name = ""

    def handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.requested.is_set():
            self.hurry.set()
            logging.getLogger(__name__).warning(
                "%s again: handing back the work in hand now", name
            )
            return
        self.signal_name = name
        self.requested.set()


@contextmanager
def stop_on_signals() -> Iterator[Stopping]:
    """SIGTERM and SIGINT set the `Stopping` events instead of killing."""
    stopping = Stopping()
    previous = {
        signum: signal.signal(signum, stopping.handle)
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield stopping
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def wait_until(
    condition: Any, deadline: float, hurry: threading.Event, step: float = 0.05
) -> bool:
    """Wait until `condition()` is true, `deadline` passes or `hurry` is set.

    True if the condition came true.
    """
    while not condition():
        if hurry.is_set() or time.monotonic() >= deadline:
            return bool(condition())
        hurry.wait(min(step, max(deadline - time.monotonic(), 0.0)))
    return True


def join_for(threads: Iterable[threading.Thread], seconds: float) -> None:
    """Wait up to `seconds` in all for `threads` to end (polls under way end
    on their own; `leave` deals with the ones that do not in time)."""
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))


def leave(code: int) -> int:
    """End a daemon's process once its work is done or handed back.

    Its polling threads may still sit in a long poll (up to a minute on SWF)
    that nothing can interrupt; letting the interpreter shut down under them
    can crash it in the middle of a database or HTTP call. So when any such
    thread is still alive, the logs and streams are flushed and the process
    leaves at once with `code`; otherwise `code` is returned as usual.
    """
    lingering = [
        thread
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and thread.is_alive()
    ]
    if not lingering:
        return code
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
