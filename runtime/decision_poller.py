"""The decision poller: the loop that feeds SWF histories to the pure decider.

Everything impure about deciding lives here: polling the decision task list,
paging through the history, finding the compiled plan (IR) of the workflow
type, responding, and telling an observer. `decide(ir, events)` itself stays a
pure function. When no decision can be computed (no plan is deployed for the
type, or the decider raised), the workflow is failed with a reason that says
why, because a decision task left unanswered would only come back, forever.
"""

from __future__ import annotations

import functools
import importlib
import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from cpe.runtime.decisions import fail_workflow
from cpe.runtime.swf_errors import (
    DEFAULT_RETRY,
    Backoff,
    RetryPolicy,
    call_with_retries,
    describe_exception,
    log_poll_failure,
    log_respond_failure,
)
from cpe.runtime.worker import default_identity

logger = logging.getLogger(__name__)

Decide = Callable[[dict[str, Any], list[dict[str, Any]]], list[dict[str, Any]]]
"""`decide(ir, events) -> decisions`, the signature of `cpe.runtime.decider.decide`."""
IrForType = Callable[[str, str], dict[str, Any] | None]
"""`ir_for_type(name, version)`: the IR deployed for a workflow type, or None."""
DecisionsObserver = Callable[[dict[str, Any], list[dict[str, Any]]], None]
"""`on_decisions(task, decisions)`: told of each answer SWF accepted."""


class DecisionSwfClient(Protocol):
    """The part of boto3's SWF client (or the embedded backend) a decider uses."""

    def poll_for_decision_task(self, **kwargs: Any) -> dict[str, Any]: ...
    def respond_decision_task_completed(self, **kwargs: Any) -> Any: ...


def _default_decide() -> Decide:
    # Imported when a poller is built rather than when this module is, so the
    # poller (and its tests) do not depend on the decider being importable.
    module = importlib.import_module("cpe.runtime.decider")
    decide: Decide = module.decide
    return decide


class DecisionPoller:
    """Answers the decision tasks of one task list with `decide`."""

    def __init__(
        self,
        swf: DecisionSwfClient,
        *,
        domain: str,
        task_list: str,
        ir_for_type: IrForType,
        decide: Decide | None = None,
        identity: str | None = None,
        on_decisions: DecisionsObserver | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self._swf = swf
        self._domain = domain
        self._task_list = task_list
        self._ir_for_type = ir_for_type
        self._decide = decide if decide is not None else _default_decide()
        self._identity = identity or default_identity()
        self._on_decisions = on_decisions
        self._retry = retry

    @property
    def identity(self) -> str:
        return self._identity

    def run(self, stop: threading.Event) -> None:
        """Answer decision tasks until `stop` is set (checked between polls)."""
        backoff = Backoff(self._retry)
        logger.info(
            "decider %s polling task list %s in domain %s",
            self._identity,
            self._task_list,
            self._domain,
        )
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception as error:
                delay = backoff.failed()
                where = f"decision task list {self._task_list}"
                log_poll_failure(logger, error, where, delay, backoff)
                stop.wait(delay)
            else:
                backoff.reset()
        logger.info("decider %s stopped", self._identity)

    def poll_once(self) -> bool:
        """One poll; True if a decision task came and was handled.

        Errors of the first poll propagate (`run` retries them); once a task
        is in hand, trouble is logged here and the task is left to time out.
        """
        first = self._poll()
        if not first.get("taskToken"):
            return False
        self._handle(first)
        return True

    def _poll(self, next_page_token: str | None = None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "domain": self._domain,
            "taskList": {"name": self._task_list},
            "identity": self._identity,
        }
        if next_page_token:
            request["nextPageToken"] = next_page_token
        return self._swf.poll_for_decision_task(**request)

    def _handle(self, first: dict[str, Any]) -> None:
        execution = first.get("workflowExecution") or {}
        workflow_id = execution.get("workflowId", "")
        try:
            events = self._collect_events(first)
        except Exception as error:
            logger.warning(
                "could not read the whole history of workflow %s (%s); the "
                "decision task is abandoned and SWF will hand it out again "
                "once it times out",
                workflow_id,
                describe_exception(error),
            )
            return
        task = {**first, "events": events}
        task.pop("nextPageToken", None)
        logger.debug(
            "decision task for workflow %s: %s events", workflow_id, len(events)
        )
        decisions = self._decisions_for(task, events)
        if self._respond(task["taskToken"], decisions, workflow_id):
            self._notify(task, decisions)

    def _collect_events(self, first: dict[str, Any]) -> list[dict[str, Any]]:
        """Every event of the task's history, fetching page after page."""
        events = list(first.get("events") or [])
        token = first.get("nextPageToken")
        while token:
            page = call_with_retries(
                functools.partial(self._poll, token),
                what="fetching a page of history",
                policy=self._retry,
            )
            events.extend(page.get("events") or [])
            token = page.get("nextPageToken")
        return events

    def _decisions_for(
        self, task: dict[str, Any], events: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        workflow_type = task.get("workflowType") or {}
        name = workflow_type.get("name", "")
        version = workflow_type.get("version", "")
        try:
            ir = self._ir_for_type(name, version)
        except Exception as error:
            logger.exception(
                "looking up the plan of %s version %s raised", name, version
            )
            return [
                fail_workflow(
                    f"loading the compiled plan for workflow type {name} version "
                    f"{version} raised {describe_exception(error)}",
                    traceback.format_exc(),
                )
            ]
        if ir is None:
            logger.warning("no plan deployed for %s version %s", name, version)
            return [
                fail_workflow(
                    f"no compiled plan for workflow type {name} version {version} "
                    "is deployed"
                )
            ]
        return self._run_decide(ir, events, name)

    def _run_decide(
        self, ir: dict[str, Any], events: list[dict[str, Any]], name: str
    ) -> list[dict[str, Any]]:
        try:
            return list(self._decide(ir, events))
        except Exception as error:
            # decide should turn every bad history into a decision; if it
            # raises anyway, failing the workflow beats a task that times out
            # and is redelivered to the same bug again and again.
            logger.exception("decide raised on a history of workflow type %s", name)
            return [
                fail_workflow(
                    f"the decider raised {describe_exception(error)}",
                    traceback.format_exc(),
                )
            ]

    def _respond(
        self, token: str, decisions: list[dict[str, Any]], workflow_id: str
    ) -> bool:
        """Send `decisions`; True if SWF accepted them."""
        try:
            call_with_retries(
                lambda: self._swf.respond_decision_task_completed(
                    taskToken=token, decisions=decisions
                ),
                what=f"answering the decision task of workflow {workflow_id}",
                policy=self._retry,
            )
        except Exception as error:
            log_respond_failure(
                logger, error, f"workflow {workflow_id}", "decision task completed"
            )
            return False
        logger.debug("workflow %s: answered %s decisions", workflow_id, len(decisions))
        return True

    def _notify(self, task: dict[str, Any], decisions: list[dict[str, Any]]) -> None:
        if self._on_decisions is None:
            return
        try:
            self._on_decisions(task, decisions)
        except Exception:
            logger.warning("on_decisions observer raised; ignored", exc_info=True)
