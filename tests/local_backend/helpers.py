"""Helpers for the embedded backend's tests: names, a fake clock, shape checks."""

from __future__ import annotations

import datetime
from typing import Any

from cpe.runtime.backends.local import LocalSWF
from cpe.runtime.backends.local.validation import output_shape

DOMAIN = "test-domain"
WORKFLOW = {"name": "Flow", "version": "1"}
ACTIVITY = {"name": "Work", "version": "1"}
DECISIONS = {"name": "decisions"}
ACTIVITIES = {"name": "activities"}


class FakeClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def register_all(swf: LocalSWF, **activity_defaults: str) -> None:
    """A domain, a workflow type and an activity type with every default set."""
    swf.register_domain(name=DOMAIN, workflowExecutionRetentionPeriodInDays="1")
    swf.register_workflow_type(
        domain=DOMAIN,
        **WORKFLOW,
        defaultTaskList=DECISIONS,
        defaultExecutionStartToCloseTimeout="3600",
        defaultTaskStartToCloseTimeout="30",
        defaultChildPolicy="TERMINATE",
    )
    defaults = {
        "defaultTaskList": ACTIVITIES,
        "defaultTaskScheduleToStartTimeout": "NONE",
        "defaultTaskScheduleToCloseTimeout": "NONE",
        "defaultTaskStartToCloseTimeout": "600",
        "defaultTaskHeartbeatTimeout": "NONE",
        **activity_defaults,
    }
    swf.register_activity_type(domain=DOMAIN, **ACTIVITY, **defaults)


def _conforms(value: Any, shape: Any, path: str, required: bool) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), f"{path}: expected a dict, got {value!r}"
        for key, member in value.items():
            assert key in shape.members, f"{path}.{key}: not in {shape.name}"
            _conforms(member, shape.members[key], f"{path}.{key}", True)
        if required:
            missing = [m for m in shape.required_members if m not in value]
            assert not missing, f"{path}: required {missing} missing"
    elif kind == "list":
        assert isinstance(value, list), f"{path}: expected a list"
        for i, item in enumerate(value):
            _conforms(item, shape.member, f"{path}[{i}]", True)
    elif kind == "map":
        assert isinstance(value, dict), f"{path}: expected a map"
        for key, item in value.items():
            assert isinstance(key, str)
            _conforms(item, shape.value, f"{path}[{key}]", True)
    elif kind == "string":
        assert isinstance(value, str), f"{path}: expected str, got {value!r}"
        if shape.enum:
            assert value in shape.enum, f"{path}: {value!r} not in enum"
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), path
    elif kind == "boolean":
        assert isinstance(value, bool), path
    elif kind == "timestamp":
        assert isinstance(value, datetime.datetime), path
        assert value.tzinfo is not None, f"{path}: naive datetime"
    elif kind == "blob":
        assert isinstance(value, bytes), path
    else:
        assert isinstance(value, (int, float)), path


def conforms(
    service: str, operation: str, response: dict[str, Any], required: bool = True
) -> None:
    """Every key of the response is in botocore's output shape, with its type."""
    shape = output_shape(service, operation)
    if shape is None:
        assert response == {}, f"{operation} returns nothing, got {response!r}"
        return
    _conforms(response, shape, operation, required)


def start(swf: LocalSWF, workflow_id: str = "wf-1", **params: Any) -> dict[str, str]:
    """Start an execution; returns its WorkflowExecution reference."""
    run = swf.start_workflow_execution(
        domain=DOMAIN, workflowId=workflow_id, workflowType=WORKFLOW, **params
    )
    return {"workflowId": workflow_id, "runId": run["runId"]}


def poll_decision(swf: LocalSWF, **params: Any) -> dict[str, Any]:
    task = swf.poll_for_decision_task(
        domain=DOMAIN, taskList=DECISIONS, identity="decider", **params
    )
    conforms("swf", "PollForDecisionTask", task, required=bool(task.get("taskToken")))
    return task


def poll_activity(swf: LocalSWF) -> dict[str, Any]:
    task = swf.poll_for_activity_task(
        domain=DOMAIN, taskList=ACTIVITIES, identity="worker"
    )
    conforms("swf", "PollForActivityTask", task, required=bool(task.get("taskToken")))
    return task


def decide(swf: LocalSWF, *decisions: dict[str, Any]) -> dict[str, Any]:
    """Take the next decision task and answer it; returns the task."""
    task = poll_decision(swf)
    assert task.get("taskToken"), "expected a decision task"
    swf.respond_decision_task_completed(
        taskToken=task["taskToken"], decisions=list(decisions)
    )
    return task


def schedule(activity_id: str, **attrs: Any) -> dict[str, Any]:
    return {
        "decisionType": "ScheduleActivityTask",
        "scheduleActivityTaskDecisionAttributes": {
            "activityType": ACTIVITY,
            "activityId": activity_id,
            **attrs,
        },
    }


def complete(result: str = "done") -> dict[str, Any]:
    return {
        "decisionType": "CompleteWorkflowExecution",
        "completeWorkflowExecutionDecisionAttributes": {"result": result},
    }


def events(swf: LocalSWF, execution: dict[str, str]) -> list[dict[str, Any]]:
    response = swf.get_workflow_execution_history(domain=DOMAIN, execution=execution)
    conforms("swf", "GetWorkflowExecutionHistory", response)
    result: list[dict[str, Any]] = response["events"]
    return result


def types(swf: LocalSWF, execution: dict[str, str]) -> list[str]:
    return [e["eventType"] for e in events(swf, execution)]


def attrs(event: dict[str, Any]) -> dict[str, Any]:
    key = event["eventType"][0].lower() + event["eventType"][1:] + "EventAttributes"
    value: dict[str, Any] = event[key]
    return value


def last(swf: LocalSWF, execution: dict[str, str], event_type: str) -> dict[str, Any]:
    matching = [e for e in events(swf, execution) if e["eventType"] == event_type]
    assert matching, f"no {event_type} in history"
    return attrs(matching[-1])


def status(swf: LocalSWF, execution: dict[str, str]) -> tuple[str, str | None]:
    info = swf.describe_workflow_execution(domain=DOMAIN, execution=execution)
    conforms("swf", "DescribeWorkflowExecution", info)
    ex = info["executionInfo"]
    return ex["executionStatus"], ex.get("closeStatus")
