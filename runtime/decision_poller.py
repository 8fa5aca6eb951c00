"""The decision poller: the loop that feeds SWF histories to the pure decider.

Everything impure about deciding lives here: polling the decision task list,
paging through the history (newest first, only as far as the cached state of
the execution needs; see decision_cache and docs/decider.md), finding the
compiled plan (IR) of the workflow type, responding, and telling an observer.
`decide(ir, events)` itself stays a pure function. When no decision can be
computed (no plan is deployed for the type, or the decider raised), the
workflow is failed with a reason that says why, because a decision task left
unanswered would only come back, forever.
"""

from __future__ import annotations

import functools
import importlib
import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from cpe.runtime.activity_ids import format_activity_id
from cpe.runtime.blobs import BlobStore
from cpe.runtime.decision_cache import (
    DEFAULT_CACHE_SIZE,
    CachedExecution,
    DecisionCache,
    ExecutionKey,
)
from cpe.runtime.decision_pages import TaskHistory
from cpe.runtime.decisions import fail_workflow
from cpe.runtime.history import ExecutionState, Folder, HistoryError
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


class _Unreadable(Exception):
    """A page of the history could not be fetched."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


Decide = Callable[[dict[str, Any], list[dict[str, Any]]], list[dict[str, Any]]]
"""`decide(ir, events) -> decisions`, the signature of `cpe.runtime.decider.decide`."""
DecideState = Callable[[dict[str, Any], ExecutionState], list[dict[str, Any]]]
"""`decide_state(ir, state) -> decisions`, as `cpe.runtime.decider.decide_state`."""
IrForType = Callable[[str, str], dict[str, Any] | None]
"""`ir_for_type(name, version)`: the IR deployed for a workflow type, or None."""
DecisionsObserver = Callable[[dict[str, Any], list[dict[str, Any]]], None]
"""`on_decisions(task, decisions)`: told of each answer SWF accepted. The
task's `events` are the events the decision read, oldest first: the whole
history after a full replay, only the events newer than the cached state
after an incremental decision."""


class DecisionSwfClient(Protocol):
    """The part of boto3's SWF client (or the embedded backend) a decider uses."""

    def poll_for_decision_task(self, **kwargs: Any) -> dict[str, Any]: ...
    def respond_decision_task_completed(self, **kwargs: Any) -> Any: ...


_CLOSING = frozenset(
    {
        "CompleteWorkflowExecution",
        "FailWorkflowExecution",
        "CancelWorkflowExecution",
        "ContinueAsNewWorkflowExecution",
    }
)


def _default_decider(blobs: BlobStore | None) -> tuple[Decide, DecideState | None]:
    # Imported when a poller is built rather than when this module is, so the
    # poller (and its tests) do not depend on the decider being importable.
    module = importlib.import_module("cpe.runtime.decider")
    decide: Decide = module.decide
    decide_state: DecideState | None = getattr(module, "decide_state", None)
    if blobs is not None:
        decide = functools.partial(module.decide, blobs=blobs)
        if decide_state is not None:
            decide_state = functools.partial(module.decide_state, blobs=blobs)
    return decide, decide_state


