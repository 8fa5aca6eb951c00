"""The history of one decision task, read page by page, newest first, as far as needed.

The decision poller asks SWF for the history in reverse order, so that when it
already holds the folded state of the execution up to some event it can stop
reading at that event: the first pages are the new ones. When it holds nothing
it reads every page and puts the events back in order. The order of the pages
is not trusted: the events are sorted by id before anyone folds them, and a
server that ignores reverseOrder only costs reading everything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cpe.runtime.history import HistoryError, in_order

FetchPage = Callable[[str], dict[str, Any]]
"""`fetch(next_page_token)`: the next page of the same decision task."""


class TaskHistory:
    """The events of a decision task read so far, and a way to read more."""

    def __init__(self, first: dict[str, Any], fetch: FetchPage) -> None:
        self._fetch = fetch
        self._events: list[dict[str, Any]] = []
        self._token: str | None = None
        self.malformed = False
        """An event without a numeric id was read: only a full replay will do."""
        self.oldest_id: int | None = None
        self.ordered = False
        self.pages = 0
        self._add(first)
        started = first.get("startedEventId")
        self.started_event_id = started if isinstance(started, int) else None

    @property
    def complete(self) -> bool:
        """Whether every page has been read."""
        return not self._token

    def _add(self, page: dict[str, Any]) -> None:
        self.pages += 1
        events = page.get("events") or []
        self._events.extend(events)
        for event in events:
            try:
                event_id = int(event["eventId"])
            except (KeyError, TypeError, ValueError):
                self.malformed = True
                continue
            if self.oldest_id is None or event_id < self.oldest_id:
                self.oldest_id = event_id
        self._token = page.get("nextPageToken") or None

    def read_down_to(self, event_id: int) -> None:
        """Read pages until one reaches `event_id` or older (or none are left)."""
        while self._token and not self.malformed:
            if self.oldest_id is not None and self.oldest_id <= event_id:
                return
            self._add(self._fetch(self._token))

    def read_all(self) -> None:
        while self._token:
            self._add(self._fetch(self._token))

    def events_after(self, event_id: int) -> list[dict[str, Any]] | None:
        """The events after `event_id` in order, or None when some are missing.

        SWF numbers the events of an execution 1, 2, 3, ... without holes, so
        the new events must be exactly event_id + 1 up to the task's started
        event; anything else (a gap, a duplicate, a history that ends before
        `event_id`) means the events read cannot continue that state.
        """
        if self.malformed:
            return None
        newer = [event for event in self._events if int(event["eventId"]) > event_id]
        newer.sort(key=lambda event: int(event["eventId"]))
        ids = [int(event["eventId"]) for event in newer]
        last = self.started_event_id
        if last is None:
            last = ids[-1] if ids else event_id
        if last < event_id or ids != list(range(event_id + 1, last + 1)):
            return None
        return newer

    def all_events(self) -> list[dict[str, Any]]:
        """Every event read, oldest first when their ids allow sorting
        (`ordered` tells whether they did)."""
        try:
            events = in_order(self._events)
        except HistoryError:
            # The decider will refuse this history and say why; the order of
            # events it cannot sort does not matter to it.
            self.ordered = False
            return list(self._events)
        self.ordered = True
        return events

    def task_timeout(self) -> float | None:
        """The task's start-to-close timeout in seconds, when its
        DecisionTaskScheduled event has been read."""
        started = self._find(self.started_event_id, "DecisionTaskStarted")
        if started is None:
            return None
        attributes = started.get("decisionTaskStartedEventAttributes") or {}
        scheduled = self._find(
            attributes.get("scheduledEventId"), "DecisionTaskScheduled"
        )
        if scheduled is None:
            return None
        attributes = scheduled.get("decisionTaskScheduledEventAttributes") or {}
        return _seconds(attributes.get("startToCloseTimeout"))

    def _find(self, event_id: Any, event_type: str) -> dict[str, Any] | None:
        # Read newest first, the events of the task itself are near the top.
        if event_id is None:
            return None
        for event in self._events:
            if event.get("eventId") == event_id:
                return event if event.get("eventType") == event_type else None
        return None


def _seconds(value: Any) -> float | None:
    """SWF durations are texts of whole seconds, or NONE for no limit."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None
