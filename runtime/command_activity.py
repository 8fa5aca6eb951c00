"""Command activities: a program, given as an argument list, as an activity.

The program gets the task input (JSON) on its stdin and writes its result
(JSON) on its stdout; a non-zero exit fails the task with the last lines of
its stderr as details. A stderr line `CPE_PROGRESS {json}` reports progress.
It is started without a shell (no quoting, no injection through the input),
in a session of its own so that a cancel stops it and whatever it started,
with the task's ids in its environment: CPE_ACTIVITY_ID, CPE_ACTIVITY_NAME,
CPE_ACTIVITY_VERSION, CPE_WORKFLOW_ID, CPE_RUN_ID and CPE_ATTEMPT.

Declared in Python, in a file or module given to `cpec worker --activities`:

    from cpe.runtime.command_activity import command_activity

    validate = command_activity(
        name="ValidateAsset", version="v2", argv=["php", "ValidateAsset.php"]
    )

or in a YAML (or JSON) file given to `--activities` the same way:

    activities:
      - name: ValidateAsset
        version: v2
        argv: [php, ValidateAsset.php]
        cwd: .                # optional, relative to this file
        env: {LOG_LEVEL: info}  # optional, added to the worker's environment

A relative program path holding a `/` (`./validate.sh`, `bin/run`) and a
relative `cwd` are read from the folder of the file that declares them.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import yaml

from cpe.runtime.activity import (
    ActivityDefinition,
    ActivityFunction,
    ActivityLoadError,
    activity,
    load_activities,
)
from cpe.runtime.activity_context import ActivityContext, ActivityFailure

logger = logging.getLogger(__name__)

PROGRESS_MARKER = "CPE_PROGRESS"
STDERR_LINES_KEPT = 20
# How long a program asked to stop (SIGTERM) may take before SIGKILL.
_STOP_GRACE = 5.0
_COMMAND_FILE_SUFFIXES = (".yml", ".yaml", ".json")


def command_activity(
    *,
    name: str,
    version: str,
    argv: Sequence[str],
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ActivityFunction:
    """An activity function that runs `argv` for each task."""
    if isinstance(argv, str) or not argv or not all(isinstance(a, str) for a in argv):
        raise ValueError(
            f"argv of command activity {name} must be a non-empty list of strings "
            "(the program and its arguments; no shell is involved)"
        )
    program = list(argv)
    extra = dict(env or {})
    folder = None if cwd is None else str(cwd)

    def run(task: Any, context: ActivityContext | None = None) -> Any:
        return run_command(program, task, context, cwd=folder, env=extra)

    run.__name__ = run.__qualname__ = f"command_{name}"
    return activity(name=name, version=version)(run)


def run_command(
    argv: Sequence[str],
    task: Any,
    context: ActivityContext | None,
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Any:
    """Run one task through the program: its stdout's JSON, or ActivityFailure."""
    try:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env={**os.environ, **(env or {}), **_task_environment(context)},
            start_new_session=True,
        )
    except OSError as error:
        raise ActivityFailure(
            f"cannot start {argv[0]}: {error.strerror or error}"
        ) from None
    assert process.stdin and process.stdout and process.stderr
    stdout: list[bytes] = []
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES_KEPT)
    threads = [
        threading.Thread(target=_feed, args=(process.stdin, task), daemon=True),
        threading.Thread(target=_collect, args=(process.stdout, stdout), daemon=True),
        threading.Thread(
            target=_watch_stderr, args=(process.stderr, tail, context), daemon=True
        ),
    ]
    for thread in threads:
        thread.start()
    canceled = _wait(process, context)
    for thread in threads:
        thread.join()
    if canceled:
        # The worker reports the task canceled whatever is returned.
        return None
    if process.returncode != 0:
        raise ActivityFailure(
            f"{argv[0]} {_exit_description(process.returncode)}",
            details="\n".join(tail) or "(nothing on stderr)",
        )
    return _result(argv[0], b"".join(stdout))


def _task_environment(context: ActivityContext | None) -> dict[str, str]:
    """What the program may want to know of its task, as environment variables."""
    if context is None:
        return {}
    return {
        "CPE_ACTIVITY_ID": context.activity_id,
        "CPE_ACTIVITY_NAME": context.activity_name,
        "CPE_ACTIVITY_VERSION": context.activity_version,
        "CPE_WORKFLOW_ID": context.workflow_id,
        "CPE_RUN_ID": context.run_id,
        "CPE_ATTEMPT": str(context.attempt),
    }


