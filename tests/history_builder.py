"""A builder of SWF histories for decider tests, shaped as boto3 returns them."""

from __future__ import annotations

import datetime
import json
from typing import Any


class HistoryBuilder:
    """Appends events with dense ids and the attribute names of SWF's model."""

    def __init__(self, workflow: tuple[str, str] = ("Transcode", "1.0")) -> None:
        self.events: list[dict[str, Any]] = []
        self._workflow = workflow
        self._clock = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        self._scheduled: dict[str, int] = {}
        self._started: dict[str, int] = {}

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
        self.add(
            "ActivityTaskCompleted", result=json.dumps(result), **self._closing(step)
        )
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
