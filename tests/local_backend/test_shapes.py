"""The shape checker itself, and every operation's response put through it once.

The clients of every test here are `Checked`; the last test makes sure that no
operation of the embedded backend goes unchecked, by calling each one and
comparing with the list of operations it implements.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from botocore import xform_name

from cpe.runtime.backends.local import LocalSQS, LocalSWF
from cpe.runtime.backends.local.validation import service_model

from .checked import Checked, check_response
from .helpers import (
    ACTIVITIES,
    ACTIVITY,
    DECISIONS,
    DOMAIN,
    WORKFLOW,
    complete,
    register_all,
    schedule,
    start,
)

EPOCH = {"oldestDate": 0}
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("response", "problem"),
    [
        ({"domainInfo": {"name": "d", "status": "REGISTERED"}, "extra": 1}, "extra"),
        ({"domainInfo": {"name": "d", "status": "GONE"}, "configuration": {}}, "enum"),
        ({"domainInfo": {"name": 3, "status": "REGISTERED"}}, "expected str"),
        (
            {"configuration": {"workflowExecutionRetentionPeriodInDays": "1"}},
            "required",
        ),
    ],
)
def test_checker_catches_what_boto3_could_not_return(
    response: dict[str, Any], problem: str
) -> None:
    with pytest.raises(AssertionError, match=problem):
        check_response("swf", "DescribeDomain", response)


def test_checker_wants_aware_timestamps_and_exact_empty_polls() -> None:
    info = {
        "domainInfo": {"name": "d", "status": "REGISTERED"},
        "configuration": {"workflowExecutionRetentionPeriodInDays": "1"},
    }
    check_response("swf", "DescribeDomain", info)
    with pytest.raises(AssertionError, match="naive"):
        check_response(
            "swf",
            "GetWorkflowExecutionHistory",
            {
                "events": [
                    {
                        "eventTimestamp": NOW.replace(tzinfo=None),
                        "eventType": "MarkerRecorded",
                        "eventId": 1,
                    }
                ]
            },
        )
    check_response("swf", "PollForActivityTask", {"startedEventId": 0})
    with pytest.raises(AssertionError, match="empty poll"):
        check_response("swf", "PollForActivityTask", {"startedEventId": 3})


def _implemented(service: str, cls: type) -> set[str]:
    names = service_model(service).operation_names
    return {name for name in names if hasattr(cls, xform_name(name))}


def _every_swf_operation(swf: Any) -> None:
    register_all(swf)
    swf.describe_domain(name=DOMAIN)
    swf.list_domains(registrationStatus="REGISTERED")
    swf.describe_workflow_type(domain=DOMAIN, workflowType=WORKFLOW)
    swf.list_workflow_types(domain=DOMAIN, registrationStatus="REGISTERED")
    swf.describe_activity_type(domain=DOMAIN, activityType=ACTIVITY)
    swf.list_activity_types(domain=DOMAIN, registrationStatus="REGISTERED")
    swf.count_pending_decision_tasks(domain=DOMAIN, taskList=DECISIONS)
    swf.poll_for_activity_task(domain=DOMAIN, taskList=ACTIVITIES)  # empty
    execution = start(swf, tagList=["t"], input="in")
    task = swf.poll_for_decision_task(domain=DOMAIN, taskList=DECISIONS)
    swf.respond_decision_task_completed(
        taskToken=task["taskToken"],
        decisions=[schedule("a"), schedule("b"), schedule("c")],
        executionContext="ctx",
    )
    swf.count_pending_activity_tasks(domain=DOMAIN, taskList=ACTIVITIES)
    tokens = [
        swf.poll_for_activity_task(domain=DOMAIN, taskList=ACTIVITIES)["taskToken"]
        for _ in range(3)
    ]
    swf.record_activity_task_heartbeat(taskToken=tokens[0], details="half")
    swf.respond_activity_task_completed(taskToken=tokens[0], result="r")
    swf.respond_activity_task_failed(taskToken=tokens[1], reason="no", details="d")
    swf.respond_activity_task_canceled(taskToken=tokens[2], details="c")
    swf.signal_workflow_execution(domain=DOMAIN, workflowId="wf-1", signalName="s")
    swf.request_cancel_workflow_execution(domain=DOMAIN, workflowId="wf-1")
    swf.describe_workflow_execution(domain=DOMAIN, execution=execution)
    swf.get_workflow_execution_history(domain=DOMAIN, execution=execution)
    swf.list_open_workflow_executions(domain=DOMAIN, startTimeFilter=EPOCH)
    swf.count_open_workflow_executions(domain=DOMAIN, startTimeFilter=EPOCH)
    task = swf.poll_for_decision_task(domain=DOMAIN, taskList=DECISIONS)
    swf.respond_decision_task_completed(
        taskToken=task["taskToken"], decisions=[complete()]
    )
    start(swf, "wf-2")
    swf.terminate_workflow_execution(domain=DOMAIN, workflowId="wf-2", reason="r")
    swf.list_closed_workflow_executions(domain=DOMAIN, closeTimeFilter=EPOCH)
    swf.count_closed_workflow_executions(domain=DOMAIN, closeTimeFilter=EPOCH)
    swf.deprecate_activity_type(domain=DOMAIN, activityType=ACTIVITY)
    swf.undeprecate_activity_type(domain=DOMAIN, activityType=ACTIVITY)
    swf.deprecate_workflow_type(domain=DOMAIN, workflowType=WORKFLOW)
    swf.undeprecate_workflow_type(domain=DOMAIN, workflowType=WORKFLOW)
    swf.deprecate_domain(name=DOMAIN)


def _every_sqs_operation(sqs: Any) -> None:
    dead = sqs.create_queue(QueueName="dead")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])
    policy = {
        "deadLetterTargetArn": arn["Attributes"]["QueueArn"],
        "maxReceiveCount": 2,
    }
    url = sqs.create_queue(
        QueueName="q", Attributes={"RedrivePolicy": json.dumps(policy)}
    )["QueueUrl"]
    sqs.get_queue_url(QueueName="q")
    sqs.list_queues()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5"})
    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    sqs.send_message(
        QueueUrl=url,
        MessageBody="one",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "a", "MessageBody": "two"}, {"Id": "b", "MessageBody": ""}],
    )
    got = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )["Messages"]
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=9
    )
    sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {
                "Id": "x",
                "ReceiptHandle": got[1]["ReceiptHandle"],
                "VisibilityTimeout": 9,
            },
            {"Id": "y", "ReceiptHandle": "junk", "VisibilityTimeout": 9},
        ],
    )
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": "x", "ReceiptHandle": got[1]["ReceiptHandle"]}]
    )
    sqs.receive_message(QueueUrl=url)  # empty
    sqs.purge_queue(QueueUrl=dead)
    sqs.delete_queue(QueueUrl=url)


def test_every_operation_answers_in_its_output_shape(
    backend: tuple[LocalSWF, LocalSQS],
) -> None:
    swf, sqs = backend
    assert isinstance(swf, Checked) and isinstance(sqs, Checked)
    _every_swf_operation(swf)
    _every_sqs_operation(sqs)
    assert set(swf.calls) == _implemented("swf", LocalSWF)
    assert set(sqs.calls) == _implemented("sqs", LocalSQS)
