"""`cpec run` end to end: compile, embedded backend, decider, worker processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import av
import pytest

from cpe.runtime.backends.local import connect
from tests.cpec_process import cpec, cpec_command

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "plans" / "transcode"
COMPAT = ROOT / "tests" / "compat"
FIXTURES = ROOT / "tests" / "fixtures"
BASIC = FIXTURES / "activities" / "basic.py"


def test_the_example_job_transcodes_the_shipped_video(
    storage: Path, tmp_path: Path
) -> None:
    db = tmp_path / "run.sqlite"
    result = cpec(
        "run", EXAMPLE / "plan.yml", "--input", f"@{EXAMPLE / 'job.json'}", "--db", db
    )
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout)
    assert list(outputs) == [
        "ValidateAssetStep",
        "TranscodeAssetStep",
        "MakeThumbnailStep",
        "WriteManifestStep",
    ]
    assert outputs["ValidateAssetStep"]["duration"] == pytest.approx(3.0, abs=0.1)
    video = storage / "cloudtranscode-dev" / "output" / "video1-360p.mp4"
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (480, 270)
    assert "WriteManifestStep   succeeded" in result.stderr
    assert "workflow completed" in result.stderr
    assert db.is_file()  # --db keeps the database for inspection


def test_the_compat_plan_runs_unchanged_with_the_example_activities(
    storage: Path, tmp_path: Path
) -> None:
    # The original client SDK sent the job data with the client's configuration.
    job = json.loads((COMPAT / "input_video1.json").read_text())
    job["client"] = json.loads((COMPAT / "clientConfigSample.json").read_text())
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(job))
    result = cpec(
        "run",
        COMPAT / "ct_plan.yml",
        "--input",
        f"@{job_file}",
        "--activities",
        EXAMPLE / "activities.py",
        "--workers",
        "2",
    )
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout)
    assert outputs["ValidateAssetStep"]["metadata"]["format"]["duration"] > 0
    assert (storage / "cloudtranscode-dev" / "output" / "video1.mp4").is_file()


def test_a_handled_failure_runs_the_recovery_step() -> None:
    plan = FIXTURES / "plans" / "engine.yml"
    result = cpec("run", plan, "--input", '{"mode": "fail"}', "--activities", BASIC)
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout)
    assert outputs["recover"] == {"mode": "fail"}  # Echo's outputs_spec keeps mode only
    assert "explode  failed: ValueError: boom: asked to" in result.stderr.replace(
        "   ", " "
    )


def test_a_failure_handler_is_skipped_when_nothing_failed() -> None:
    plan = FIXTURES / "plans" / "engine.yml"
    result = cpec("run", plan, "--input", '{"mode": "ok"}', "--activities", BASIC)
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)) == ["start", "explode"]
    assert "recover  skipped: explode is succeeded, not failed" in result.stderr


def test_an_unhandled_failure_exits_1_with_the_reason(tmp_path: Path) -> None:
    plan = tmp_path / "fail.yml"
    plan.write_text(
        "name: F\nversion: '1'\nactivities: [{name: Boom, version: '1'}]\n"
        'steps:\n  - {name: only, activity: Boom, input: \'{"why": "always"}\'}\n'
    )
    result = cpec("run", plan, "--activities", BASIC)
    assert result.returncode == 1
    assert result.stdout == ""
    assert (
        "the workflow failed: step only failed: ValueError: boom: always"
        in result.stderr
    )
    assert "Traceback" in result.stderr  # the activity's traceback, as details


def test_invalid_workflow_input_fails_the_workflow() -> None:
    plan = FIXTURES / "plans" / "engine.yml"
    result = cpec("run", plan, "--input", '{"mode": "sideways"}', "--activities", BASIC)
    assert result.returncode == 1
    assert "the workflow input does not match the plan's input_spec" in result.stderr


def test_a_dying_worker_is_replaced_and_its_task_times_out() -> None:
    result = cpec("run", FIXTURES / "plans" / "crash.yml", "--activities", BASIC)
    assert result.returncode == 1
    assert "a worker process exited (code 17)" in result.stderr
    assert "step die failed: timed out (HEARTBEAT)" in result.stderr


def test_missing_activity_code_is_reported_before_starting() -> None:
    result = cpec("run", EXAMPLE / "plan.yml", "--activities", BASIC)
    assert result.returncode == 1
    assert "no code for activity" in result.stderr
    assert "ValidateAsset v2" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_plan_is_not_run(tmp_path: Path) -> None:
    plan = tmp_path / "broken.yml"
    plan.write_text(
        "name: B\nversion: '1'\nactivities: []\nsteps: [{name: s, activity: X}]\n"
    )
    result = cpec("run", plan, "--activities", BASIC)
    assert result.returncode == 1
    assert f"{plan}:5:" in result.stderr or f"{plan}:4:" in result.stderr
    assert "Traceback" not in result.stderr


def test_conditions_choose_which_steps_run() -> None:
    plan = FIXTURES / "plans" / "conditional.yml"
    result = cpec(
        "run", plan, "--input", '{"mode": "hd", "height": 1080}', "--activities", BASIC
    )
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)) == [
        "start",
        "hd_only",
        "after_start_succeeded",
    ]
    result = cpec(
        "run", plan, "--input", '{"mode": "sd", "height": 1080}', "--activities", BASIC
    )
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)) == ["start", "after_start_succeeded"]


def test_what_an_activity_prints_stays_off_the_result() -> None:
    plan = FIXTURES / "plans" / "slow.yml"
    result = cpec("run", plan, "--input", '{"seconds": 0}', "--activities", BASIC)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"nap": {"slept": 0}}
    assert "a line an activity prints" in result.stderr


def test_two_runs_cannot_share_a_database(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    slow = [FIXTURES / "plans" / "slow.yml", "--activities", BASIC, "--db", db]
    command = [*cpec_command(), "run", *map(str, slow), "--input", '{"seconds": 5}']
    with subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as first:
        deadline = time.monotonic() + 30
        while not db.exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # until the first run has made (and locked) the database
        second = cpec("run", *slow, "--input", '{"seconds": 0}')
        assert second.returncode == 1
        assert "another cpec run is using the database" in second.stderr
        assert first.wait(timeout=60) == 0


def test_a_step_whose_outputs_cannot_be_read_is_shown_failed(tmp_path: Path) -> None:
    plan = tmp_path / "outputs.yml"
    plan.write_text(
        "name: O\nversion: '1'\nactivities:\n"
        "  - {name: Echo, version: '1', outputs_spec: {size: '$.size'}}\n"
        "steps:\n  - {name: only, activity: Echo, input: '{\"other\": 1}'}\n"
    )
    result = cpec("run", plan, "--activities", BASIC)
    assert result.returncode == 1
    assert (
        "only  failed: output 'size' ($.size) found nothing in its result"
        in result.stderr
    )


@pytest.mark.parametrize(
    ("signals", "code"),
    [
        ([signal.SIGINT], 130),
        ([signal.SIGTERM], 143),
        # Ctrl-C pressed twice, or `timeout` forwarding its own SIGINT.
        ([signal.SIGINT, signal.SIGINT], 130),
    ],
)
def test_an_interrupted_run_terminates_its_execution_and_exits_promptly(
    tmp_path: Path, signals: list[signal.Signals], code: int
) -> None:
    db = tmp_path / "interrupted.db"
    command = [
        *cpec_command(),
        "run",
        str(FIXTURES / "plans" / "slow.yml"),
        "--activities",
        str(BASIC),
        "--db",
        str(db),
        "--workflow-id",
        "nap",
        "--input",
        '{"seconds": 120}',
    ]
    with subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives
    ) as run:
        assert run.stderr is not None
        for line in run.stderr:
            if "nap" in line and "started" in line and "cpec:" not in line:
                break  # the activity is running in a worker process
        for signum in signals:
            os.killpg(run.pid, signum)
            time.sleep(0.05)
        began = time.monotonic()
        assert run.wait(timeout=60) == code
        assert time.monotonic() - began < 30  # not the activity's 120 s
    swf, _ = connect(db)
    listed = swf.list_closed_workflow_executions(
        domain="cpe-local",
        startTimeFilter={"oldestDate": 0},
        executionFilter={"workflowId": "nap"},
    )["executionInfos"]
    assert [info["closeStatus"] for info in listed] == ["TERMINATED"]
