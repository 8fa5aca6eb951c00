"""The operations commands with `--backend aws`, against moto's SWF server on
127.0.0.1, through boto3 and the standard AWS environment."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.cpec_process import cpec

DOMAIN = "ops-test"


@pytest.fixture(scope="module")
def aws_env() -> Iterator[dict[str, str]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        _start_executions(env)
        yield env
    finally:
        server.stop()


def _start_executions(env: dict[str, str]) -> None:
    swf: Any = boto3.client(
        "swf",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    swf.register_domain(name=DOMAIN, workflowExecutionRetentionPeriodInDays="1")
    swf.register_workflow_type(
        domain=DOMAIN,
        name="Transcode",
        version="1",
        defaultTaskList={"name": "decisions"},
        defaultExecutionStartToCloseTimeout="3600",
        defaultTaskStartToCloseTimeout="60",
        defaultChildPolicy="TERMINATE",
    )
    swf.register_activity_type(
        domain=DOMAIN, name="Probe", version="1", defaultTaskList={"name": "work"}
    )
    for workflow_id in ("job-1", "job-2"):
        swf.start_workflow_execution(
            domain=DOMAIN,
            workflowId=workflow_id,
            workflowType={"name": "Transcode", "version": "1"},
            input='{"file": "a.mp4"}',
        )
    # One decision that schedules a step, as a decider would answer.
    task = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": "decisions"})
    swf.respond_decision_task_completed(
        taskToken=task["taskToken"],
        decisions=[
            {
                "decisionType": "ScheduleActivityTask",
                "scheduleActivityTaskDecisionAttributes": {
                    "activityType": {"name": "Probe", "version": "1"},
                    "activityId": "probe",
                    "taskList": {"name": "work"},
                    "scheduleToCloseTimeout": "600",
                    "scheduleToStartTimeout": "300",
                    "startToCloseTimeout": "300",
                    "heartbeatTimeout": "NONE",
                },
            }
        ],
    )
    assert task["workflowExecution"]["workflowId"] in ("job-1", "job-2")


def aws(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return cpec(*arguments, "--backend", "aws", "--domain", DOMAIN, env=env)


def test_status_and_history_on_aws(aws_env: dict[str, str]) -> None:
    summary = aws(aws_env, "status")
    assert summary.returncode == 0, summary.stderr
    assert "2  Transcode 1" in summary.stdout
    scheduled = next(
        workflow_id
        for workflow_id in ("job-1", "job-2")
        if "probe" in aws(aws_env, "status", workflow_id).stdout
    )
    status = aws(aws_env, "status", scheduled)
    assert "  probe  scheduled" in status.stdout
    history = json.loads(aws(aws_env, "history", scheduled, "--format", "json").stdout)
    kinds = [e["eventType"] for e in history["events"]]
    assert kinds[0] == "WorkflowExecutionStarted" and "ActivityTaskScheduled" in kinds
    assert "T" in history["events"][0]["eventTimestamp"]
    table = aws(aws_env, "history", scheduled)
    assert "activityId=probe activityType=Probe 1" in table.stdout


def test_signal_terminate_and_listings_on_aws(aws_env: dict[str, str]) -> None:
    signaled = aws(aws_env, "signal", "job-1", "approve", "--input", '"yes"')
    assert signaled.returncode == 0, signaled.stderr
    history = json.loads(aws(aws_env, "history", "job-1", "--format", "json").stdout)
    signals = [
        e["workflowExecutionSignaledEventAttributes"]
        for e in history["events"]
        if e["eventType"] == "WorkflowExecutionSignaled"
    ]
    assert signals == [{"signalName": "approve", "input": '"yes"'}]

    ended = aws(aws_env, "terminate", "job-2", "--reason", "operator")
    assert ended.returncode == 0, ended.stderr
    listed = json.loads(aws(aws_env, "executions", "--format", "json").stdout)
    statuses = {
        i["execution"]["workflowId"]: i.get("closeStatus", i["executionStatus"])
        for i in listed["executionInfos"]
    }
    assert statuses == {"job-1": "OPEN", "job-2": "TERMINATED"}
    typed = aws(aws_env, "executions", "--type", "Transcode:1", "--status", "open")
    assert "job-1" in typed.stdout and "job-2" not in typed.stdout
    again = aws(aws_env, "terminate", "job-2")
    assert again.returncode == 1
    assert "already closed (TERMINATED)" in again.stderr


def test_mistakes_on_aws_are_one_line(aws_env: dict[str, str]) -> None:
    unknown = aws(aws_env, "status", "no-such-job")
    assert unknown.returncode == 1
    assert "no execution with workflow id no-such-job" in unknown.stderr
    no_domain = cpec("status", "--backend", "aws", "--domain", "absent", env=aws_env)
    assert no_domain.returncode == 1
    assert "there is no domain absent in AWS" in no_domain.stderr
    no_region = {k: v for k, v in aws_env.items() if "REGION" not in k}
    regionless = cpec("status", "--backend", "aws", env=no_region)
    assert regionless.returncode == 2
    assert "no AWS region is set" in regionless.stderr
    for result in (unknown, no_domain, regionless):
        assert len(result.stderr.strip().splitlines()) == 1
