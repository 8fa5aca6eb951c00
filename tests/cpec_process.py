"""Running `cpec` as a user does, in a child process, for CLI and end-to-end tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def cpec_command() -> list[str]:
    """How to start `cpec`: the console script installed beside the Python
    running the tests (not whichever `cpec` the PATH finds first), else the
    one on the PATH, else the module."""
    beside = Path(sys.executable).with_name("cpec")
    program = str(beside) if beside.is_file() else shutil.which("cpec")
    return [program] if program else [sys.executable, "-m", "cpe.compiler.cli"]


def cpec(
    *arguments: str | Path, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cpec_command(), *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env=env,
    )
