"""A small SWF for decider tests: one execution's history, changed as SWF would.

The simulator holds the events of one workflow execution and the bookkeeping
SWF keeps beside them (open activities and timers, the decision task), and it
moves them the way SWF does: outside happenings (an activity starts,
completes, fails or times out, a signal or a cancel request arrives, a timer
fires, a decision task times out) append their events and schedule a decision
task; a decider's answer records DecisionTaskCompleted and the events of each
decision. `SimulatedSwf` puts the boto3 client face on it (paging with
maximumPageSize, nextPageToken and reverseOrder), so the real DecisionPoller
can run against it.

Events carry the attribute names of botocore's SWF model; timestamps are left
out, since nothing the decider does reads them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

# Events after which SWF schedules a decision task (ActivityTaskStarted and
# the events decisions themselves produce, such as TimerStarted, do not).
_WAKES_THE_DECIDER = frozenset(
    {
        "WorkflowExecutionStarted",
        "WorkflowExecutionSignaled",
        "WorkflowExecutionCancelRequested",
        "ActivityTaskCompleted",
        "ActivityTaskFailed",
        "ActivityTaskTimedOut",
        "ActivityTaskCanceled",
        "ScheduleActivityTaskFailed",
        "RequestCancelActivityTaskFailed",
        "TimerFired",
        "StartTimerFailed",
        "CancelTimerFailed",
        "DecisionTaskTimedOut",
        "CompleteWorkflowExecutionFailed",
        "FailWorkflowExecutionFailed",
        "CancelWorkflowExecutionFailed",
    }
)

_CLOSE_EVENTS = {
    "CompleteWorkflowExecution": "WorkflowExecutionCompleted",
    "FailWorkflowExecution": "WorkflowExecutionFailed",
    "CancelWorkflowExecution": "WorkflowExecutionCanceled",
}

ACTIVITY_TIMEOUTS = (
    "START_TO_CLOSE",
    "SCHEDULE_TO_START",
    "SCHEDULE_TO_CLOSE",
    "HEARTBEAT",
)


def _unknown_token() -> ClientError:
    return ClientError(
        {"Error": {"Code": "UnknownResourceFault", "Message": "unknown task token"}},
        "RespondDecisionTaskCompleted",
    )


@dataclass
class OpenActivity:
    activity_id: str
    activity_type: dict[str, str]
    scheduled_id: int
    input: str | None
    started_id: int | None = None
    cancel_requested: bool = False


@dataclass
class ActivityRecord:
    """How an activity attempt ended, as the simulator caused it."""

    activity_id: str
    outcome: str  # completed, failed, timed_out, canceled, schedule_failed
    result: str | None = None


@dataclass
class DecisionTask:
    scheduled_id: int
    started_id: int | None = None
    token: str | None = None


@dataclass
class Simulator:
    """One execution's history and SWF's bookkeeping around it."""

    workflow_type: dict[str, str]
    workflow_input: str | None
    task_timeout: str = "60"
    unregistered: set[tuple[str, str]] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)
    activities: dict[str, OpenActivity] = field(default_factory=dict)
    timers: dict[str, int] = field(default_factory=dict)
    records: list[ActivityRecord] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    decision_task: DecisionTask | None = None
    decide_again: bool = False
    """Events came while the decision task was started: schedule another."""
    closed: dict[str, Any] | None = None
    cancel_requested: bool = False
    _tokens: int = 0

    def __post_init__(self) -> None:
        self._add(
            "WorkflowExecutionStarted",
            input=self.workflow_input,
            workflowType=self.workflow_type,
            taskList={"name": "decisions"},
            childPolicy="TERMINATE",
            executionStartToCloseTimeout="3600",
            taskStartToCloseTimeout=self.task_timeout,
        )

    # -- the history -------------------------------------------------------

    def _add(self, event_type: str, **attributes: Any) -> int:
        event_id = len(self.events) + 1
        key = event_type[0].lower() + event_type[1:] + "EventAttributes"
        self.events.append(
            {"eventId": event_id, "eventType": event_type, key: attributes}
        )
        if event_type in _WAKES_THE_DECIDER:
            self._wake()
        return event_id

    def _wake(self) -> None:
        if self.closed is not None:
            return
        if self.decision_task is None:
            scheduled = self._add(
                "DecisionTaskScheduled",
                taskList={"name": "decisions"},
                startToCloseTimeout=self.task_timeout,
            )
            self.decision_task = DecisionTask(scheduled)
        elif self.decision_task.started_id is not None:
            self.decide_again = True

    def history(self, up_to: int | None = None) -> list[dict[str, Any]]:
        """A copy of the events (up to an event id), as a client would get them."""
        chosen = self.events if up_to is None else self.events[:up_to]
        return copy.deepcopy(chosen)

    # -- what happens outside the decider ---------------------------------

    def start_activity(self, activity_id: str) -> None:
        activity = self.activities[activity_id]
        assert activity.started_id is None
        activity.started_id = self._add(
            "ActivityTaskStarted",
            scheduledEventId=activity.scheduled_id,
            identity="worker",
        )

    def _close_activity(
        self, activity_id: str, event_type: str, outcome: str, **attributes: Any
    ) -> None:
        activity = self.activities.pop(activity_id)
        # SWF gives 0 as the started event of a task that never started.
        ids = {
            "scheduledEventId": activity.scheduled_id,
            "startedEventId": activity.started_id or 0,
        }
        self.records.append(
            ActivityRecord(activity_id, outcome, attributes.get("result"))
        )
        self._add(event_type, **attributes, **ids)

    def complete_activity(self, activity_id: str, result: str | None) -> None:
        self._ensure_started(activity_id)
        attributes = {} if result is None else {"result": result}
        self._close_activity(
            activity_id, "ActivityTaskCompleted", "completed", **attributes
        )

    def fail_activity(self, activity_id: str, reason: str = "boom") -> None:
        self._ensure_started(activity_id)
        self._close_activity(
            activity_id, "ActivityTaskFailed", "failed", reason=reason, details="trace"
        )

    def time_out_activity(self, activity_id: str, timeout_type: str) -> None:
        activity = self.activities[activity_id]
        started = activity.started_id is not None
        # SWF's rules: nothing starts-to-closes or heartbeats before it
        # started, and nothing fails to start once it has.
        if timeout_type in ("START_TO_CLOSE", "HEARTBEAT") and not started:
            self.start_activity(activity_id)
        elif timeout_type == "SCHEDULE_TO_START" and started:
            timeout_type = "SCHEDULE_TO_CLOSE"
        self._close_activity(
            activity_id, "ActivityTaskTimedOut", "timed_out", timeoutType=timeout_type
        )

    def cancel_activity(self, activity_id: str) -> None:
        """The worker acknowledges a cancel request."""
        assert self.activities[activity_id].cancel_requested
        self._ensure_started(activity_id)
        self._close_activity(
            activity_id, "ActivityTaskCanceled", "canceled", details="stopped"
        )

    def _ensure_started(self, activity_id: str) -> None:
        if self.activities[activity_id].started_id is None:
            self.start_activity(activity_id)

    def signal(self, name: str, signal_input: str | None = None) -> None:
        attributes: dict[str, Any] = {"signalName": name}
        if signal_input is not None:
            attributes["input"] = signal_input
        self.signals.append(name)
        self._add("WorkflowExecutionSignaled", **attributes)

    def request_cancel(self) -> None:
        self.cancel_requested = True
        self._add("WorkflowExecutionCancelRequested")

    def fire_timer(self, timer_id: str) -> None:
        started = self.timers.pop(timer_id)
        self._add("TimerFired", timerId=timer_id, startedEventId=started)

    def time_out_decision_task(self) -> None:
        task = self.decision_task
        assert task is not None and task.started_id is not None
        self.decision_task = None
        self.decide_again = False
        self._add(
            "DecisionTaskTimedOut",
            scheduledEventId=task.scheduled_id,
            startedEventId=task.started_id,
            timeoutType="START_TO_CLOSE",
        )

    # -- the decider's side -----------------------------------------------

    def start_decision_task(self) -> DecisionTask | None:
        """Hand out the scheduled decision task (None when there is none)."""
        task = self.decision_task
        if task is None or task.started_id is not None:
            return None
        self._tokens += 1
        task.token = f"decision-{self._tokens}"
        task.started_id = self._add(
            "DecisionTaskStarted", scheduledEventId=task.scheduled_id, identity="d"
        )
        return task

    def respond(self, token: str, decisions: list[dict[str, Any]]) -> None:
        task = self.decision_task
        if task is None or task.token != token or self.closed is not None:
            raise _unknown_token()
        completed = self._add(
            "DecisionTaskCompleted",
            scheduledEventId=task.scheduled_id,
            startedEventId=task.started_id,
        )
        self.decision_task = None
        unhandled, self.decide_again = self.decide_again, False
        for index, decision in enumerate(decisions):
            kind = decision["decisionType"]
            attributes = decision[kind[0].lower() + kind[1:] + "DecisionAttributes"]
            if kind in _CLOSE_EVENTS:
                assert index == len(decisions) - 1, "a close decision must be last"
                self._close(kind, attributes, completed, unhandled)
            else:
                getattr(self, "_decide_" + kind)(attributes, completed)
        if unhandled and self.closed is None and self.decision_task is None:
            self._wake()

    def _close(
        self,
        kind: str,
        attributes: dict[str, Any],
        completed: int,
        unhandled: bool,
    ) -> None:
        if unhandled:
            # SWF refuses to close while events the decider has not seen wait.
            self._add(
                kind + "Failed",
                cause="UNHANDLED_DECISION",
                decisionTaskCompletedEventId=completed,
            )
            return
        self._add(
            _CLOSE_EVENTS[kind], decisionTaskCompletedEventId=completed, **attributes
        )
        self.closed = {"decisionType": kind, **attributes}

    def _decide_ScheduleActivityTask(
        self, attributes: dict[str, Any], completed: int
    ) -> None:
        activity_id = attributes["activityId"]
        activity_type = attributes["activityType"]
        cause = None
        if activity_id in self.activities:
            cause = "ACTIVITY_ID_ALREADY_IN_USE"
        elif (activity_type["name"], activity_type["version"]) in self.unregistered:
            cause = "ACTIVITY_TYPE_DOES_NOT_EXIST"
        if cause is not None:
            self.records.append(ActivityRecord(activity_id, "schedule_failed"))
            self._add(
                "ScheduleActivityTaskFailed",
                activityId=activity_id,
                activityType=activity_type,
                cause=cause,
                decisionTaskCompletedEventId=completed,
            )
            return
        scheduled = self._add(
            "ActivityTaskScheduled",
            **attributes,
            decisionTaskCompletedEventId=completed,
        )
        self.activities[activity_id] = OpenActivity(
            activity_id, activity_type, scheduled, attributes.get("input")
        )

    def _decide_RequestCancelActivityTask(
        self, attributes: dict[str, Any], completed: int
    ) -> None:
        activity_id = attributes["activityId"]
        activity = self.activities.get(activity_id)
        if activity is None:
            self._add(
                "RequestCancelActivityTaskFailed",
                activityId=activity_id,
                cause="ACTIVITY_ID_UNKNOWN",
                decisionTaskCompletedEventId=completed,
            )
            return
        activity.cancel_requested = True
        self._add(
            "ActivityTaskCancelRequested",
            activityId=activity_id,
            decisionTaskCompletedEventId=completed,
        )

    def _decide_StartTimer(self, attributes: dict[str, Any], completed: int) -> None:
        timer_id = attributes["timerId"]
        if timer_id in self.timers:
            self._add(
                "StartTimerFailed",
                timerId=timer_id,
                cause="TIMER_ID_ALREADY_IN_USE",
                decisionTaskCompletedEventId=completed,
            )
            return
        self.timers[timer_id] = self._add(
            "TimerStarted", **attributes, decisionTaskCompletedEventId=completed
        )

    def _decide_CancelTimer(self, attributes: dict[str, Any], completed: int) -> None:
        timer_id = attributes["timerId"]
        started = self.timers.pop(timer_id, None)
        if started is None:
            self._add(
                "CancelTimerFailed",
                timerId=timer_id,
                cause="TIMER_ID_UNKNOWN",
                decisionTaskCompletedEventId=completed,
            )
            return
        self._add(
            "TimerCanceled",
            timerId=timer_id,
            startedEventId=started,
            decisionTaskCompletedEventId=completed,
        )

    def _decide_RecordMarker(self, attributes: dict[str, Any], completed: int) -> None:
        self._add(
            "MarkerRecorded", **attributes, decisionTaskCompletedEventId=completed
        )


@dataclass
class _Reading:
    """One decision task being read by a client, page after page."""

    events: list[dict[str, Any]]
    response: dict[str, Any]


class SimulatedSwf:
    """The decision-task face of boto3's SWF client, backed by a Simulator.

    `before_respond`, when set, runs once when the next answer arrives and
    before it is applied: the place to let events arrive while the decider
    thinks, or the decision task time out.
    """

    def __init__(self, simulator: Simulator, *, workflow_id: str = "wf-1") -> None:
        self.simulator = simulator
        self.execution = {"workflowId": workflow_id, "runId": "run-1"}
        self.before_respond: Any = None
        self.answers: list[tuple[int, list[dict[str, Any]]]] = []
        """(startedEventId, decisions) of every answer received."""
        self.page_requests = 0
        self._readings: dict[str, _Reading] = {}

    def poll_for_decision_task(self, **kwargs: Any) -> dict[str, Any]:
        token = kwargs.get("nextPageToken")
        if token:
            self.page_requests += 1
            reading_id, offset = token.rsplit(":", 1)
            return self._page(self._readings[reading_id], int(offset), kwargs)
        task = self.simulator.start_decision_task()
        if task is None:
            return {"startedEventId": 0, "previousStartedEventId": 0}
        assert task.token is not None and task.started_id is not None
        events = self.simulator.history(task.started_id)
        if kwargs.get("reverseOrder"):
            events.reverse()
        reading = _Reading(
            events,
            {
                "taskToken": task.token,
                "startedEventId": task.started_id,
                "previousStartedEventId": self._previous_started(task.started_id),
                "workflowExecution": dict(self.execution),
                "workflowType": dict(self.simulator.workflow_type),
            },
        )
        self._readings[task.token] = reading
        return self._page(reading, 0, kwargs)

    def _previous_started(self, started_id: int) -> int:
        """The DecisionTaskStarted event of the last completed decision task."""
        for event in reversed(self.simulator.events[:started_id]):
            if event["eventType"] == "DecisionTaskCompleted":
                return int(
                    event["decisionTaskCompletedEventAttributes"]["startedEventId"]
                )
        return 0

    def _page(
        self, reading: _Reading, offset: int, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        size = kwargs.get("maximumPageSize") or 1000
        page = {**reading.response, "events": reading.events[offset : offset + size]}
        if offset + size < len(reading.events):
            page["nextPageToken"] = f"{reading.response['taskToken']}:{offset + size}"
        return page

    def respond_decision_task_completed(self, **kwargs: Any) -> dict[str, Any]:
        token = kwargs["taskToken"]
        decisions = list(kwargs.get("decisions") or [])
        task = self.simulator.decision_task
        if task is not None and task.token == token:
            assert task.started_id is not None
            self.answers.append((task.started_id, copy.deepcopy(decisions)))
        hook, self.before_respond = self.before_respond, None
        if hook is not None:
            hook()
        self.simulator.respond(token, decisions)
        return {}
