"""Building SWF decisions, as RespondDecisionTaskCompleted takes them.

Texts are kept within SWF's limits here, once, so no caller can send a reason
SWF would reject.
"""

from __future__ import annotations

from typing import Any

from cpe.runtime.swf_errors import DETAILS_LIMIT, REASON_LIMIT, shorten, shorten_middle

Decision = dict[str, Any]


def schedule_activity(
    activity: dict[str, Any], *, activity_id: str, task_input: str | None
) -> Decision:
    """ScheduleActivityTask for an activity of the IR, every timeout explicit."""
    attributes: dict[str, Any] = {
        "activityType": {"name": activity["name"], "version": activity["version"]},
        "activityId": activity_id,
        "taskList": {"name": activity["task_list"]},
        "heartbeatTimeout": activity["heartbeat_timeout"],
        "scheduleToStartTimeout": activity["schedule_to_start_timeout"],
        "scheduleToCloseTimeout": activity["schedule_to_close_timeout"],
        "startToCloseTimeout": activity["start_to_close_timeout"],
    }
    if task_input is not None:
        attributes["input"] = task_input
    return {
        "decisionType": "ScheduleActivityTask",
        "scheduleActivityTaskDecisionAttributes": attributes,
    }


def cancel_activity(activity_id: str) -> Decision:
    return {
        "decisionType": "RequestCancelActivityTask",
        "requestCancelActivityTaskDecisionAttributes": {"activityId": activity_id},
    }


def complete_workflow(result: str) -> Decision:
    return {
        "decisionType": "CompleteWorkflowExecution",
        "completeWorkflowExecutionDecisionAttributes": {"result": result},
    }


def cancel_workflow() -> Decision:
    return {
        "decisionType": "CancelWorkflowExecution",
        "cancelWorkflowExecutionDecisionAttributes": {},
    }


def fail_workflow(reason: str, details: str | None = None) -> Decision:
    """FailWorkflowExecution, the reason and details shortened to SWF's limits."""
    attributes: dict[str, Any] = {"reason": shorten(reason, REASON_LIMIT)}
    if details:
        attributes["details"] = shorten_middle(details, DETAILS_LIMIT)
    return {
        "decisionType": "FailWorkflowExecution",
        "failWorkflowExecutionDecisionAttributes": attributes,
    }