class DecisionPoller:
    """Answers the decision tasks of one task list with `decide`.

    With `decide_state` (the decider's, by default) the poller keeps the
    folded state of recent executions in `cache` and folds only the events
    that came since; see `_decide_task` for when it replays the whole
    history instead. A `decide` given without `decide_state` always gets the
    whole history.
    """

    def __init__(
        self,
        swf: DecisionSwfClient,
        *,
        domain: str,
        task_list: str,
        ir_for_type: IrForType,
        decide: Decide | None = None,
        decide_state: DecideState | None = None,
        identity: str | None = None,
        on_decisions: DecisionsObserver | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        cache: DecisionCache | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        page_size: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        blobs: BlobStore | None = None,
        on_task_taken: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._swf = swf
        self._blobs = blobs
        self._on_task_taken = on_task_taken
        self.in_hand: str | None = None
        """The workflow id of the decision task being answered, if one is."""
        self._domain = domain
        self._task_list = task_list
        self._ir_for_type = ir_for_type
        if decide is None:
            decide, default_state = _default_decider(blobs)
            decide_state = decide_state or default_state
        self._decide = decide
        self._decide_state = decide_state
        self._identity = identity or default_identity()
        self._on_decisions = on_decisions
        self._retry = retry
        self.cache = cache if cache is not None else DecisionCache(cache_size)
        self._page_size = page_size
        self._clock = clock
        self._folded: Folder | None = None  # the state the last task was decided on

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
        began = self._clock()
        self.in_hand = (first.get("workflowExecution") or {}).get("workflowId", "?")
        try:
            if self._on_task_taken is not None:
                self._on_task_taken(first)
            self._handle(first, began)
        finally:
            self.in_hand = None
        return True

    def _poll(self, next_page_token: str | None = None) -> dict[str, Any]:
        # Newest first, so that a cached state needs only the first pages.
        request: dict[str, Any] = {
            "domain": self._domain,
            "taskList": {"name": self._task_list},
            "identity": self._identity,
            "reverseOrder": True,
        }
        if self._page_size:
            request["maximumPageSize"] = self._page_size
        if next_page_token:
            request["nextPageToken"] = next_page_token
        return self._swf.poll_for_decision_task(**request)

    def _fetch_page(self, token: str) -> dict[str, Any]:
        return call_with_retries(
            functools.partial(self._poll, token),
            what="fetching a page of history",
            policy=self._retry,
        )

    def _handle(self, first: dict[str, Any], began: float) -> None:
        execution = first.get("workflowExecution") or {}
        workflow_id = execution.get("workflowId", "")
        key = (workflow_id, execution.get("runId", ""))
        history = TaskHistory(first, self._fetch_page)
        self._folded = None
        try:
            decisions, events, timeout = self._decide_task(first, key, history)
        except _Unreadable as error:
            logger.warning(
                "could not read the whole history of workflow %s (%s); the "
                "decision task is abandoned and SWF will hand it out again "
                "once it times out",
                workflow_id,
                describe_exception(error.cause),
            )
            return
        task = {**first, "events": events}
        task.pop("nextPageToken", None)
        accepted = self._respond(task["taskToken"], decisions, workflow_id)
        if accepted and any(d.get("decisionType") in _CLOSING for d in decisions):
            self.cache.drop(key)  # the execution closes: its state is no use
        self._warn_if_slow(workflow_id, self._clock() - began, timeout, history)
        if accepted:
            self._notify(_for_observers(task, self._folded), decisions)

    def _decide_task(
        self, first: dict[str, Any], key: ExecutionKey, history: TaskHistory
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], float | None]:
        """The decisions, the events they were made on, and the task's timeout.

        The cached state is used when it can be trusted: it was folded with
        this very IR, the events after it are all there without a gap, and
        folding them works. Otherwise the whole history is read and replayed
        from scratch, which gives the same decisions by construction.
        """
        workflow_type = first.get("workflowType") or {}
        name = workflow_type.get("name", "")
        version = workflow_type.get("version", "")
        ir, failure = self._find_ir(name, version)
        if ir is None:
            return failure, history.all_events(), history.task_timeout()
        ir_hash = ir.get("content_hash")
        if self._decide_state is None or not isinstance(ir_hash, str):
            self._read(history.read_all)
            events = history.all_events()
            return self._run_decide(ir, events, name), events, history.task_timeout()

        entry = self.cache.take(key)
        why = "no cached state"
        if entry is not None and entry.ir_hash != ir_hash:
            entry, why = None, "the cached state was folded with another plan"
        if entry is not None:
            folded_up_to = entry.folder.last_event_id
            self._read(
                functools.partial(history.read_down_to, folded_up_to),
                functools.partial(self.cache.put, key, entry),
            )
            new_events = history.events_after(folded_up_to)
            if new_events is None:
                why = "the events after the cached state are not all there"
            else:
                decisions = self._decide_incrementally(ir, entry, new_events, name)
                if decisions is not None:
                    self._folded = entry.folder
                    timeout = history.task_timeout() or entry.task_timeout
                    entry.task_timeout = timeout
                    self.cache.put(key, entry)
                    self.cache.count("incremental")
                    return decisions, new_events, timeout
                why = "folding the new events failed"
        self.cache.count("replay: " + why)
        logger.debug("workflow %s: full replay (%s)", key[0], why)
        self._read(history.read_all)
        events = history.all_events()
        decisions, folder = self._replay(ir, events, history.ordered, name)
        self._folded = folder
        timeout = history.task_timeout()
        if folder is not None and not folder.state.closed:
            self.cache.put(key, CachedExecution(ir_hash, folder, timeout))
        return decisions, events, timeout

    def _read(
        self, reading: Callable[[], None], on_failure: Callable[[], None] | None = None
    ) -> None:
        try:
            reading()
        except Exception as error:
            if on_failure is not None:
                on_failure()  # nothing was folded: the state is still good
            raise _Unreadable(error) from error

    def _decide_incrementally(
        self,
        ir: dict[str, Any],
        entry: CachedExecution,
        new_events: list[dict[str, Any]],
        name: str,
    ) -> list[dict[str, Any]] | None:
        """Decisions on the cached state with `new_events` folded in, or None
        when they do not fold (the entry is then spoiled and not put back)."""
        try:
            entry.folder.fold(new_events)
        except Exception:
            logger.debug("folding new events failed; replaying", exc_info=True)
            return None
        return self._run_decide_state(ir, entry.folder, name)

    def _replay(
        self, ir: dict[str, Any], events: list[dict[str, Any]], ordered: bool, name: str
    ) -> tuple[list[dict[str, Any]], Folder | None]:
        """The decisions on the whole history, and its folder when it folds."""
        folder = Folder(ir, self._blobs)
        try:
            if not ordered:
                raise HistoryError("the events cannot be put in order")
            folder.fold(events)
        except Exception:
            # `decide` turns a history that does not fold into the decision
            # that says why, exactly as it would without a cache.
            return self._run_decide(ir, events, name), None
        return self._run_decide_state(ir, folder, name), folder

    def _find_ir(
        self, name: str, version: str
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The IR of the type, or None and the decision that fails the workflow."""
        try:
            ir = self._ir_for_type(name, version)
        except Exception as error:
            logger.exception(
                "looking up the plan of %s version %s raised", name, version
            )
            return None, [
                fail_workflow(
                    f"loading the compiled plan for workflow type {name} version "
                    f"{version} raised {describe_exception(error)}",
                    traceback.format_exc(),
                )
            ]
        if ir is None:
            logger.warning("no plan deployed for %s version %s", name, version)
            return None, [
                fail_workflow(
                    f"no compiled plan for workflow type {name} version {version} "
                    "is deployed"
                )
            ]
        return ir, []

    def _run_decide(
        self, ir: dict[str, Any], events: list[dict[str, Any]], name: str
    ) -> list[dict[str, Any]]:
        return self._guarded(lambda: self._decide(ir, events), name)

    def _run_decide_state(
        self, ir: dict[str, Any], folder: Folder, name: str
    ) -> list[dict[str, Any]]:
        decide_state = self._decide_state
        assert decide_state is not None
        return self._guarded(lambda: decide_state(ir, folder.snapshot()), name)

    def _guarded(
        self, deciding: Callable[[], list[dict[str, Any]]], name: str
    ) -> list[dict[str, Any]]:
        try:
            return list(deciding())
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

    def _warn_if_slow(
        self,
        workflow_id: str,
        elapsed: float,
        timeout: float | None,
        history: TaskHistory,
    ) -> None:
        if timeout is not None and elapsed > timeout / 2:
            logger.warning(
                "the decision task of workflow %s took %.1f s, more than half of "
                "its start-to-close timeout of %.0f s (%s pages of history read)",
                workflow_id,
                elapsed,
                timeout,
                history.pages,
            )

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


_CLOSED_TASK_EVENTS = (
    "ActivityTaskCompleted",
    "ActivityTaskFailed",
    "ActivityTaskTimedOut",
    "ActivityTaskCanceled",
)


def _for_observers(task: dict[str, Any], folder: Folder | None) -> dict[str, Any]:
    """The task as observers see it: its events are only those the decision
    was made on (the new ones, when the cached state was used), so what they
    need of earlier events comes from the folded state: the workflow input
    (`workflowInput`) and, for the activity tasks closing in these events,
    the activity id and type they were scheduled with (`scheduledActivities`,
    by scheduled event id)."""
    if folder is None:
        return task
    scheduled: dict[int, dict[str, Any]] = {}
    for event in task["events"]:
        event_type = event.get("eventType", "")
        if event_type not in _CLOSED_TASK_EVENTS:
            continue
        key = event_type[0].lower() + event_type[1:] + "EventAttributes"
        scheduled_id = (event.get(key) or {}).get("scheduledEventId")
        if not isinstance(scheduled_id, int):
            continue
        known = folder.by_scheduled_id.get(scheduled_id)
        if known is None:
            continue
        step = folder.ir["steps"][known.name]
        activity = folder.ir["activities"].get(step.get("activity") or "")
        if activity is None:
            continue
        scheduled[scheduled_id] = {
            "activityId": format_activity_id(known.name, known.item, known.attempt),
            "activityType": {"name": activity["name"], "version": activity["version"]},
        }
    return {
        **task,
        "workflowInput": folder.state.input_text,
        "scheduledActivities": scheduled,
    }