def _wait(process: subprocess.Popen[bytes], context: ActivityContext | None) -> bool:
    """Wait for the program to end; stop it on a cancel request. True if canceled."""
    while True:
        try:
            process.wait(timeout=0.2)
            return False
        except subprocess.TimeoutExpired:
            pass
        if context is not None and context.cancel_requested:
            _stop(process)
            return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    for signum, wait in ((signal.SIGTERM, _STOP_GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _exit_description(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _feed(stdin: IO[bytes], task: Any) -> None:
    try:
        with stdin:
            stdin.write(json.dumps(task).encode())
    except (BrokenPipeError, OSError):
        # A program that does not read its input is allowed to.
        pass


def _collect(stream: IO[bytes], into: list[bytes]) -> None:
    with stream:
        into.extend(iter(lambda: stream.read(65536), b""))


def _watch_stderr(
    stream: IO[bytes],
    tail: collections.deque[str],
    context: ActivityContext | None,
) -> None:
    """Progress lines go to the worker; the others to its stderr, the last kept."""
    with stream:
        for raw in stream:
            line = raw.decode(errors="replace").rstrip("\n")
            if line.startswith(PROGRESS_MARKER):
                _report_progress(line[len(PROGRESS_MARKER) :].strip(), context)
                continue
            tail.append(line)
            print(line, file=sys.stderr, flush=True)


def _report_progress(text: str, context: ActivityContext | None) -> None:
    try:
        value = json.loads(text) if text else None
    except ValueError:
        value = text
    if context is not None:
        context.progress(value)


def _result(program: str, output: bytes) -> Any:
    text = output.decode(errors="replace").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError as error:
        raise ActivityFailure(
            f"the output of {program} is not JSON: {error}",
            details=text[:2000],
        ) from None


# -- loading ------------------------------------------------------------------


def is_command_file(source: str) -> bool:
    return source.endswith(_COMMAND_FILE_SUFFIXES)


def resolve_sources(sources: Iterable[str]) -> list[str]:
    """Files as absolute paths (the worker's processes may not share its cwd)."""
    return [
        str(Path(s).resolve()) if s.endswith(".py") or is_command_file(s) else s
        for s in sources
    ]


def load_command_file(path: str) -> dict[tuple[str, str], ActivityDefinition]:
    """The command activities a YAML or JSON file declares."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise ActivityLoadError(f"{path}: cannot read it: {error.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ActivityLoadError(f"{path}: not YAML or JSON: {error}") from None
    entries = data.get("activities") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ActivityLoadError(
            f"{path}: expected a list under 'activities:', each with name, "
            "version and argv"
        )
    table: dict[tuple[str, str], ActivityDefinition] = {}
    for index, entry in enumerate(entries):
        definition = _command_definition(file, index, entry)
        if definition.key in table:
            raise ActivityLoadError(
                f"{path}: activity {definition.name} version {definition.version} "
                "is declared twice"
            )
        table[definition.key] = definition
    return table


def _command_definition(file: Path, index: int, entry: Any) -> ActivityDefinition:
    where = f"{file}: activities[{index}]"
    if not isinstance(entry, dict):
        raise ActivityLoadError(f"{where}: expected a mapping with name, version, argv")
    unknown = sorted(set(entry) - {"name", "version", "argv", "cwd", "env"})
    if unknown:
        raise ActivityLoadError(
            f"{where}: unknown key {', '.join(unknown)}; "
            "allowed: name, version, argv, cwd, env"
        )
    name, version, argv = entry.get("name"), entry.get("version"), entry.get("argv")
    if not isinstance(name, str) or not isinstance(version, str):
        raise ActivityLoadError(
            f"{where}: name and version must be strings (quote a version like '1.0')"
        )
    if (
        not isinstance(argv, list)
        or not argv
        or not all(isinstance(a, str) for a in argv)
    ):
        raise ActivityLoadError(
            f"{where}: argv must be a list of strings: the program and its "
            "arguments, run without a shell"
        )
    env = entry.get("env") or {}
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise ActivityLoadError(f"{where}: env must map names to strings")
    folder = file.resolve().parent
    program = argv[0]
    if "/" in program and not Path(program).is_absolute():
        program = str(folder / program)
    cwd = entry.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise ActivityLoadError(f"{where}: cwd must be a string")
    function = command_activity(
        name=name,
        version=version,
        argv=[program, *argv[1:]],
        cwd=None if cwd is None else folder / cwd,
        env=env,
    )
    return ActivityDefinition(name, version, function)


def load_activity_sources(
    sources: Iterable[str],
) -> dict[tuple[str, str], ActivityDefinition]:
    """Python files and modules (as `load_activities`) and command files."""
    table: dict[tuple[str, str], ActivityDefinition] = {}
    for source in sources:
        if is_command_file(source):
            found = load_command_file(source)
        else:
            found = load_activities([source])
        for key, definition in found.items():
            if key in table:
                raise ActivityLoadError(
                    f"activity {key[0]} version {key[1]} is defined twice in "
                    "--activities"
                )
            table[key] = definition
    return table
