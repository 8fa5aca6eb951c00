"""JobCommands and the SDK in this process, on the embedded backend."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from cpe.runtime import protocol
from cpe.runtime.client import CpeClient
from cpe.runtime.input_poller import InputPoller
from cpe.runtime.job_commands import CommandRefused, JobCommands, JobSettings
from cpe.runtime.swf_errors import PAYLOAD_LIMIT

from .conftest import DOMAIN, Stack, client_config


def command(kind: str, job_id: str | None, data: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"type": kind, "data": data}
    if job_id is not None:
        message["jobId"] = job_id
    return message


def test_a_default_workflow_and_client_fill_what_the_job_leaves_out(
    stack: Stack,
) -> None:
    client = client_config()
    commands = JobCommands(
        stack.swf,
        JobSettings(domain=DOMAIN, default_workflow=("Engine", "1"), client=client),
    )
    reply = commands.handle(command("START_JOB", "defaults", {"mode": "ok"}))
    assert reply["workflowType"] == {"name": "Engine", "version": "1"}
    assert reply["input"] == {"mode": "ok", "client": client}
    [execution] = stack.executions("defaults")
    assert execution["workflowType"] == {"name": "Engine", "version": "1"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"workflow": "Engine"}, "'data.workflow' must be an object"),
        ({"workflow": {"name": "Engine"}}, "names no workflow"),
        (
            {
                "workflow": {
                    "name": "Engine",
                    "version": "1",
                    "executionStartToCloseTimeout": "a day",
                }
            },
            "must be a whole number of seconds",
        ),
        (
            {
                "workflow": {"name": "Engine", "version": "1"},
                "blob": "x" * PAYLOAD_LIMIT,
            },
            "over SWF's input limit",
        ),
    ],
)
def test_jobs_swf_would_refuse_are_refused_with_a_reason(
    stack: Stack, data: dict[str, Any], reason: str
) -> None:
    commands = JobCommands(stack.swf, JobSettings(domain=DOMAIN))
    with pytest.raises(CommandRefused, match=reason):
        commands.handle(command("START_JOB", "refused", data))
    assert stack.executions("refused") == []


def test_status_of_a_closed_job_gives_its_result_and_activities(stack: Stack) -> None:
    commands = JobCommands(stack.swf, JobSettings(domain=DOMAIN))
    job = {"workflow": {"name": "Engine", "version": "1"}, "mode": "ok"}
    run_id = commands.handle(command("START_JOB", "finished", job))["runId"]
    execution = {"workflowId": "finished", "runId": run_id}
    # Play the decider and a worker by hand: one activity, then completion.
    task = stack.swf.poll_for_decision_task(
        domain=DOMAIN, taskList={"name": "Engine-1"}
    )
    stack.swf.respond_decision_task_completed(
        taskToken=task["taskToken"],
        decisions=[
            {
                "decisionType": "ScheduleActivityTask",
                "scheduleActivityTaskDecisionAttributes": {
                    "activityId": "start",
                    "activityType": {"name": "Echo", "version": "1"},
                    "taskList": {"name": "Echo-1"},
                    "input": "{}",
                },
            }
        ],
    )
    activity = stack.swf.poll_for_activity_task(
        domain=DOMAIN, taskList={"name": "Echo-1"}, identity="hand"
    )
    stack.swf.respond_activity_task_completed(
        taskToken=activity["taskToken"], result='{"mode": "ok"}'
    )
    task = stack.swf.poll_for_decision_task(
        domain=DOMAIN, taskList={"name": "Engine-1"}
    )
    stack.swf.respond_decision_task_completed(
        taskToken=task["taskToken"],
        decisions=[
            {
                "decisionType": "CompleteWorkflowExecution",
                "completeWorkflowExecutionDecisionAttributes": {
                    "result": '{"done": 1}'
                },
            }
        ],
    )

    status = commands.handle(command("GET_JOB_STATUS", "finished", {}))["data"]
    assert status["status"] == "CLOSED"
    assert status["closeStatus"] == "COMPLETED"
    assert status["result"] == {"done": 1}
    assert status["workflow"] == execution

    one = commands.handle(
        command("GET_ACTIVITY_STATUS", "finished", {"activityId": "start"})
    )
    assert one["data"]["activity"]["status"] == "COMPLETED"
    assert one["data"]["activity"]["result"] == {"mode": "ok"}
    assert one["data"]["activity"]["worker"] == "hand"
    every = commands.handle(command("GET_ACTIVITY_STATUS", "finished", {}))
    assert [(a["activityId"], a["status"]) for a in every["data"]["activities"]] == [
        ("start", "COMPLETED")
    ]
    assert "result" not in every["data"]["activities"][0]

    listed = commands.handle(command("GET_JOB_LIST", None, {"status": "closed"}))
    assert [job["jobId"] for job in listed["data"]["jobs"]] == ["finished"]
    assert commands.handle(command("GET_JOB_LIST", None, {}))["data"]["jobs"] == []
    with pytest.raises(CommandRefused, match="is closed already"):
        commands.handle(command("CANCEL_JOB", "finished", {}))
    with pytest.raises(CommandRefused, match="must be open, closed or all"):
        commands.handle(command("GET_JOB_LIST", None, {"status": "sleeping"}))


def test_job_lists_are_per_client(stack: Stack) -> None:
    commands = JobCommands(stack.swf, JobSettings(domain=DOMAIN))
    engine = {"name": "Engine", "version": "1"}
    for job_id, name in (("a-1", "A"), ("a-2", "A"), ("b-1", "B")):
        client = {"name": name, "queues": {"input": "in", "output": "out"}}
        commands.handle(
            command("START_JOB", job_id, {"workflow": engine, "client": client})
        )
    asked_by_a = {"client": {"name": "A", "queues": {"input": "in", "output": "out"}}}
    listed = commands.handle(command("GET_JOB_LIST", None, asked_by_a))["data"]
    assert sorted(job["jobId"] for job in listed["jobs"]) == ["a-1", "a-2"]
    everyone = commands.handle(command("GET_JOB_LIST", None, {"status": "all"}))["data"]
    assert sorted(job["jobId"] for job in everyone["jobs"]) == ["a-1", "a-2", "b-1"]


def test_a_not_json_message_is_answered_on_the_configured_queue(stack: Stack) -> None:
    poller = InputPoller(
        stack.sqs,
        JobCommands(stack.swf, JobSettings(domain=DOMAIN)),
        queue_url=stack.input_queue,
        reply_queue=stack.output_queue,
        wait_seconds=0,
    )
    stack.sqs.send_message(QueueUrl=stack.input_queue, MessageBody="{oops")
    handled = poller.poll_once()
    assert handled is not None
    assert (handled.outcome, handled.reply) == ("refused", "COMMAND_FAILED")
    reply = stack.client().wait_for(protocol.COMMAND_FAILED, wait=5)
    assert reply is not None
    assert reply["data"]["command"] is None
    assert reply["data"]["message"] == "{oops"
    assert "not JSON" in reply["data"]["reason"]
    assert poller.poll_once() is None  # deleted, not redelivered


def test_the_sdk_sends_the_original_format_and_releases_unread_messages(
    stack: Stack,
) -> None:
    client = CpeClient(stack.sqs, stack.input_queue, stack.output_queue, name="ClientA")
    job_id = client.start_job(
        None, {"n": 1}, workflow={"name": "Engine", "version": "1"}
    )
    [received] = stack.sqs.receive_message(QueueUrl=stack.input_queue)["Messages"]
    sent = json.loads(received["Body"])
    assert set(sent) == {"time", "type", "jobId", "data"}
    assert sent["type"] == "START_JOB"
    assert sent["jobId"] == job_id and len(job_id) == 32
    assert sent["data"] == {
        "n": 1,
        "workflow": {"name": "Engine", "version": "1"},
        "client": client_config(),
    }

    for number in range(3):
        stack.sqs.send_message(
            QueueUrl=stack.output_queue, MessageBody=json.dumps({"type": f"T{number}"})
        )
    stack.sqs.send_message(QueueUrl=stack.output_queue, MessageBody="not json")
    stream = client.notifications(wait=5)
    first = next(stream)
    stream.close()  # leaving the loop: the first is deleted, the rest released
    seen = [first["type"]] + [m["type"] for m in client.notifications(wait=1)]
    # The one read first was deleted; the others came back at once, read once.
    assert sorted(seen, key=str) == sorted(["T0", "T1", "T2", None], key=str)
    assert list(client.notifications(wait=0.5)) == []


class StopsWhileHandling(JobCommands):
    """Sets `stop` in the middle of a command, as a SIGTERM would."""

    def __init__(self, stack: Stack, stop: threading.Event) -> None:
        super().__init__(stack.swf, JobSettings(domain=DOMAIN))
        self.stop = stop

    def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        self.stop.set()
        return super().handle(command)


def test_a_stop_while_handling_finishes_the_message_in_hand(stack: Stack) -> None:
    stop = threading.Event()
    poller = InputPoller(
        stack.sqs,
        StopsWhileHandling(stack, stop),
        queue_url=stack.input_queue,
        wait_seconds=1,
    )
    client = stack.client()
    client.start_job("in-hand", {}, workflow=("Engine", "1"))
    client.start_job("next-one", {}, workflow=("Engine", "1"))
    poller.run(stop)  # returns once the first message is done

    assert client.wait_for(protocol.WORKFLOW_SCHEDULED, "in-hand", wait=5) is not None
    assert stack.executions("in-hand")
    assert stack.executions("next-one") == []
    left = stack.sqs.get_queue_attributes(
        QueueUrl=stack.input_queue, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert left["ApproximateNumberOfMessages"] == "1"
