"""What the operations commands ask of SWF, on either backend, in plain words.

Every call goes through `OpsClient`, which turns SWF's faults (and boto3's
connection troubles) into `OpsError`s whose message says what is wrong and
what to do: the commands print them in one line.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cpe.runtime import executions
from cpe.runtime.swf_errors import error_code

# The oldest start time any listing must name: SWF insists on a time window.
EXCLUSIVE_FILTERS = ("executionFilter", "typeFilter", "tagFilter", "closeStatusFilter")


class OpsError(Exception):
    """The backend refused or could not do what was asked (exit 1)."""


@dataclass(frozen=True)
class Execution:
    workflow_id: str
    run_id: str

    def reference(self) -> dict[str, str]:
        return {"workflowId": self.workflow_id, "runId": self.run_id}


class OpsClient:
    """SWF calls for one domain, with errors a user can act on."""

    def __init__(self, swf: Any, domain: str, where: str) -> None:
        self.swf = swf
        self.domain = domain
        self.where = where

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self.swf, operation)(
                domain=self.domain, **params
            )
            return result
        except ClientError as error:
            raise OpsError(self._explain(error)) from None
        except BotoCoreError as error:
            raise OpsError(f"cannot reach SWF ({self.where}): {error}") from None

    def _explain(self, error: ClientError) -> str:
        code = error_code(error)
        message = error.response.get("Error", {}).get("Message", str(error))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code == "UnknownResourceFault" and "domain" in message.lower():
            return self.unknown_domain()
        if int(status) >= 500:
            # The body of a server error may be a whole HTML page: name the
            # call and the status only.
            return (
                f"SWF ({self.where}) failed on {error.operation_name} with HTTP "
                f"{status}; try again, or check that the service supports it"
            )
        return f"SWF refused ({self.where}): {code}: {' '.join(message.split())}"

    def unknown_domain(self) -> str:
        return (
            f"there is no domain {self.domain} in {self.where}; pass the domain "
            "the workflows ran in with --domain (or env CPE_DOMAIN)"
        )

    def check_domain(self) -> None:
        """Fail early and clearly when the domain does not exist."""
        try:
            self.swf.describe_domain(name=self.domain)
        except ClientError as error:
            if error_code(error) == "UnknownResourceFault":
                raise OpsError(self.unknown_domain()) from None
            raise OpsError(self._explain(error)) from None
        except BotoCoreError as error:
            raise OpsError(f"cannot reach SWF ({self.where}): {error}") from None

    # -- listings -------------------------------------------------------------

    def executions(
        self, status: str, request: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """Every execution info of one listing (open or closed), page by page."""
        operation = (
            "list_open_workflow_executions"
            if status == "open"
            else "list_closed_workflow_executions"
        )
        return executions.paged(functools.partial(self.call, operation), request)

    def runs_of(self, workflow_id: str) -> list[dict[str, Any]]:
        """Every run with this workflow id, the open one first, then newest first."""
        request = executions.of_workflow_id(workflow_id)
        runs = list(
            executions.with_workflow_id(self.executions("open", request), workflow_id)
        )
        closed = executions.with_workflow_id(
            self.executions("closed", request), workflow_id
        )
        runs += sorted(closed, key=lambda info: info["startTimestamp"], reverse=True)
        return runs

    def find(self, workflow_id: str, run_id: str | None) -> dict[str, Any]:
        """The execution info of a workflow id's open (else latest) run, or of run_id."""
        runs = self.runs_of(workflow_id)
        if run_id is not None:
            runs = [r for r in runs if r["execution"]["runId"] == run_id]
        if not runs:
            which = f" and run id {run_id}" if run_id else ""
            raise OpsError(
                f"no execution with workflow id {workflow_id}{which} in domain "
                f"{self.domain} ({self.where}); list them with 'cpec executions'"
            )
        return runs[0]

    def find_open(self, workflow_id: str, run_id: str | None, doing: str) -> Execution:
        """The open execution to act on; a clear error when it is closed."""
        info = self.find(workflow_id, run_id)
        if info["executionStatus"] != "OPEN":
            closed = info.get("closeStatus", "CLOSED")
            raise OpsError(
                f"the execution {workflow_id} (run {info['execution']['runId']}) is "
                f"already closed ({closed}); there is nothing to {doing}"
            )
        return Execution(workflow_id, info["execution"]["runId"])

    def history(self, execution: Execution, reverse: bool) -> list[dict[str, Any]]:
        """The whole history, following nextPageToken."""
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            request: dict[str, Any] = {
                "execution": execution.reference(),
                "reverseOrder": reverse,
            }
            if token:
                request["nextPageToken"] = token
            page = self.call("get_workflow_execution_history", **request)
            events.extend(page.get("events", []))
            token = page.get("nextPageToken")
            if not token:
                return events
