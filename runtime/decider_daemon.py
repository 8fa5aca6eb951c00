"""The decider daemon: every workflow type of a registry, on every task list.

One `DecisionPoller` thread serves each decision task list that a deployed
type uses (or only the one given). The IR of a task is picked by the task's
workflow type; a type the daemon does not know makes it read the registry
again, and so does the passing of `refresh` seconds, so a newly deployed
version is served (and its new task list polled) without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from cpe.runtime.blobs import BlobStore
from cpe.runtime.daemon import Stopping, join_for, lifecycle, wait_until
from cpe.runtime.decision_poller import Decide, DecisionPoller, DecisionsObserver
from cpe.runtime.registry import Deployment, Registry, RegistryError

logger = logging.getLogger("cpe.stack")

# A decision task of an unknown type re-reads the registry at most this often,
# so that a flood of such tasks does not become a flood of registry reads.
_UNKNOWN_TYPE_REREAD = 2.0
_POLLER_JOIN = 2.0  # seconds to wait, in all, for the pollers' polls at shutdown
# A backend that answers an empty poll at once (a mock, a proxy) would make
# the loop spin; an empty poll quicker than this is followed by a pause.
MIN_EMPTY_POLL = 0.1


class RegistryPlans:
    """The IR of each deployed workflow type, kept fresh from a registry."""

    def __init__(self, registry: Registry, refresh: float) -> None:
        self._registry = registry
        self._refresh = refresh
        self._lock = threading.Lock()
        self._deployments: dict[tuple[str, str], Deployment] = {}
        # Decision task lists of entries whose IR cannot be read: polled too,
        # so that their executions are failed with a reason, not left open.
        self._damaged: set[str] = set()
        self._loaded_at = float("-inf")

    def reload(self) -> None:
        try:
            found = self._registry.load_all()
        except RegistryError as error:
            # The deployments read before keep being served meanwhile.
            logger.error("reading the registry failed: %s", error)
            with self._lock:
                self._loaded_at = time.monotonic()
            return
        with self._lock:
            new = sorted(set(found) - set(self._deployments))
            self._deployments = found
            self._damaged = set(self._registry.damaged_task_lists)
            self._loaded_at = time.monotonic()
        for name, version in new:
            lifecycle(
                logger,
                "type_loaded",
                "serving workflow type %s version %s from %s",
                name,
                version,
                self._registry.describe(),
                workflow_type=f"{name} {version}",
            )

    def reload_if_due(self) -> None:
        with self._lock:
            due = time.monotonic() - self._loaded_at >= self._refresh
        if due:
            self.reload()

    def ir_for_type(self, name: str, version: str) -> dict[str, Any] | None:
        """The IR of a type, reading the registry again when it is unknown.

        A type deployed just after the last read must not fail its execution
        for want of a plan, so an unknown type always gets a fresh read; the
        reads are spaced at least _UNKNOWN_TYPE_REREAD apart (waiting out the
        rest of that time) so that a flood of tasks of a type that is really
        not deployed cannot hammer the registry.
        """
        with self._lock:
            deployment = self._deployments.get((name, version))
            since = time.monotonic() - self._loaded_at
        if deployment is None:
            time.sleep(max(0.0, _UNKNOWN_TYPE_REREAD - since))
            self.reload()
            with self._lock:
                deployment = self._deployments.get((name, version))
        return None if deployment is None else deployment.ir

    def task_lists(self) -> set[str]:
        with self._lock:
            deployed = {d.decision_task_list for d in self._deployments.values()}
            return deployed | self._damaged


class _PacedPoller(DecisionPoller):
    """A DecisionPoller that pauses after an empty poll that came back at once."""

    def poll_once(self) -> bool:
        began = time.monotonic()
        got = super().poll_once()
        if not got:
            time.sleep(max(0.0, MIN_EMPTY_POLL - (time.monotonic() - began)))
        return got


def _log_task_taken(task: dict[str, Any]) -> None:
    execution = task.get("workflowExecution") or {}
    workflow_type = task.get("workflowType") or {"name": "?", "version": "?"}
    lifecycle(
        logger,
        "decision_task_taken",
        "decision task of workflow %s taken",
        execution.get("workflowId", "?"),
        workflow_id=execution.get("workflowId", "?"),
        run_id=execution.get("runId"),
        workflow_type="{name} {version}".format(**workflow_type),
    )


class DeciderDaemon:
    """Decision pollers for the task lists of a registry's types."""

    def __init__(
        self,
        open_swf: Callable[[], Any],
        *,
        domain: str,
        plans: RegistryPlans,
        task_list: str | None,
        on_decisions: DecisionsObserver | None,
        refresh: float,
        decide: Decide | None = None,
        blobs: BlobStore | None = None,
        page_size: int | None = None,
    ) -> None:
        self._open_swf = open_swf
        self._decide = decide
        self._domain = domain
        self._plans = plans
        self._only = task_list
        self._on_decisions = on_decisions
        self._refresh = refresh
        self._pollers: dict[str, tuple[_PacedPoller, threading.Thread]] = {}
        self._poll_stop = threading.Event()
        self._blobs = blobs
        self._page_size = page_size

    def run(self, stopping: Stopping, grace: float) -> None:
        """Serve until `stopping` is requested, then finish within `grace`."""
        self._plans.reload()
        if not self._wanted_task_lists():
            logger.warning(
                "no workflow type is deployed in the registry yet; polling starts "
                "with the first one deployed (cpec deploy PLAN --registry ...)"
            )
        while not stopping.requested.is_set():
            self._plans.reload_if_due()
            self._start_missing_pollers()
            stopping.requested.wait(min(self._refresh, 1.0))
        lifecycle(
            logger,
            "stopping",
            "%s: polling stops; waiting up to %g s for decisions in hand",
            stopping.signal_name or "stop",
            grace,
        )
        self._poll_stop.set()
        deadline = time.monotonic() + grace
        finished = wait_until(self._nothing_in_hand, deadline, stopping.hurry)
        if not finished:
            for poller, _ in self._pollers.values():
                if poller.in_hand is not None:
                    lifecycle(
                        logger,
                        "task_handed_back",
                        "decision task of workflow %s handed back unanswered; SWF "
                        "gives it out again once its start-to-close timeout passes",
                        poller.in_hand,
                        workflow_id=poller.in_hand,
                    )
        # The polls under way end on their own (short on the embedded
        # backend); waiting a little for them keeps the poller threads from
        # running on while the interpreter shuts down under them.
        join_for((thread for _, thread in self._pollers.values()), _POLLER_JOIN)
        lifecycle(logger, "stopped", "decider stopped")

    def _nothing_in_hand(self) -> bool:
        return all(
            poller.in_hand is None or not thread.is_alive()
            for poller, thread in self._pollers.values()
        )

    def _wanted_task_lists(self) -> set[str]:
        return {self._only} if self._only else self._plans.task_lists()

    def _start_missing_pollers(self) -> None:
        for task_list in sorted(self._wanted_task_lists() - set(self._pollers)):
            poller = _PacedPoller(
                self._open_swf(),
                domain=self._domain,
                task_list=task_list,
                ir_for_type=self._plans.ir_for_type,
                on_decisions=self._on_decisions,
                decide=self._decide,
                blobs=self._blobs,
                page_size=self._page_size,
                on_task_taken=_log_task_taken,
            )
            # A daemon thread: a long poll still waiting when the daemon
            # exits holds no task, and must not keep the process alive.
            thread = threading.Thread(
                target=poller.run,
                args=(self._poll_stop,),
                name=f"cpe-decider-{task_list}",
                daemon=True,
            )
            thread.start()
            self._pollers[task_list] = (poller, thread)
            lifecycle(
                logger,
                "polling",
                "polling decision task list %s in domain %s",
                task_list,
                self._domain,
                task_list=task_list,
            )
