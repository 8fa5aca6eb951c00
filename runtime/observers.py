"""The observers the daemons tell of their work: lifecycle logs, notifications.

`DecisionPoller` calls one `on_decisions(task, decisions)` after SWF accepted
an answer; `ActivityWorker` calls one `on_event(kind, info)` as a task starts,
progresses and ends. The daemons build those two callables here, and only
here, from a list of observers, so that adding one (the SQS notifications of
clients) is one line in `decider_observers` or `worker_observers`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from cpe.runtime.daemon import lifecycle
from cpe.runtime.notifications import build_decider_observer, build_worker_observer

logger = logging.getLogger("cpe.stack")

DecisionsObserver = Callable[[dict[str, Any], list[dict[str, Any]]], None]
EventObserver = Callable[[str, dict[str, Any]], None]


# -- the plug-in point --------------------------------------------------------


def decider_observers(sqs: Any) -> list[DecisionsObserver]:
    """Every observer of the decider's answers.

    The lifecycle log, then the notifications of the jobs' clients.
    """
    return [log_decisions, build_decider_observer(sqs)]


def worker_observers(sqs: Any, swf: Any, domain: str) -> list[EventObserver]:
    """Every observer of the worker's tasks.

    The lifecycle log, then the notifications of the jobs' clients.
    """
    return [log_activity_event, build_worker_observer(sqs, swf, domain=domain)]


# -- combining ----------------------------------------------------------------


def all_decisions(observers: Sequence[DecisionsObserver]) -> DecisionsObserver:
    """One `on_decisions` that tells each observer; one's failure spares the rest."""

    def observe(task: dict[str, Any], decisions: list[dict[str, Any]]) -> None:
        for observer in observers:
            try:
                observer(task, decisions)
            except Exception:
                logger.warning("a decisions observer raised; ignored", exc_info=True)

    return observe


def all_events(observers: Sequence[EventObserver]) -> EventObserver:
    """One `on_event` that tells each observer; one's failure spares the rest."""

    def observe(kind: str, info: dict[str, Any]) -> None:
        for observer in observers:
            try:
                observer(kind, info)
            except Exception:
                logger.warning(
                    "an event observer raised on %s; ignored", kind, exc_info=True
                )

    return observe


# -- lifecycle logs -----------------------------------------------------------

_CLOSING = {
    "CompleteWorkflowExecution": "completed",
    "FailWorkflowExecution": "failed",
    "CancelWorkflowExecution": "canceled",
}


def log_decisions(task: dict[str, Any], decisions: list[dict[str, Any]]) -> None:
    """One line per answered decision task, one more when it closes the workflow."""
    execution = task.get("workflowExecution") or {}
    ids = {
        "workflow_id": execution.get("workflowId"),
        "run_id": execution.get("runId"),
    }
    kinds: dict[str, int] = {}
    for decision in decisions:
        kind = decision.get("decisionType", "?")
        kinds[kind] = kinds.get(kind, 0) + 1
    summary = ", ".join(f"{kind} x{count}" for kind, count in sorted(kinds.items()))
    scheduled = [
        decision["scheduleActivityTaskDecisionAttributes"].get("activityId")
        for decision in decisions
        if decision.get("decisionType") == "ScheduleActivityTask"
    ]
    lifecycle(
        logger,
        "decisions_sent",
        "workflow %s: answered with %s",
        ids["workflow_id"],
        summary or "no decision",
        scheduled=",".join(scheduled) or None,
        **ids,
    )
    for decision in decisions:
        closed = _CLOSING.get(decision.get("decisionType", ""))
        if closed is None:
            continue
        attributes = (
            decision.get(
                decision["decisionType"][0].lower()
                + decision["decisionType"][1:]
                + "DecisionAttributes"
            )
            or {}
        )
        lifecycle(
            logger,
            f"workflow_{closed}",
            "workflow %s %s%s",
            ids["workflow_id"],
            closed,
            f": {attributes['reason']}" if attributes.get("reason") else "",
            **ids,
        )


def log_activity_event(kind: str, info: dict[str, Any]) -> None:
    """One line per activity task event: started, progress, completed, ..."""
    ids = {
        "workflow_id": info.get("workflow_id"),
        "run_id": info.get("run_id"),
        "activity_id": info.get("activity_id"),
    }
    what = f"{info.get('activity_name')} {info.get('activity_version')}"
    if kind == "progress":
        lifecycle(
            logger,
            "activity_progress",
            "activity %s (%s) of workflow %s: progress %s",
            ids["activity_id"],
            what,
            ids["workflow_id"],
            info.get("progress"),
            **ids,
        )
        return
    detail = info.get("reason") or info.get("details") or ""
    lifecycle(
        logger,
        f"activity_{kind}",
        "activity %s (%s) of workflow %s %s%s",
        ids["activity_id"],
        what,
        ids["workflow_id"],
        kind,
        f": {detail}" if detail and kind != "completed" else "",
        **ids,
    )
