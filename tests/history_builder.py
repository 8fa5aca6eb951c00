"""A builder of SWF histories for decider tests, shaped as boto3 returns them."""

from __future__ import annotations

import datetime
import json
from typing import Any

_CLOSED_BY = {
    "CompleteWorkflowExecution": "WorkflowExecutionCompleted",
    "FailWorkflowExecution": "WorkflowExecutionFailed",
    "CancelWorkflowExecution": "WorkflowExecutionCanceled",
}


class HistoryBuilder:
    """Appends events with dense ids and the attribute names of SWF's model."""

    def __init__(self, workflow: tuple[str, str] = ("Transcode", "1.0")) -> None:
        self.events: list[dict[str, Any]] = []
        self._workflow = workflow
        self._clock = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        self._scheduled: dict[str, int] = {}
        self._started: dict[str, int] = {}
        self._timers: dict[str, int] = {}

    def add(self, event_type: str, **attributes: Any) -> int:
        event_id = len(self.events) + 1
        self._clock += datetime.timedelta(seconds=1)
        key = event_type[0].lower() + event_type[1:] + "EventAttributes"
        self.events.append(
            {
                "eventId": event_id,
                "eventType": event_type,
                "eventTimestamp": self._clock,
                key: attributes,
            }
        )
        return event_id

    def started(
        self, workflow_input: Any = None, raw: str | None = None
    ) -> HistoryBuilder:
        text = raw if raw is not None else json.dumps(workflow_input)
        name, version = self._workflow
        self.add(
            "WorkflowExecutionStarted",
            input=text,
            workflowType={"name": name, "version": version},
            taskList={"name": f"{name}-{version}"},
            childPolicy="TERMINATE",
            executionStartToCloseTimeout="3600",
            taskStartToCloseTimeout="60",
        )
        return self.decision_task()

    def decision_task(self) -> HistoryBuilder:
        scheduled = self.add("DecisionTaskScheduled", taskList={"name": "d"})
        self.add("DecisionTaskStarted", scheduledEventId=scheduled, identity="decider")
        return self

    def decision_completed(self) -> int:
        scheduled = len(self.events) - 1
        return self.add(
            "DecisionTaskCompleted",
            scheduledEventId=scheduled,
            startedEventId=scheduled + 1,
        )

    def scheduled(
        self, step: str, activity: tuple[str, str] = ("A", "1")
    ) -> HistoryBuilder:
        completed = self.decision_completed()
        self._scheduled[step] = self.add(
            "ActivityTaskScheduled",
            activityId=step,
            activityType={"name": activity[0], "version": activity[1]},
            taskList={"name": "t"},
            decisionTaskCompletedEventId=completed,
        )
        return self

    def activity_started(self, step: str) -> HistoryBuilder:
        self._started[step] = self.add(
            "ActivityTaskStarted", scheduledEventId=self._scheduled[step], identity="w"
        )
        return self

    def _closing(self, step: str) -> dict[str, int]:
        if step not in self._started:
            self.activity_started(step)
        return {
            "scheduledEventId": self._scheduled[step],
            "startedEventId": self._started[step],
        }

    def completed(self, step: str, result: Any = None) -> HistoryBuilder:
        return self.completed_raw(step, json.dumps(result))

    def completed_raw(self, step: str, result: str) -> HistoryBuilder:
        """A completed task whose result is `result` exactly."""
        self.add("ActivityTaskCompleted", result=result, **self._closing(step))
        return self.decision_task()

    def failed(
        self, step: str, reason: str = "boom", details: str = "trace"
    ) -> HistoryBuilder:
        self.add(
            "ActivityTaskFailed", reason=reason, details=details, **self._closing(step)
        )
        return self.decision_task()

    def timed_out(
        self, step: str, timeout_type: str = "START_TO_CLOSE"
    ) -> HistoryBuilder:
        self.add(
            "ActivityTaskTimedOut", timeoutType=timeout_type, **self._closing(step)
        )
        return self.decision_task()

    def canceled(self, step: str) -> HistoryBuilder:
        self.add("ActivityTaskCanceled", **self._closing(step))
        return self.decision_task()

    def schedule_failed(
        self, step: str, cause: str = "ACTIVITY_TYPE_DOES_NOT_EXIST"
    ) -> HistoryBuilder:
        completed = self.decision_completed()
        self.add(
            "ScheduleActivityTaskFailed",
            activityId=step,
            activityType={"name": "A", "version": "1"},
            cause=cause,
            decisionTaskCompletedEventId=completed,
        )
        return self.decision_task()

    def cancel_requested(self) -> HistoryBuilder:
        self.add("WorkflowExecutionCancelRequested")
        return self.decision_task()

    def cancel_activity_requested(self, step: str) -> HistoryBuilder:
        completed = self.decision_completed()
        self.add(
            "ActivityTaskCancelRequested",
            activityId=step,
            decisionTaskCompletedEventId=completed,
        )
        return self

    # --- timers, signals and the decider's own decisions ------------------------

    def timer_started(
        self, timer_id: str, seconds: int = 1, control: str | None = None
    ) -> HistoryBuilder:
        completed = self.decision_completed()
        attributes: dict[str, Any] = {
            "timerId": timer_id,
            "startToFireTimeout": str(seconds),
            "decisionTaskCompletedEventId": completed,
        }
        if control is not None:
            attributes["control"] = control
        self._timers[timer_id] = self.add("TimerStarted", **attributes)
        return self

    def timer_fired(self, timer_id: str) -> HistoryBuilder:
        self.add(
            "TimerFired", timerId=timer_id, startedEventId=self._timers.pop(timer_id)
        )
        return self.decision_task()

    def timer_canceled(self, timer_id: str) -> HistoryBuilder:
        completed = self.decision_completed()
        self.add(
            "TimerCanceled",
            timerId=timer_id,
            startedEventId=self._timers.pop(timer_id),
            decisionTaskCompletedEventId=completed,
        )
        return self

    def start_timer_failed(
        self, timer_id: str, cause: str = "TIMER_CREATION_RATE_EXCEEDED"
    ) -> HistoryBuilder:
        completed = self.decision_completed()
        self.add(
            "StartTimerFailed",
            timerId=timer_id,
            cause=cause,
            decisionTaskCompletedEventId=completed,
        )
        return self.decision_task()

    def signaled(self, name: str, signal_input: str | None = None) -> HistoryBuilder:
        attributes: dict[str, Any] = {"signalName": name}
        if signal_input is not None:
            attributes["input"] = signal_input
        self.add("WorkflowExecutionSignaled", **attributes)
        return self.decision_task()

    def apply(self, decisions: list[dict[str, Any]]) -> HistoryBuilder:
        """The events SWF records when it accepts `decisions`, as it would
        record them: one DecisionTaskCompleted, then one event per decision."""
        completed = self.decision_completed()
        for decision in decisions:
            kind = decision["decisionType"]
            attributes = decision[kind[0].lower() + kind[1:] + "DecisionAttributes"]
            if kind == "ScheduleActivityTask":
                self._scheduled[attributes["activityId"]] = self.add(
                    "ActivityTaskScheduled",
                    decisionTaskCompletedEventId=completed,
                    **attributes,
                )
                self._started.pop(attributes["activityId"], None)
            elif kind == "StartTimer":
                self._timers[attributes["timerId"]] = self.add(
                    "TimerStarted", decisionTaskCompletedEventId=completed, **attributes
                )
            elif kind == "CancelTimer":
                self.add(
                    "TimerCanceled",
                    timerId=attributes["timerId"],
                    startedEventId=self._timers.pop(attributes["timerId"]),
                    decisionTaskCompletedEventId=completed,
                )
            elif kind == "RequestCancelActivityTask":
                self.add(
                    "ActivityTaskCancelRequested",
                    activityId=attributes["activityId"],
                    decisionTaskCompletedEventId=completed,
                )
            elif kind in _CLOSED_BY:
                self.add(
                    _CLOSED_BY[kind],
                    decisionTaskCompletedEventId=completed,
                    **attributes,
                )
            else:
                raise ValueError(f"apply does not record {kind}")
        return self
