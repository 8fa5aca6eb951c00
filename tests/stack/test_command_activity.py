"""Command activities: a program run without a shell, JSON in and out."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from cpe.runtime.activity_context import (
    ActivityContext,
    ActivityFailure,
    current_context,
)
from cpe.runtime.command_activity import (
    command_activity,
    load_command_file,
    run_command,
)
from tests.stack.helpers import COMMANDS, FIXTURES

SQUARE = [sys.executable, str(FIXTURES / "commands" / "square.py")]


def _context(
    progress: list[Any], cancel: threading.Event | None = None
) -> ActivityContext:
    return ActivityContext(
        activity_id="square#3",
        activity_name="Square",
        activity_version="1",
        workflow_id="w",
        run_id="r",
        _progress=progress.append,
        _cancel=cancel or threading.Event(),
    )


def test_the_input_goes_to_stdin_and_stdout_is_the_result() -> None:
    progress: list[Any] = []
    context = _context(progress)
    assert run_command(SQUARE, {"n": 9}, context) == {"square": 81}
    assert progress == [{"percent": 50}]
    assert context.attempt == 3


def test_a_nonzero_exit_fails_with_the_last_lines_of_stderr() -> None:
    with pytest.raises(ActivityFailure) as failure:
        run_command(SQUARE, {"n": 1, "fail": "no"}, None)
    assert failure.value.reason.endswith("exited with code 3")
    assert failure.value.details == "starting\ncannot square: no"


def test_output_that_is_not_json_fails_the_task() -> None:
    with pytest.raises(ActivityFailure) as failure:
        run_command([sys.executable, "-c", "print('done!')"], {}, None)
    assert "is not JSON" in failure.value.reason
    assert failure.value.details == "done!"


def test_arguments_reach_the_program_unquoted_without_a_shell(tmp_path: Path) -> None:
    script = "import json, sys; print(json.dumps(sys.argv[1:]))"
    argv = [sys.executable, "-c", script, "$HOME", "; rm -rf /", "a b"]
    assert run_command(argv, None, None) == ["$HOME", "; rm -rf /", "a b"]


def test_a_missing_program_fails_saying_so() -> None:
    with pytest.raises(ActivityFailure) as failure:
        run_command(["/nonexistent/program"], {}, None)
    assert "cannot start /nonexistent/program" in failure.value.reason


def test_a_cancel_request_stops_the_program() -> None:
    cancel = threading.Event()
    cancel.set()
    result = run_command(SQUARE, {"n": 2, "sleep": 60}, _context([], cancel))
    assert result is None


def test_a_python_declaration_and_a_yaml_file_give_activities() -> None:
    function = command_activity(name="Square", version="1", argv=SQUARE)
    assert function({"n": 4}) == {"square": 16}
    table = load_command_file(str(COMMANDS))
    assert table[("Square", "1")].function({"n": 5}) == {"square": 25}


def test_argv_must_be_a_list() -> None:
    with pytest.raises(ValueError, match="no shell"):
        command_activity(name="A", version="1", argv="echo hi")  # type: ignore[arg-type]


def test_there_is_no_context_outside_a_worker() -> None:
    with pytest.raises(LookupError, match="cpec worker"):
        current_context()


def test_the_program_gets_the_task_ids_in_its_environment() -> None:
    script = (
        "import json, os; print(json.dumps({k: os.environ[k] for k in "
        "('CPE_ACTIVITY_ID', 'CPE_WORKFLOW_ID', 'CPE_ATTEMPT')}))"
    )
    result = run_command([sys.executable, "-c", script], {}, _context([]))
    assert result == {
        "CPE_ACTIVITY_ID": "square#3",
        "CPE_WORKFLOW_ID": "w",
        "CPE_ATTEMPT": "3",
    }
