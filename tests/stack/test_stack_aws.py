"""The same stack on the aws backend: real boto3 over HTTP to a moto server.

The server listens on 127.0.0.1 only, on a free port, and is stopped by the
fixture; the credentials are dummies. The daemons find it through
AWS_ENDPOINT_URL, exactly as they would find LocalStack, and store the IR in
an S3 registry on the same server.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.cpec_process import cpec
from tests.stack.helpers import (
    BASIC,
    COMMANDS,
    FIXTURES,
    Daemon,
    attributes,
    daemons,
    event_types,
    start,
    start_execution,
    wait_closed,
)

__all__ = ["daemons"]  # the fixture, used by name

DOMAIN = "cpe-test"
BUCKET = "cpe-registry"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CPE_BACKEND": "aws",
        "CPE_DOMAIN": DOMAIN,
    }
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    try:
        yield env
    finally:
        server.stop()


def _clients(env: dict[str, str]) -> tuple[Any, Any]:
    session = boto3.session.Session(region_name="us-east-1")
    return (
        session.client("swf", endpoint_url=env["AWS_ENDPOINT_URL"]),
        session.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"]),
    )


def test_a_plan_deployed_to_s3_runs_on_daemons_against_the_aws_api(
    daemons: list[Daemon], aws_env: dict[str, str]
) -> None:
    swf, s3 = _clients(aws_env)
    s3.create_bucket(Bucket=BUCKET)
    registry = f"s3://{BUCKET}/prod/plans"
    deployed = cpec(
        "deploy", FIXTURES / "plans" / "square.yml", "--registry", registry, env=aws_env
    )
    assert deployed.returncode == 0, deployed.stderr
    assert "registered workflow Squares version 1" in deployed.stdout
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert "prod/plans/workflows/Squares/1/ir.json" in keys
    again = cpec(
        "deploy", FIXTURES / "plans" / "square.yml", "--registry", registry, env=aws_env
    )
    assert again.returncode == 0, again.stderr
    assert "already deployed Squares version 1" in again.stdout
    assert "warning" not in again.stderr

    decider = start(daemons, "decider", "--registry", registry, env=aws_env)
    decider.wait_for("polling decision task list Squares-1")
    worker = start(
        daemons,
        "worker",
        "--activities",
        COMMANDS,
        "--activities",
        BASIC,
        "--registry",
        registry,
        "--heartbeat",
        "0.5",
        env=aws_env,
    )
    worker.wait_for("event=polling")
    execution = start_execution(swf, DOMAIN, "Squares", "1", '{"n": 12}', "aws-1")
    events = wait_closed(swf, DOMAIN, execution)
    assert event_types(events)[-1] == "WorkflowExecutionCompleted", attributes(
        events[-1]
    )
    result = json.loads(attributes(events[-1])["result"])
    assert result["square"] == {"square": 144}
    assert worker.stop() == 0
    assert decider.stop() == 0
    assert "event=stopped" in worker.log and "event=stopped" in decider.log
