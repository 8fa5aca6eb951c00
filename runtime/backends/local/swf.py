"""LocalSWF: the embedded backend's stand-in for boto3.client("swf")."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cpe.runtime.backends.local import (
    swf_executions,
    swf_registry,
    swf_tasks,
)
from cpe.runtime.backends.local.errors import exceptions
from cpe.runtime.backends.local.limits import enforce_limits
from cpe.runtime.backends.local.store import Store, Tx
from cpe.runtime.backends.local.swf_advance import advance, anything_due
from cpe.runtime.backends.local.validation import validate

Handler = Callable[[Tx, dict[str, Any]], dict[str, Any]]
_COMMIT_CHECK_INTERVAL = 0.001
# The next task of a busy workflow usually comes within a few milliseconds of
# the poll that asks for it: for the first 20 ms of a poll it looks five times
# as often, which shortens a chain's hand-offs, and costs a long idle poll
# nothing more once the span has passed.
_EAGER_SPAN = 0.02
_EAGER_CHECK_INTERVAL = 0.0002
PollHandler = Callable[[Tx, dict[str, Any]], "dict[str, Any] | None"]


class LocalSWF:
    """Same methods, keyword parameters, responses and errors as boto3's client.

    Safe to share between threads: each thread gets its own connection.
    """

    def __init__(self, store: Store, *, poll_timeout: float, poll_interval: float):
        self._store = store
        self._poll_timeout = poll_timeout
        self._poll_interval = poll_interval

    @property
    def exceptions(self) -> Any:
        """Like `client.exceptions`: `except swf.exceptions.UnknownResourceFault`."""
        return exceptions("swf")

    def close(self) -> None:
        self._store.close()

    def sweep(self) -> None:
        """Fire every timeout and timer that is due and purge expired runs.

        Not a boto3 method: any other call does the same first; this is for a
        process that wants time to move without calling anything else.
        """
        with self._store.transaction("Sweep") as tx:
            advance(tx)

    def _run(
        self, operation: str, params: dict[str, Any], handler: Handler
    ) -> dict[str, Any]:
        validate("swf", operation, params)
        enforce_limits("swf", operation, params)
        with self._store.transaction(operation) as tx:
            advance(tx)
            return handler(tx, params)

    def _poll(
        self,
        operation: str,
        params: dict[str, Any],
        handler: PollHandler,
        empty: dict[str, Any],
        table: str,
    ) -> dict[str, Any]:
        validate("swf", operation, params)
        enforce_limits("swf", operation, params)
        # Real time, not the store's clock: a faked clock must not make a
        # poller wait forever (or not at all).
        began = time.monotonic()
        give_up = began + self._poll_timeout
        while True:
            # A look that takes no lock decides whether a try is worth the
            # write lock: every poller wakes at every commit, and one that
            # takes the lock for nothing makes the one with a task wait.
            if self._worth_a_try(table, params):
                with self._store.transaction(operation) as tx:
                    advance(tx)
                    result = handler(tx, params)
                if result is not None:
                    return result
            remaining = give_up - time.monotonic()
            if remaining <= 0:
                return dict(empty)
            self._wait_for_a_commit(
                min(self._poll_interval, remaining), eager_until=began + _EAGER_SPAN
            )

    def _worth_a_try(self, table: str, params: dict[str, Any]) -> bool:
        look = self._store.look()
        return swf_tasks.poll_has_an_answer(look, table, params) or anything_due(look)

    def _wait_for_a_commit(self, longest: float, *, eager_until: float) -> None:
        """Sleep until another connection commits, or `longest` seconds.

        Looking at PRAGMA data_version takes no lock, unlike a poll's
        transaction, so a poller answers a new task within a millisecond or
        two without keeping the write lock busy; timeouts, which no commit
        announces, are still seen every `longest` seconds. Until `eager_until`
        it looks more often.
        """
        version = self._store.data_version()
        until = time.monotonic() + longest
        while (now := time.monotonic()) < until:
            eager = now < eager_until
            interval = _EAGER_CHECK_INTERVAL if eager else _COMMIT_CHECK_INTERVAL
            time.sleep(min(interval, until - now))
            if self._store.data_version() != version:
                return

    # Domains and types.

    def register_domain(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("RegisterDomain", kwargs, swf_registry.register_domain)

    def describe_domain(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("DescribeDomain", kwargs, swf_registry.describe_domain)

    def list_domains(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("ListDomains", kwargs, swf_registry.list_domains)

    def deprecate_domain(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("DeprecateDomain", kwargs, swf_registry.deprecate_domain)

    def register_workflow_type(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "RegisterWorkflowType",
            kwargs,
            lambda tx, p: swf_registry.register_type(tx, "workflow", p),
        )

    def describe_workflow_type(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "DescribeWorkflowType",
            kwargs,
            lambda tx, p: swf_registry.describe_type(tx, "workflow", p),
        )

    def list_workflow_types(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "ListWorkflowTypes",
            kwargs,
            lambda tx, p: swf_registry.list_types(tx, "workflow", p),
        )

    def deprecate_workflow_type(self, **kwargs: Any) -> dict[str, Any]:
        return self._status("DeprecateWorkflowType", kwargs, "workflow", True)

    def undeprecate_workflow_type(self, **kwargs: Any) -> dict[str, Any]:
        return self._status("UndeprecateWorkflowType", kwargs, "workflow", False)

    def register_activity_type(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "RegisterActivityType",
            kwargs,
            lambda tx, p: swf_registry.register_type(tx, "activity", p),
        )

    def describe_activity_type(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "DescribeActivityType",
            kwargs,
            lambda tx, p: swf_registry.describe_type(tx, "activity", p),
        )

    def list_activity_types(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "ListActivityTypes",
            kwargs,
            lambda tx, p: swf_registry.list_types(tx, "activity", p),
        )

    def deprecate_activity_type(self, **kwargs: Any) -> dict[str, Any]:
        return self._status("DeprecateActivityType", kwargs, "activity", True)

    def undeprecate_activity_type(self, **kwargs: Any) -> dict[str, Any]:
        return self._status("UndeprecateActivityType", kwargs, "activity", False)

    def _status(
        self, operation: str, params: dict[str, Any], kind: str, deprecate: bool
    ) -> dict[str, Any]:
        def handler(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
            swf_registry.set_type_status(tx, kind, p, deprecate)
            return {}

        return self._run(operation, params, handler)

    # Executions.

    def start_workflow_execution(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("StartWorkflowExecution", kwargs, swf_executions.start)

    def describe_workflow_execution(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("DescribeWorkflowExecution", kwargs, swf_executions.describe)

    def get_workflow_execution_history(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "GetWorkflowExecutionHistory", kwargs, swf_executions.get_history
        )

    def list_open_workflow_executions(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "ListOpenWorkflowExecutions",
            kwargs,
            lambda tx, p: swf_executions.list_executions(tx, p, "OPEN"),
        )

    def list_closed_workflow_executions(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "ListClosedWorkflowExecutions",
            kwargs,
            lambda tx, p: swf_executions.list_executions(tx, p, "CLOSED"),
        )

    def count_open_workflow_executions(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "CountOpenWorkflowExecutions",
            kwargs,
            lambda tx, p: swf_executions.count_executions(tx, p, "OPEN"),
        )

    def count_closed_workflow_executions(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "CountClosedWorkflowExecutions",
            kwargs,
            lambda tx, p: swf_executions.count_executions(tx, p, "CLOSED"),
        )

    def signal_workflow_execution(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("SignalWorkflowExecution", kwargs, swf_executions.signal)

    def request_cancel_workflow_execution(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "RequestCancelWorkflowExecution", kwargs, swf_executions.request_cancel
        )

    def terminate_workflow_execution(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("TerminateWorkflowExecution", kwargs, swf_executions.terminate)

    # Tasks.

    def poll_for_decision_task(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs.get("nextPageToken"):
            # Further pages of a task already handed out come back at once.
            return self._run(
                "PollForDecisionTask", kwargs, _must(swf_tasks.poll_decision)
            )
        return self._poll(
            "PollForDecisionTask",
            kwargs,
            swf_tasks.poll_decision,
            swf_tasks.EMPTY_DECISION_POLL,
            "swf_decision_tasks",
        )

    def respond_decision_task_completed(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "RespondDecisionTaskCompleted", kwargs, swf_tasks.respond_decision
        )

    def count_pending_decision_tasks(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "CountPendingDecisionTasks",
            kwargs,
            lambda tx, p: swf_tasks.count_pending(tx, "swf_decision_tasks", p),
        )

    def poll_for_activity_task(self, **kwargs: Any) -> dict[str, Any]:
        return self._poll(
            "PollForActivityTask",
            kwargs,
            swf_tasks.poll_activity,
            swf_tasks.EMPTY_ACTIVITY_POLL,
            "swf_activity_tasks",
        )

    def respond_activity_task_completed(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "RespondActivityTaskCompleted",
            kwargs,
            lambda tx, p: swf_tasks.finish_activity(
                tx, p, "ActivityTaskCompleted", {"result": p.get("result")}
            ),
        )

    def respond_activity_task_failed(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "RespondActivityTaskFailed",
            kwargs,
            lambda tx, p: swf_tasks.finish_activity(
                tx,
                p,
                "ActivityTaskFailed",
                {"reason": p.get("reason"), "details": p.get("details")},
            ),
        )

    def respond_activity_task_canceled(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "RespondActivityTaskCanceled",
            kwargs,
            lambda tx, p: swf_tasks.finish_activity(
                tx, p, "ActivityTaskCanceled", {"details": p.get("details")}
            ),
        )

    def record_activity_task_heartbeat(self, **kwargs: Any) -> dict[str, Any]:
        return self._run("RecordActivityTaskHeartbeat", kwargs, swf_tasks.heartbeat)

    def count_pending_activity_tasks(self, **kwargs: Any) -> dict[str, Any]:
        return self._run(
            "CountPendingActivityTasks",
            kwargs,
            lambda tx, p: swf_tasks.count_pending(tx, "swf_activity_tasks", p),
        )


def _must(handler: PollHandler) -> Handler:
    def run(tx: Tx, p: dict[str, Any]) -> dict[str, Any]:
        result = handler(tx, p)
        assert result is not None  # a page request always answers
        return result

    return run
