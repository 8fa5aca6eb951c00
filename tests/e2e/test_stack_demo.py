"""tools/stack-demo, the README's stack on one machine: the original CPE's plan
and job through deploy, decider, worker and input poller daemons."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.cpec_process import ROOT


def test_the_stack_demo_runs_the_original_job_through_the_daemons(
    storage: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "CPE_DEMO_DIR": str(tmp_path),
        "CPE_STORAGE_ROOT": str(storage),
    }
    done = subprocess.run(
        [str(ROOT / "tools" / "stack-demo")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    said = [line.split()[0] for line in done.stderr.splitlines() if line.strip()]
    for kind in (
        "WORKFLOW_SCHEDULED",
        "ACTIVITY_SCHEDULED",
        "ACTIVITY_STARTED",
        "ACTIVITY_COMPLETED",
        "WORKFLOW_COMPLETED",
    ):
        assert kind in said, done.stderr
    assert '"TranscodeAssetStep"' in done.stdout
    assert (storage / "cloudtranscode-dev" / "output" / "video1.mp4").is_file()
    # Each daemon was stopped by SIGTERM and said so in its log.
    for daemon in ("decider", "worker", "input-poller"):
        log = (tmp_path / "logs" / f"{daemon}.log").read_text()
        assert log.strip(), daemon
