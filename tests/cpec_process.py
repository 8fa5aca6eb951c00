"""Running `cpec` as a user does, in a child process, for CLI and end-to-end tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def cpec_command() -> list[str]:
    """How to start `cpec`: the installed console script, else the module."""
    program = shutil.which("cpec")
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
