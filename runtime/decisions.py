"""Building SWF decisions, as RespondDecisionTaskCompleted takes them.

Texts are kept within SWF's limits here, once, so no caller can send a reason
SWF would reject.
"""

from __future__ import annotations

from typing import Any

from cpe.runtime.swf_errors import (
    DETAILS_LIMIT,
    DURATION_DIGITS,
    NAME_LIMIT,
    PAYLOAD_LIMIT,
    REASON_LIMIT,
    shorten,
    shorten_middle,
)

Decision = dict[str, Any]

CONTROL_LIMIT = 32_768
"""SWF's maximum length of a decision's control text."""


class DecisionLimitError(ValueError):
    """A decision would break one of SWF's limits that shortening cannot mend
    (an id, a duration, an input); the message says which."""


def _checked_id(kind: str, value: str) -> str:
    if not 1 <= len(value) <= NAME_LIMIT:
        raise DecisionLimitError(
            f"the {kind} {value[:80]!r} is {len(value)} characters; SWF allows "
            f"1 to {NAME_LIMIT}"
        )
    return value


def _duration(seconds: int) -> str:
    text = str(int(seconds))
    if int(seconds) < 0 or len(text) > DURATION_DIGITS:
        raise DecisionLimitError(
            f"a timer of {seconds} s does not fit SWF's {DURATION_DIGITS}-digit durations"
        )
    return text


def schedule_activity(
    activity: dict[str, Any], *, activity_id: str, task_input: str | None
) -> Decision:
    """ScheduleActivityTask for an activity of the IR, every timeout explicit."""
    attributes: dict[str, Any] = {
        "activityType": {"name": activity["name"], "version": activity["version"]},
        "activityId": _checked_id("activity id", activity_id),
        "taskList": {"name": activity["task_list"]},
        "heartbeatTimeout": activity["heartbeat_timeout"],
        "scheduleToStartTimeout": activity["schedule_to_start_timeout"],
        "scheduleToCloseTimeout": activity["schedule_to_close_timeout"],
        "startToCloseTimeout": activity["start_to_close_timeout"],
    }
    if task_input is not None:
        if len(task_input) > PAYLOAD_LIMIT:
            raise DecisionLimitError(
                f"the input of {activity_id} is {len(task_input)} characters; SWF "
                f"carries at most {PAYLOAD_LIMIT}"
            )
        attributes["input"] = task_input
    return {
        "decisionType": "ScheduleActivityTask",
        "scheduleActivityTaskDecisionAttributes": attributes,
    }


def cancel_activity(activity_id: str) -> Decision:
    return {
        "decisionType": "RequestCancelActivityTask",
        "requestCancelActivityTaskDecisionAttributes": {
            "activityId": _checked_id("activity id", activity_id)
        },
    }


def start_timer(timer_id: str, seconds: int, control: str | None = None) -> Decision:
    """StartTimer; `control` comes back in the TimerStarted event."""
    attributes: dict[str, Any] = {
        "timerId": _checked_id("timer id", timer_id),
        "startToFireTimeout": _duration(seconds),
    }
    if control is not None:
        if len(control) > CONTROL_LIMIT:
            raise DecisionLimitError(
                f"the control of timer {timer_id} is {len(control)} characters"
            )
        attributes["control"] = control
    return {
        "decisionType": "StartTimer",
        "startTimerDecisionAttributes": attributes,
    }


def cancel_timer(timer_id: str) -> Decision:
    return {
        "decisionType": "CancelTimer",
        "cancelTimerDecisionAttributes": {"timerId": _checked_id("timer id", timer_id)},
    }


def complete_workflow(result: str) -> Decision:
    if len(result) > DETAILS_LIMIT:
        raise DecisionLimitError(
            f"the workflow result is {len(result)} characters; SWF carries at most "
            f"{DETAILS_LIMIT}"
        )
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
