"""Telling a job's client how it goes, on the client's SQS output queue.

Two observers plug into the loops:

- `build_decider_observer(sqs)` for DecisionPoller's `on_decisions`: after SWF
  accepted an answer, it reports the activity outcomes that are new in the
  task's history (events after `previousStartedEventId`, so nothing is told
  twice across decision tasks), then what the answer does: ACTIVITY_SCHEDULED
  for each scheduled activity and WORKFLOW_COMPLETED / _FAILED / _CANCELED
  when it closes the workflow.
- `build_worker_observer(sqs, swf)` for ActivityWorker's `on_event`: it
  reports ACTIVITY_STARTED and ACTIVITY_PROGRESS. Outcomes of activities are
  left to the decider, which sees them in the history whichever worker ran
  them.

The client's queue is `client.queues.output` of the workflow input. A job
started without a client (cpec start, cpec run) is simply not told.
Notifications are best-effort: every failure is logged and dropped, never
raised into the loop that called the observer.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from cpe.runtime import protocol
from cpe.runtime.outbound import post, post_all
from cpe.runtime.swf_errors import describe_exception

logger = logging.getLogger(__name__)

DecisionsObserver = Callable[[dict[str, Any], list[dict[str, Any]]], None]
EventObserver = Callable[[str, dict[str, Any]], None]

_STARTED = "WorkflowExecutionStarted"


# -- the decider's side --------------------------------------------------------


def build_decider_observer(sqs: Any) -> DecisionsObserver:
    """An `on_decisions(task, decisions)` that notifies the job's client."""

    def observe(task: dict[str, Any], decisions: list[dict[str, Any]]) -> None:
        try:
            _notify_decision_task(sqs, task, decisions)
        except Exception:
            # A history we cannot read here is the decider's business, not
            # the notifier's: log and go on.
            logger.warning("notifying the client of a decision failed", exc_info=True)

    return observe


def _notify_decision_task(
    sqs: Any, task: dict[str, Any], decisions: list[dict[str, Any]]
) -> None:
    events = list(task.get("events") or [])
    # The poller may hand over only the new events, with the input of the
    # execution beside them.
    queue = _queue_in_history(events) or _queue_in_input(task.get("workflowInput"))
    if queue is None:
        return
    execution = task.get("workflowExecution") or {}
    workflow = protocol.workflow_ref(
        execution.get("workflowId", ""), execution.get("runId", "")
    )
    job_id = workflow["workflowId"]
    messages = [
        protocol.notification(kind, job_id, data)
        for kind, data in _messages_for(events, task, decisions, workflow)
    ]
    if messages:
        post_all(sqs, queue, messages)


def _queue_in_history(events: list[dict[str, Any]]) -> str | None:
    for event in events:
        if event.get("eventType") == _STARTED:
            attributes = event.get("workflowExecutionStartedEventAttributes") or {}
            return _queue_in_input(attributes.get("input"))
    return None


