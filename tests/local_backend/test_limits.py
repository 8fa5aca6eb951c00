"""Requests SWF and SQS themselves refuse (past botocore's checks) are refused here too."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from cpe.runtime.backends.local import LocalSQS, LocalSWF, connect


@pytest.fixture
def clients(tmp_path: Path) -> tuple[LocalSWF, LocalSQS]:
    return connect(tmp_path / "limits.db", poll_timeout=0.1)


@pytest.mark.parametrize(
    ("name", "retention", "expected"),
    [
        ("x" * 300, "1", "length less than or equal to 256"),
        ("a:b", "1", "is not a valid name"),
        ("arnold", "1", "is not a valid name"),
        ("fine", "999", "at most 90 days"),
    ],
)
def test_register_domain_refuses_what_swf_refuses(
    clients: tuple[LocalSWF, LocalSQS], name: str, retention: str, expected: str
) -> None:
    swf, _ = clients
    with pytest.raises(ClientError) as caught:
        swf.register_domain(name=name, workflowExecutionRetentionPeriodInDays=retention)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert expected in str(caught.value)


def test_an_execution_input_over_32768_characters_is_refused(
    clients: tuple[LocalSWF, LocalSQS],
) -> None:
    swf, _ = clients
    swf.register_domain(name="d", workflowExecutionRetentionPeriodInDays="1")
    swf.register_workflow_type(
        domain="d",
        name="W",
        version="1",
        defaultTaskList={"name": "t"},
        defaultExecutionStartToCloseTimeout="60",
        defaultTaskStartToCloseTimeout="10",
        defaultChildPolicy="TERMINATE",
    )
    with pytest.raises(ClientError, match="length less than or equal to 32768"):
        swf.start_workflow_execution(
            domain="d",
            workflowId="w",
            workflowType={"name": "W", "version": "1"},
            input="x" * 40_000,
        )
    with pytest.raises(ClientError, match="not a valid name"):
        swf.start_workflow_execution(
            domain="d", workflowId="a|b", workflowType={"name": "W", "version": "1"}
        )
