"""tools/bench_backend.py runs end to end with tiny sizes and no peers.

Its numbers are not checked (timings are no test): only that cpe's runs
complete through real decider and worker processes, the SQLite floor is
measured, and the report names every figure it promises.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_benchmark_runs_with_tiny_sizes_and_no_peers() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench_backend.py"),
         "--chain", "3", "--fanout", "4", "--repeats", "1"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = done.stdout
    assert "chain: 3 no-op tasks" in report
    assert "fanout: 5 no-op tasks" in report
    assert report.count("cpe (embedded, 2 w.)") == 2
    assert report.count("SQLite floor") == 2
    assert "luigi" not in report  # no peers without --peers-python


def test_the_generated_plans_compile_to_the_promised_shapes() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from bench_backend import compiled
    finally:
        sys.path.pop(0)
    chain = compiled("chain", 4)
    assert [s["requires"] for s in chain["steps"].values()] == [[]] + [
        [{"step": f"s{i}", "status": "succeeded"}] for i in range(3)
    ]
    fanout = compiled("fanout", 6)
    join = fanout["steps"]["join"]["requires"]
    assert [r["step"] for r in join] == [f"s{i}" for i in range(6)]
    assert all(fanout["steps"][f"s{i}"]["requires"] == [] for i in range(6))
