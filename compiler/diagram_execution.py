"""The history of the latest run of a workflow id, read from an SWF backend.

Works on any object with boto3's SWF client methods (the embedded backend or
boto3 itself): list the open and closed runs of the id, take the one started
last, and page through its history.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class ExecutionNotFound(Exception):
    """The backend has no run of that workflow id, or could not be asked."""


def latest_history(swf: Any, domain: str, workflow_id: str) -> list[dict[str, Any]]:
    """The events of the latest run of `workflow_id`, oldest first."""
    try:
        run = _latest_run(swf, domain, workflow_id)
        return _history(swf, domain, run)
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message") or str(error)
        raise ExecutionNotFound(
            f"cannot read workflow {workflow_id!r} in domain {domain}: {message}"
        ) from None


def _latest_run(swf: Any, domain: str, workflow_id: str) -> dict[str, str]:
    request = {
        "domain": domain,
        "startTimeFilter": {"oldestDate": EPOCH},
        "executionFilter": {"workflowId": workflow_id},
    }
    infos = _all_pages(swf.list_open_workflow_executions, request, "executionInfos")
    infos += _all_pages(swf.list_closed_workflow_executions, request, "executionInfos")
    if not infos:
        raise ExecutionNotFound(
            f"domain {domain} has no execution with workflow id {workflow_id!r}"
        )
    # At most one run is open, and it started after every closed one; the
    # tie-break only matters for runs started within the same clock tick.
    latest = max(
        infos,
        key=lambda i: (i["startTimestamp"], i.get("executionStatus") == "OPEN"),
    )
    execution: dict[str, str] = latest["execution"]
    return execution


def _history(swf: Any, domain: str, run: dict[str, str]) -> list[dict[str, Any]]:
    request = {"domain": domain, "execution": run}
    return _all_pages(swf.get_workflow_execution_history, request, "events")


def _all_pages(
    call: Callable[..., dict[str, Any]], request: dict[str, Any], key: str
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = call(**request, **({"nextPageToken": token} if token else {}))
        items.extend(page.get(key, []))
        token = page.get("nextPageToken")
        if not token:
            return items
