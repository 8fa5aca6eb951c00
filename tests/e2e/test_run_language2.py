"""A plan of language 2 run whole on the embedded backend: retries on timers,
a fan-out, a wait step and the workflow output, with real worker processes."""

from __future__ import annotations

import io
import json
from pathlib import Path

from cpe.compiler import compile_text
from cpe.runtime.runner import run_plan
from tests.cpec_process import cpec
from tests.decider.ir_factory import as_wait, with_for_each, with_output, with_retry

BASIC = Path(__file__).parents[1] / "fixtures" / "activities" / "basic.py"

PLAN = """
name: Lang2Run
version: "1"
activities:
  - name: Echo
    version: "1"
    outputs_spec:
      value: "$.value"
  - name: Boom
    version: "1"
steps:
  - name: probe
    activity: Echo
    input: '{"value": [1, 2, 3]}'
  - name: square
    activity: Echo
    requires: [probe]
  - name: flaky
    activity: Boom
    input: '{"why": "always"}'
  - name: after
    activity: Echo
    requires: [[flaky, failed]]
    input: '{"value": "handled"}'
  - name: pause
    activity: Echo
"""


def test_a_language_2_plan_runs_to_its_output(tmp_path: Path) -> None:
    ir = compile_text(PLAN)
    ir["plan_language"] = 2
    with_for_each(
        ir,
        "square",
        source="probe",
        path=[{"key": "value"}],
        as_name="n",
        template='{"value": {{ n * n }}}',
        max_concurrency=2,
    )
    with_retry(ir, "flaky", max_attempts=2, interval=0)
    as_wait(ir, "pause", 1)
    with_output(
        ir,
        '{"squares": {{ square.value }}, "after": {{ after.value }}}',
        [{"kind": "step", "step": "square", "path": ["value"]}],
    )
    progress = io.StringIO()
    outcome = run_plan(
        ir,
        "{}",
        activity_sources=[str(BASIC)],
        workers=2,
        db=str(tmp_path / "run.sqlite"),
        progress=progress,
    )
    assert outcome.close_status == "COMPLETED", (outcome.reason, progress.getvalue())
    assert outcome.result == {"squares": [1, 4, 9], "after": "handled"}
    said = [" ".join(line.split()) for line in progress.getvalue().splitlines()]
    assert "flaky#2 retry in 0 s" in said
    assert "pause waited; succeeded" in said
    assert "square 3 items; succeeded" in said


BIG_PLAN = """
name: BigRun
version: "1"
activities:
  - name: Echo
    version: "1"
steps:
  - name: big
    activity: Echo
    input: '{"value": {{ __input__.s * __input__.n }}}'
"""


def test_texts_too_long_for_swf_travel_through_the_blob_store(tmp_path: Path) -> None:
    ir = with_output(
        compile_text(BIG_PLAN),
        '{"length": {{ big.value | length }}}',
        [{"kind": "step", "step": "big", "path": ["value"]}],
    )
    db = tmp_path / "run.sqlite"
    workflow_input = '{"s": "x", "n": 40000}'
    outcome = run_plan(
        ir, workflow_input, activity_sources=[str(BASIC)], workers=1, db=str(db)
    )
    assert outcome.close_status == "COMPLETED", outcome.reason
    assert outcome.result == {"length": 40000}
    # The input and the result, each once, kept beside the database.
    assert len(list(Path(f"{db}.blobs").glob("*.txt"))) == 2


def test_a_plan_without_activities_runs_without_workers(tmp_path: Path) -> None:
    plan = tmp_path / "nap.yml"
    plan.write_text(
        'name: Nap\nversion: "1"\nlanguage: 2\nactivities: []\n'
        "steps:\n  - {name: nap, wait: 1}\noutput: '{\"napped\": true}'\n"
    )
    done = cpec("run", plan, "--db", tmp_path / "nap.sqlite")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"napped": True}
    assert "worker process exited" not in done.stderr
