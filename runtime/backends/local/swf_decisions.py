"""Applying a decider's decisions to an execution, in order, as SWF does."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cpe.runtime.backends.local import swf_state
from cpe.runtime.backends.local.errors import swf_error
from cpe.runtime.backends.local.store import Tx
from cpe.runtime.backends.local.swf_registry import find_type
from cpe.runtime.backends.local.timeouts import check_duration, parse_duration


@dataclass
class Ctx:
    tx: Tx
    execution: int
    completed: int  # eventId of the DecisionTaskCompleted event
    unseen: bool  # events arrived since the decision task started

    def append(self, event_type: str, attrs: dict[str, Any]) -> int:
        return swf_state.append(
            self.tx,
            self.execution,
            event_type,
            {**attrs, "decisionTaskCompletedEventId": self.completed},
        )


def attributes_key(decision_type: str) -> str:
    return decision_type[0].lower() + decision_type[1:] + "DecisionAttributes"


# Decisions whose attributes have required members, so must be present.
_NEEDS_ATTRIBUTES = frozenset(
    {
        "ScheduleActivityTask",
        "RequestCancelActivityTask",
        "RecordMarker",
        "StartTimer",
        "CancelTimer",
        "SignalExternalWorkflowExecution",
        "RequestCancelExternalWorkflowExecution",
        "StartChildWorkflowExecution",
        "ScheduleLambdaFunction",
    }
)
_DURATIONS = {
    "ScheduleActivityTask": (
        "scheduleToCloseTimeout",
        "scheduleToStartTimeout",
        "startToCloseTimeout",
        "heartbeatTimeout",
    ),
    "StartTimer": ("startToFireTimeout",),
}


def check(tx: Tx, decisions: list[dict[str, Any]]) -> None:
    """Refuse the whole answer, as SWF does, when a decision is malformed."""
    for index, decision in enumerate(decisions):
        kind = decision["decisionType"]
        if kind not in _HANDLERS:
            raise swf_error(
                "ValidationException",
                f"decisions.{index}.member.decisionType: unknown value '{kind}'",
                tx.operation,
            )
        attrs = decision.get(attributes_key(kind))
        if kind in _NEEDS_ATTRIBUTES and attrs is None:
            raise swf_error(
                "ValidationException",
                f"decisions.{index}: {attributes_key(kind)} is required for {kind}",
                tx.operation,
            )
        for name in _DURATIONS.get(kind, ()):
            check_duration((attrs or {}).get(name), name, tx.operation)
        if kind == "StartTimer" and attrs is not None:
            if (
                parse_duration(
                    attrs["startToFireTimeout"], "startToFireTimeout", tx.operation
                )
                is None
            ):
                raise swf_error(
                    "ValidationException",
                    "startToFireTimeout must be a whole number of seconds",
                    tx.operation,
                )


def apply(
    tx: Tx,
    execution: int,
    completed: int,
    decisions: list[dict[str, Any]],
    unseen: bool,
) -> None:
    ctx = Ctx(tx, execution, completed, unseen)
    for decision in decisions:
        if swf_state.execution_row(tx, execution)["status"] != "OPEN":
            # A close decision succeeded; nothing after it can take effect.
            break
        kind = decision["decisionType"]
        _HANDLERS[kind](ctx, decision.get(attributes_key(kind)) or {})


def _schedule_activity(ctx: Ctx, a: dict[str, Any]) -> None:
    tx = ctx.tx
    exe = swf_state.execution_row(tx, ctx.execution)
    ref = a["activityType"]

    def failed(cause: str) -> None:
        ctx.append(
            "ScheduleActivityTaskFailed",
            {"activityType": ref, "activityId": a["activityId"], "cause": cause},
        )

    row = find_type(tx, "activity", exe["domain"], ref["name"], ref["version"])
    if row is None:
        return failed("ACTIVITY_TYPE_DOES_NOT_EXIST")
    if row["status"] != "REGISTERED":
        return failed("ACTIVITY_TYPE_DEPRECATED")
    in_use = tx.db.execute(
        "SELECT 1 FROM swf_activity_tasks WHERE execution = ? AND activity_id = ?",
        (ctx.execution, a["activityId"]),
    ).fetchone()
    if in_use:
        return failed("ACTIVITY_ID_ALREADY_IN_USE")
    defaults: dict[str, Any] = json.loads(row["config"])
    resolved: dict[str, Any] = {}
    for name, default, cause in (
        ("taskList", "defaultTaskList", "DEFAULT_TASK_LIST_UNDEFINED"),
        (
            "scheduleToCloseTimeout",
            "defaultTaskScheduleToCloseTimeout",
            "DEFAULT_SCHEDULE_TO_CLOSE_TIMEOUT_UNDEFINED",
        ),
        (
            "scheduleToStartTimeout",
            "defaultTaskScheduleToStartTimeout",
            "DEFAULT_SCHEDULE_TO_START_TIMEOUT_UNDEFINED",
        ),
        (
            "startToCloseTimeout",
            "defaultTaskStartToCloseTimeout",
            "DEFAULT_START_TO_CLOSE_TIMEOUT_UNDEFINED",
        ),
        (
            "heartbeatTimeout",
            "defaultTaskHeartbeatTimeout",
            "DEFAULT_HEARTBEAT_TIMEOUT_UNDEFINED",
        ),
    ):
        value = a.get(name, defaults.get(default))
        if value is None:
            return failed(cause)
        resolved[name] = value
    priority = a.get("taskPriority", defaults.get("defaultTaskPriority"))
    scheduled = ctx.append(
        "ActivityTaskScheduled",
        {
            "activityType": ref,
            "activityId": a["activityId"],
            "input": a.get("input"),
            "control": a.get("control"),
            **resolved,
            "taskPriority": priority,
        },
    )

    def seconds(name: str) -> int | None:
        return parse_duration(resolved[name], name, tx.operation)

    task_id = tx.db.execute(
        "INSERT INTO swf_activity_tasks (execution, domain, task_list, priority, "
        "activity_id, type_name, type_version, input, state, scheduled_event_id, "
        "scheduled, schedule_to_start, schedule_to_close, start_to_close, "
        "heartbeat_timeout) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'SCHEDULED', ?, ?, ?, ?, "
        "?, ?) RETURNING id",
        (
            ctx.execution,
            exe["domain"],
            resolved["taskList"]["name"],
            int(priority or 0),
            a["activityId"],
            ref["name"],
            ref["version"],
            a.get("input"),
            scheduled,
            tx.now,
            seconds("scheduleToStartTimeout"),
            seconds("scheduleToCloseTimeout"),
            seconds("startToCloseTimeout"),
            seconds("heartbeatTimeout"),
        ),
    ).fetchone()[0]
    swf_state.refresh_activity_deadline(tx, task_id)
    tx.db.execute(
        "UPDATE swf_executions SET latest_activity = ? WHERE id = ?",
        (tx.now, ctx.execution),
    )


def _request_cancel_activity(ctx: Ctx, a: dict[str, Any]) -> None:
    task = ctx.tx.db.execute(
        "SELECT * FROM swf_activity_tasks WHERE execution = ? AND activity_id = ?",
        (ctx.execution, a["activityId"]),
    ).fetchone()
    if task is None:
        ctx.append(
            "RequestCancelActivityTaskFailed",
            {"activityId": a["activityId"], "cause": "ACTIVITY_ID_UNKNOWN"},
        )
        return
    requested = ctx.append(
        "ActivityTaskCancelRequested", {"activityId": a["activityId"]}
    )
    if task["state"] == "SCHEDULED":
        # No worker has it yet, so SWF cancels it on the spot.
        ctx.tx.db.execute("DELETE FROM swf_activity_tasks WHERE id = ?", (task["id"],))
        swf_state.append(
            ctx.tx,
            ctx.execution,
            "ActivityTaskCanceled",
            {
                "scheduledEventId": task["scheduled_event_id"],
                "startedEventId": 0,
                "latestCancelRequestedEventId": requested,
            },
        )
        return
    # A running task learns of it from its next heartbeat.
    ctx.tx.db.execute(
        "UPDATE swf_activity_tasks SET cancel_requested = 1, cancel_event_id = ? "
        "WHERE id = ?",
        (requested, task["id"]),
    )


def _closer(
    failed_event: str, event: str, status: str, members: tuple[str, ...]
) -> Callable[[Ctx, dict[str, Any]], None]:
    def close(ctx: Ctx, a: dict[str, Any]) -> None:
        if ctx.unseen:
            ctx.append(failed_event, {"cause": "UNHANDLED_DECISION"})
            return
        attrs = {name: a.get(name) for name in members}
        attrs["decisionTaskCompletedEventId"] = ctx.completed
        swf_state.close(ctx.tx, ctx.execution, status, event, attrs)

    return close


def _record_marker(ctx: Ctx, a: dict[str, Any]) -> None:
    ctx.append(
        "MarkerRecorded", {"markerName": a["markerName"], "details": a.get("details")}
    )


def _start_timer(ctx: Ctx, a: dict[str, Any]) -> None:
    tx = ctx.tx
    exists = tx.db.execute(
        "SELECT 1 FROM swf_timers WHERE execution = ? AND timer_id = ?",
        (ctx.execution, a["timerId"]),
    ).fetchone()
    if exists:
        ctx.append(
            "StartTimerFailed",
            {"timerId": a["timerId"], "cause": "TIMER_ID_ALREADY_IN_USE"},
        )
        return
    started = ctx.append(
        "TimerStarted",
        {
            "timerId": a["timerId"],
            "control": a.get("control"),
            "startToFireTimeout": a["startToFireTimeout"],
        },
    )
    seconds = parse_duration(
        a["startToFireTimeout"], "startToFireTimeout", tx.operation
    )
    tx.db.execute(
        "INSERT INTO swf_timers (execution, timer_id, started_event_id, fire_at) "
        "VALUES (?, ?, ?, ?)",
        (ctx.execution, a["timerId"], started, tx.now + (seconds or 0)),
    )


def _cancel_timer(ctx: Ctx, a: dict[str, Any]) -> None:
    timer = ctx.tx.db.execute(
        "DELETE FROM swf_timers WHERE execution = ? AND timer_id = ? RETURNING *",
        (ctx.execution, a["timerId"]),
    ).fetchone()
    if timer is None:
        ctx.append(
            "CancelTimerFailed", {"timerId": a["timerId"], "cause": "TIMER_ID_UNKNOWN"}
        )
        return
    ctx.append(
        "TimerCanceled",
        {"timerId": a["timerId"], "startedEventId": timer["started_event_id"]},
    )


# Not in this slice: recorded as failed decisions, the way SWF refuses
# decisions it does not permit, so a decider sees why nothing happened.
def _continue_as_new(ctx: Ctx, a: dict[str, Any]) -> None:
    ctx.append(
        "ContinueAsNewWorkflowExecutionFailed",
        {"cause": "UNHANDLED_DECISION" if ctx.unseen else "OPERATION_NOT_PERMITTED"},
    )


def _signal_external(ctx: Ctx, a: dict[str, Any]) -> None:
    ctx.append(
        "SignalExternalWorkflowExecutionFailed",
        {
            "workflowId": a["workflowId"],
            "runId": a.get("runId"),
            "cause": "OPERATION_NOT_PERMITTED",
            "initiatedEventId": 0,
            "control": a.get("control"),
        },
    )


def _cancel_external(ctx: Ctx, a: dict[str, Any]) -> None:
    ctx.append(
        "RequestCancelExternalWorkflowExecutionFailed",
        {
            "workflowId": a["workflowId"],
            "runId": a.get("runId"),
            "cause": "OPERATION_NOT_PERMITTED",
            "initiatedEventId": 0,
            "control": a.get("control"),
        },
    )


def _start_child(ctx: Ctx, a: dict[str, Any]) -> None:
    ctx.append(
        "StartChildWorkflowExecutionFailed",
        {
            "workflowType": a["workflowType"],
            "cause": "OPERATION_NOT_PERMITTED",
            "workflowId": a["workflowId"],
            "initiatedEventId": 0,
            "control": a.get("control"),
        },
    )


def _schedule_lambda(ctx: Ctx, a: dict[str, Any]) -> None:
    ctx.append(
        "ScheduleLambdaFunctionFailed",
        {
            "id": a["id"],
            "name": a["name"],
            "cause": "LAMBDA_SERVICE_NOT_AVAILABLE_IN_REGION",
        },
    )


_HANDLERS: dict[str, Callable[[Ctx, dict[str, Any]], None]] = {
    "ScheduleActivityTask": _schedule_activity,
    "RequestCancelActivityTask": _request_cancel_activity,
    "CompleteWorkflowExecution": _closer(
        "CompleteWorkflowExecutionFailed",
        "WorkflowExecutionCompleted",
        "COMPLETED",
        ("result",),
    ),
    "FailWorkflowExecution": _closer(
        "FailWorkflowExecutionFailed",
        "WorkflowExecutionFailed",
        "FAILED",
        ("reason", "details"),
    ),
    "CancelWorkflowExecution": _closer(
        "CancelWorkflowExecutionFailed",
        "WorkflowExecutionCanceled",
        "CANCELED",
        ("details",),
    ),
    "ContinueAsNewWorkflowExecution": _continue_as_new,
    "RecordMarker": _record_marker,
    "StartTimer": _start_timer,
    "CancelTimer": _cancel_timer,
    "SignalExternalWorkflowExecution": _signal_external,
    "RequestCancelExternalWorkflowExecution": _cancel_external,
    "StartChildWorkflowExecution": _start_child,
    "ScheduleLambdaFunction": _schedule_lambda,
}