def _queue_in_input(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return protocol.output_queue_of(json.loads(text))
    except ValueError:
        return None


def _messages_for(
    events: list[dict[str, Any]],
    task: dict[str, Any],
    decisions: list[dict[str, Any]],
    workflow: dict[str, str],
) -> Iterator[tuple[str, dict[str, Any]]]:
    """What to tell, in the order it happened: outcomes first, then the answer."""
    previous = int(task.get("previousStartedEventId") or 0)
    # Tasks scheduled before these events are described by the poller.
    scheduled: dict[Any, dict[str, Any]] = dict(task.get("scheduledActivities") or {})
    scheduled.update(
        (event.get("eventId"), event.get("activityTaskScheduledEventAttributes") or {})
        for event in events
        if event.get("eventType") == "ActivityTaskScheduled"
    )
    for event in events:
        if int(event.get("eventId") or 0) > previous:
            told = _activity_outcome(event, scheduled)
            if told is not None:
                kind, activity = told
                yield kind, {"workflow": workflow, "activity": activity}
    for decision in decisions:
        told = _decision_message(decision, workflow)
        if told is not None:
            yield told


_OUTCOMES = {
    "ActivityTaskCompleted": protocol.ACTIVITY_COMPLETED,
    "ActivityTaskFailed": protocol.ACTIVITY_FAILED,
    "ActivityTaskTimedOut": protocol.ACTIVITY_TIMEOUT,
    "ActivityTaskCanceled": protocol.ACTIVITY_CANCELED,
}


def _activity_outcome(
    event: dict[str, Any], scheduled: dict[Any, dict[str, Any]]
) -> tuple[str, dict[str, Any]] | None:
    event_type = event.get("eventType", "")
    if event_type == "ScheduleActivityTaskFailed":
        attributes = event.get("scheduleActivityTaskFailedEventAttributes") or {}
        failed = {
            "activityId": attributes.get("activityId", ""),
            "activityType": attributes.get("activityType") or {},
            "reason": f"SWF could not schedule the activity: {attributes.get('cause')}",
        }
        return protocol.ACTIVITY_FAILED, failed
    kind = _OUTCOMES.get(event_type)
    if kind is None:
        return None
    key = event_type[0].lower() + event_type[1:] + "EventAttributes"
    attributes = event.get(key) or {}
    origin = scheduled.get(attributes.get("scheduledEventId"), {})
    activity: dict[str, Any] = {
        "activityId": origin.get("activityId", ""),
        "activityType": origin.get("activityType") or {},
    }
    if kind == protocol.ACTIVITY_COMPLETED:
        activity["result"] = protocol.parse_json_text(attributes.get("result"))
    for field in ("reason", "details", "timeoutType"):
        if attributes.get(field) is not None:
            activity[field] = attributes[field]
    return kind, activity


def _decision_message(
    decision: dict[str, Any], workflow: dict[str, str]
) -> tuple[str, dict[str, Any]] | None:
    decision_type = decision.get("decisionType")
    if decision_type == "ScheduleActivityTask":
        attributes = decision.get("scheduleActivityTaskDecisionAttributes") or {}
        activity_type = attributes.get("activityType") or {}
        # The original decider named the type and version side by side here.
        activity = {
            "activityId": attributes.get("activityId", ""),
            "activityType": activity_type.get("name", ""),
            "activityVersion": activity_type.get("version", ""),
        }
        return protocol.ACTIVITY_SCHEDULED, {"workflow": workflow, "activity": activity}
    if decision_type == "CompleteWorkflowExecution":
        attributes = decision.get("completeWorkflowExecutionDecisionAttributes") or {}
        result = protocol.parse_json_text(attributes.get("result"))
        return protocol.WORKFLOW_COMPLETED, {"workflow": workflow, "result": result}
    if decision_type == "FailWorkflowExecution":
        attributes = decision.get("failWorkflowExecutionDecisionAttributes") or {}
        data: dict[str, Any] = {"workflow": workflow}
        for field in ("reason", "details"):
            if attributes.get(field) is not None:
                data[field] = attributes[field]
        return protocol.WORKFLOW_FAILED, data
    if decision_type == "CancelWorkflowExecution":
        attributes = decision.get("cancelWorkflowExecutionDecisionAttributes") or {}
        data = {"workflow": workflow}
        if attributes.get("details") is not None:
            data["details"] = attributes["details"]
        return protocol.WORKFLOW_CANCELED, data
    return None


# -- the worker's side ---------------------------------------------------------


def build_worker_observer(
    sqs: Any, swf: Any, *, domain: str | None = None, cache_size: int = 1024
) -> EventObserver:
    """An `on_event(kind, info)` that notifies the job's client.

    The worker's task has no workflow input, so the client's queue is read
    from the execution's first history event, once per run. The domain is
    `info["domain"]` when the worker gives it, else `domain`, else the
    CPE_DOMAIN environment variable (default cpe-local, as the command line).
    """
    fallback = domain or os.environ.get("CPE_DOMAIN", "cpe-local")
    return _WorkerNotifier(sqs, swf, fallback, cache_size)


class _WorkerNotifier:
    def __init__(self, sqs: Any, swf: Any, domain: str, cache_size: int) -> None:
        self._sqs = sqs
        self._swf = swf
        self._domain = domain
        self._cache_size = max(cache_size, 1)
        # run id -> the client's queue, or None for a job without a client.
        self._queues: OrderedDict[str, str | None] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, kind: str, info: dict[str, Any]) -> None:
        try:
            self._notify(kind, info)
        except Exception:
            logger.warning("notifying the client of %s failed", kind, exc_info=True)

    def _notify(self, kind: str, info: dict[str, Any]) -> None:
        if kind not in ("started", "progress"):
            return
        queue = self._queue_of(info)
        if queue is None:
            return
        activity: dict[str, Any] = {
            "activityId": info.get("activity_id", ""),
            "activityType": {
                "name": info.get("activity_name", ""),
                "version": info.get("activity_version", ""),
            },
        }
        if kind == "started":
            message_type = protocol.ACTIVITY_STARTED
            # The original sent the task's input here; ActivityWorker's info
            # does not carry it yet, so it is told only when the worker adds it.
            if "input" in info:
                activity["input"] = protocol.parse_json_text(info["input"])
        else:
            message_type = protocol.ACTIVITY_PROGRESS
            activity["progress"] = info.get("progress")
        workflow = protocol.workflow_ref(
            info.get("workflow_id", ""), info.get("run_id", "")
        )
        data = {"workflow": workflow, "activity": activity}
        post(
            self._sqs,
            queue,
            protocol.notification(message_type, workflow["workflowId"], data),
        )

    def _queue_of(self, info: dict[str, Any]) -> str | None:
        run_id = info.get("run_id", "")
        with self._lock:
            if run_id in self._queues:
                self._queues.move_to_end(run_id)
                return self._queues[run_id]
        try:
            queue = self._look_up(info)
        except Exception as error:
            # Not cached: the next event of the run tries again.
            logger.warning(
                "cannot find the client of workflow %s: %s",
                info.get("workflow_id"),
                describe_exception(error),
            )
            return None
        with self._lock:
            self._queues[run_id] = queue
            while len(self._queues) > self._cache_size:
                self._queues.popitem(last=False)
        return queue

    def _look_up(self, info: dict[str, Any]) -> str | None:
        page = self._swf.get_workflow_execution_history(
            domain=info.get("domain") or self._domain,
            execution={"workflowId": info["workflow_id"], "runId": info["run_id"]},
            maximumPageSize=1,
        )
        return _queue_in_history(list(page.get("events") or []))
