"""Reading SWF's execution listings: every page, and the runs of one workflow id.

Used by the input poller (is this job started already?) and by cpec's
operations commands alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The oldest start time there is: a startTimeFilter that keeps every run."""

Listing = Callable[..., dict[str, Any]]
"""`list_open_workflow_executions` or `list_closed_workflow_executions`, bound
to a client (with whatever error handling its caller wants)."""


def listing_of(swf: Any, status: str) -> Listing:
    """The client's listing of `open` or `closed` executions."""
    listing: Listing = (
        swf.list_open_workflow_executions
        if status == "open"
        else swf.list_closed_workflow_executions
    )
    return listing


def paged(listing: Listing, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every execution info of one listing, following nextPageToken."""
    token: str | None = None
    while True:
        page = listing(**request, **({"nextPageToken": token} if token else {}))
        yield from page.get("executionInfos") or []
        token = page.get("nextPageToken")
        if not token:
            return


def of_workflow_id(workflow_id: str) -> dict[str, Any]:
    """The listing request for the runs of one workflow id."""
    return {
        "startTimeFilter": {"oldestDate": EPOCH},
        "executionFilter": {"workflowId": workflow_id},
    }


def with_workflow_id(
    infos: Iterable[dict[str, Any]], workflow_id: str
) -> Iterator[dict[str, Any]]:
    """The infos of runs of `workflow_id`, checked here too: not every SWF
    look-alike honours executionFilter (moto does not)."""
    return (info for info in infos if info["execution"]["workflowId"] == workflow_id)
