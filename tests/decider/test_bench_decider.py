"""The decider benchmark runs end to end on a small size (its figures are not checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "tools" / "bench_decider.py"


def test_the_benchmark_runs_and_prints_every_row() -> None:
    output = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--steps",
            "40",
            "--chain-steps",
            "5",
            "--repeat",
            "1",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    rows = [line.split() for line in output.splitlines() if line[:10].strip().isdigit()]
    assert [row[0] for row in rows] == ["5", "10", "20", "40"]
    assert [row[1] for row in rows] == ["33", "63", "123", "243"]
    assert "5-step chain through the DecisionPoller, 6 decision tasks" in output
    assert "simpleflow (QUOTED, not measured)" in output
