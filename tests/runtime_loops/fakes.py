"""Small stand-ins for an SWF client, scripted per test."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError


def client_error(code: str, operation: str = "Operation") -> ClientError:
    """A ClientError as botocore raises it for an SWF fault with `code`."""
    return ClientError({"Error": {"Code": code, "Message": f"fake {code}"}}, operation)


def activity_task(
    *,
    token: str = "token-1",
    name: str = "Echo",
    version: str = "1",
    input: str | None = '{"x": 1}',
    activity_id: str = "step-1",
) -> dict[str, Any]:
    task: dict[str, Any] = {
        "taskToken": token,
        "activityId": activity_id,
        "startedEventId": 5,
        "workflowExecution": {"workflowId": "wf-1", "runId": "run-1"},
        "activityType": {"name": name, "version": version},
    }
    if input is not None:
        task["input"] = input
    return task


class FakeActivitySwf:
    """Answers polls from a script; records every call it receives.

    `polls` holds, in order, task dicts to hand out or exceptions to raise;
    once it is empty a poll comes back empty, as a long poll does on timeout.
    """

    def __init__(self, polls: list[Any] | None = None) -> None:
        self.polls: list[Any] = list(polls or [])
        self.polled: list[str] = []
        self.heartbeats: list[dict[str, Any]] = []
        self.responds: list[tuple[str, dict[str, Any]]] = []
        self.respond_errors: list[Exception] = []
        self.cancel_requested = False
        self.heartbeat_seen = threading.Event()
        self.on_poll: Callable[[], None] | None = None

    def poll_for_activity_task(self, **kwargs: Any) -> dict[str, Any]:
        self.polled.append(kwargs["taskList"]["name"])
        if self.on_poll is not None:
            self.on_poll()
        if not self.polls:
            return {"startedEventId": 0}
        item = self.polls.pop(0)
        if isinstance(item, Exception):
            raise item
        return dict(item)

    def record_activity_task_heartbeat(self, **kwargs: Any) -> dict[str, Any]:
        self.heartbeats.append(kwargs)
        self.heartbeat_seen.set()
        return {"cancelRequested": self.cancel_requested}

    def _respond(self, method: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.respond_errors:
            raise self.respond_errors.pop(0)
        self.responds.append((method, kwargs))
        return {}

    def respond_activity_task_completed(self, **kwargs: Any) -> dict[str, Any]:
        return self._respond("completed", kwargs)

    def respond_activity_task_failed(self, **kwargs: Any) -> dict[str, Any]:
        return self._respond("failed", kwargs)

    def respond_activity_task_canceled(self, **kwargs: Any) -> dict[str, Any]:
        return self._respond("canceled", kwargs)


class FakeDecisionSwf:
    """Hands out one decision task split into pages, then empty polls.

    `pages` are the responses of the first poll and of each poll with a
    nextPageToken; `poll_errors` are raised by the next polls, in order.
    """

    def __init__(self, pages: list[dict[str, Any]] | None = None) -> None:
        self.pages = list(pages or [])
        self.poll_errors: list[Exception] = []
        self.page_errors: list[Exception] = []
        self.requests: list[dict[str, Any]] = []
        self.responds: list[dict[str, Any]] = []
        self.respond_errors: list[Exception] = []

    def poll_for_decision_task(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        if "nextPageToken" in kwargs:
            if self.page_errors:
                raise self.page_errors.pop(0)
            return self._page(kwargs["nextPageToken"])
        if self.poll_errors:
            raise self.poll_errors.pop(0)
        if not self.pages:
            return {"previousStartedEventId": 0, "startedEventId": 0}
        return self._page("page-0")

    def _page(self, token: str) -> dict[str, Any]:
        index = int(token.split("-")[1])
        page = dict(self.pages[index])
        if index + 1 < len(self.pages):
            page["nextPageToken"] = f"page-{index + 1}"
        if index + 1 == len(self.pages):
            self.pages = []  # the task is handed out once
        return page

    def respond_decision_task_completed(self, **kwargs: Any) -> dict[str, Any]:
        if self.respond_errors:
            raise self.respond_errors.pop(0)
        self.responds.append(kwargs)
        return {}


def decision_pages(
    event_count: int, page_size: int, *, name: str = "Flow", version: str = "1"
) -> list[dict[str, Any]]:
    """A decision task whose `event_count` events are split into pages."""
    events = [
        {"eventId": i, "eventType": "MarkerRecorded"} for i in range(1, event_count + 1)
    ]
    pages = []
    for start in range(0, event_count, page_size):
        pages.append(
            {
                "taskToken": "decision-token",
                "startedEventId": event_count,
                "previousStartedEventId": 0,
                "workflowExecution": {"workflowId": "wf-1", "runId": "run-1"},
                "workflowType": {"name": name, "version": version},
                "events": events[start : start + page_size],
            }
        )
    return pages
