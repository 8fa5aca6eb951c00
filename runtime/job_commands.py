"""What the input poller does for each client command, against SWF.

Every handler returns the reply for the client's output queue. Two kinds of
trouble are told apart, because the poller treats them differently:

- `CommandRefused`: the command itself cannot be carried out (no job id, an
  undeployed workflow type, a job that does not exist). The client gets a
  COMMAND_FAILED reply and the message is deleted: sending it again would
  fail again.
- any other exception: SWF could not be reached or refused to work (throttled,
  a deprecated domain, no permission). The message is left on the queue to
  be delivered again once SWF is back, and the poller backs off.

A job's `jobId` is its SWF workflow id, which makes START_JOB idempotent: a
message delivered twice starts one workflow, and the second delivery is
answered with the run the first one started.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cpe.runtime import executions, protocol
from cpe.runtime.swf_errors import PAYLOAD_LIMIT, error_code, swf_name_problem

_LIST_LIMIT = 500
"""The most jobs a JOB_LIST reply holds, to stay far below SQS's message size."""
CLIENT_TAG_PREFIX = "cpe-client:"
"""Executions started for a client carry the tag `cpe-client:NAME`."""

# Codes that say the command is wrong, not that SWF is unwell.
_REFUSING_CODES = frozenset(
    {
        "TypeDeprecatedFault",
        "DefaultUndefinedFault",
        "ValidationException",
        "InvalidParameterValue",
        "InvalidParameterCombination",
    }
)


class CommandRefused(Exception):
    """The command cannot be carried out as it is; the reason says why."""


@dataclass(frozen=True)
class JobSettings:
    domain: str
    """The SWF domain this poller starts and looks up jobs in."""
    default_workflow: tuple[str, str] | None = None
    """(name, version) started when a START_JOB names no workflow."""
    client: dict[str, Any] | None = None
    """The client given to a job whose data names none (INPUT/OUTPUT_QUEUE)."""


def _is_refusal(error: Exception) -> bool:
    if type(error).__name__ == "ParamValidationError":
        return True  # botocore's own check of a parameter: the message's values
    return error_code(error) in _REFUSING_CODES


class JobCommands:
    """Carries out commands in one SWF domain."""

    def __init__(self, swf: Any, settings: JobSettings) -> None:
        self._swf = swf
        self._settings = settings
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            protocol.START_JOB: self.start_job,
            protocol.CANCEL_JOB: self.cancel_job,
            protocol.GET_JOB_STATUS: self.job_status,
            protocol.GET_JOB_LIST: self.job_list,
            protocol.GET_ACTIVITY_STATUS: self.activity_status,
        }

    @property
    def domain(self) -> str:
        return self._settings.domain

    def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        """The reply to `command` (as `protocol.decode_command` returns it)."""
        try:
            return self._handlers[command["type"]](command)
        except CommandRefused:
            raise
        except Exception as error:
            if _is_refusal(error):
                raise CommandRefused(f"SWF refused the command: {error}") from None
            raise

    # -- START_JOB -------------------------------------------------------------

    def start_job(self, command: dict[str, Any]) -> dict[str, Any]:
        job_id = _required_job_id(command)
        data = self._with_client(command["data"])
        name, version, workflow = self._workflow_type(data)
        request: dict[str, Any] = {
            "domain": self.domain,
            "workflowId": job_id,
            "workflowType": {"name": name, "version": version},
            "input": _workflow_input(data),
        }
        if workflow.get("taskList"):
            request["taskList"] = {"name": str(workflow["taskList"])}
        timeout = workflow.get("executionStartToCloseTimeout")
        if timeout is not None:
            request["executionStartToCloseTimeout"] = _duration(timeout)
        client = protocol.client_name_of(data)
        if client is not None and len(CLIENT_TAG_PREFIX + client) <= 256:
            request["tagList"] = [CLIENT_TAG_PREFIX + client]

        # One more SWF call per start, the price of idempotency after a job
        # has closed (SWF itself only refuses a second *open* run).
        earlier = self._closed_run(job_id)
        if earlier is not None:
            return _scheduled(command, job_id, earlier, request, data, again=True)
        try:
            run_id = self._swf.start_workflow_execution(**request)["runId"]
        except Exception as error:
            code = error_code(error)
            if code == "WorkflowExecutionAlreadyStartedFault":
                open_run = self._open_run(job_id)
                if open_run is None:  # closed between the two calls
                    open_run = self._closed_run(job_id)
                if open_run is None:
                    raise
                return _scheduled(command, job_id, open_run, request, data, again=True)
            if code == "UnknownResourceFault":
                self._swf.describe_domain(
                    name=self.domain
                )  # raises if the domain is gone
                raise CommandRefused(
                    f"workflow type {name} version {version} is not registered in "
                    f"domain {self.domain}; deploy its plan first"
                ) from None
            raise
        return _scheduled(command, job_id, run_id, request, data, again=False)

    def _with_client(self, data: dict[str, Any]) -> dict[str, Any]:
        if "client" in data or self._settings.client is None:
            return data
        return {**data, "client": self._settings.client}

    def _workflow_type(self, data: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        workflow = data.get("workflow")
        if workflow is None:
            workflow = {}
        if not isinstance(workflow, dict):
            raise CommandRefused("'data.workflow' must be an object")
        name, version = workflow.get("name"), workflow.get("version")
        if name is None and version is None and self._settings.default_workflow:
            name, version = self._settings.default_workflow
        if not name or version is None or version == "":
            raise CommandRefused(
                "the job names no workflow: give 'data.workflow' with 'name' and "
                "'version' (or start the input poller with --workflow)"
            )
        domain = workflow.get("domain")
        if domain is not None and domain != self.domain:
            raise CommandRefused(
                f"the job is for domain {domain!r}, but this input poller serves "
                f"domain {self.domain!r}; send it to the input queue of that domain"
            )
        return str(name), str(version), workflow

    # -- CANCEL_JOB ------------------------------------------------------------

    def cancel_job(self, command: dict[str, Any]) -> dict[str, Any]:
        job_id = _required_job_id(command)
        run_id = self._open_run(job_id)
        if run_id is None:
            raise CommandRefused(_not_open(job_id, self._closed_run(job_id)))
        try:
            self._swf.request_cancel_workflow_execution(
                domain=self.domain, workflowId=job_id, runId=run_id
            )
        except Exception as error:
            if error_code(error) == "UnknownResourceFault":
                raise CommandRefused(_not_open(job_id, run_id)) from None
            raise
        data = {"workflow": protocol.workflow_ref(job_id, run_id)}
        return protocol.notification(protocol.JOB_CANCEL_REQUESTED, job_id, data)

    # -- GET_JOB_STATUS ----------------------------------------------------------

    def job_status(self, command: dict[str, Any]) -> dict[str, Any]:
        job_id = _required_job_id(command)
        run_id = self._open_run(job_id) or self._closed_run(job_id)
        if run_id is None:
            data: dict[str, Any] = {"workflow": None, "status": "NOT_FOUND"}
            return protocol.notification(protocol.JOB_STATUS, job_id, data)
        execution = {"workflowId": job_id, "runId": run_id}
        described = self._swf.describe_workflow_execution(
            domain=self.domain, execution=execution
        )
        info = described.get("executionInfo") or {}
        data = {
            "workflow": protocol.workflow_ref(job_id, run_id),
            "workflowType": info.get("workflowType"),
            "status": info.get("executionStatus"),
            "closeStatus": info.get("closeStatus"),
            "startTimestamp": _timestamp(info.get("startTimestamp")),
            "closeTimestamp": _timestamp(info.get("closeTimestamp")),
            "openActivityTasks": (described.get("openCounts") or {}).get(
                "openActivityTasks", 0
            ),
        }
        if info.get("executionStatus") == "CLOSED":
            data.update(self._closing(execution))
        return protocol.notification(protocol.JOB_STATUS, job_id, data)

    def _closing(self, execution: dict[str, str]) -> dict[str, Any]:
        """The result, or the reason and details, of a closed execution."""
        page = self._swf.get_workflow_execution_history(
            domain=self.domain,
            execution=execution,
            reverseOrder=True,
            maximumPageSize=1,
        )
        events = page.get("events") or []
        if not events:
            return {}
        event = events[0]
        attributes: dict[str, Any] = next(
            (v for k, v in event.items() if k.endswith("EventAttributes")), {}
        )
        found: dict[str, Any] = {}
        if "result" in attributes:
            found["result"] = protocol.parse_json_text(attributes["result"])
        for field in ("reason", "details"):
            if attributes.get(field) is not None:
                found[field] = attributes[field]
        return found

    # -- GET_JOB_LIST ------------------------------------------------------------

    def job_list(self, command: dict[str, Any]) -> dict[str, Any]:
        data = command["data"]
        wanted = data.get("status", "open")
        if wanted not in ("open", "closed", "all"):
            raise CommandRefused("'data.status' must be open, closed or all")
        client = protocol.client_name_of(self._with_client(data))
        jobs: list[dict[str, Any]] = []
        truncated = False
        for status in ("open", "closed"):
            if wanted in (status, "all"):
                for job in self._executions(status, client):
                    if len(jobs) == _LIST_LIMIT:
                        truncated = True
                        break
                    jobs.append(job)
        reply = {"jobs": jobs, "truncated": truncated, "client": client}
        return protocol.notification(
            protocol.JOB_LIST, protocol.job_id_of(command) or "", reply
        )

    def _executions(self, status: str, client: str | None) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "domain": self.domain,
            "startTimeFilter": {"oldestDate": executions.EPOCH},
            "maximumPageSize": 100,
        }
        if client is not None:
            request["tagFilter"] = {"tag": CLIENT_TAG_PREFIX + client}
        listing = executions.listing_of(self._swf, status)
        for seen, info in enumerate(executions.paged(listing, request), start=1):
            execution = info.get("execution") or {}
            yield {
                "jobId": execution.get("workflowId"),
                "workflow": protocol.workflow_ref(
                    execution.get("workflowId", ""), execution.get("runId", "")
                ),
                "workflowType": info.get("workflowType"),
                "status": info.get("executionStatus"),
                "closeStatus": info.get("closeStatus"),
                "startTimestamp": _timestamp(info.get("startTimestamp")),
                "closeTimestamp": _timestamp(info.get("closeTimestamp")),
            }
            if seen > _LIST_LIMIT:
                return

    # -- GET_ACTIVITY_STATUS -----------------------------------------------------

    def activity_status(self, command: dict[str, Any]) -> dict[str, Any]:
        job_id = _required_job_id(command)
        wanted = command["data"].get("activityId")
        if wanted is not None and not isinstance(wanted, str):
            raise CommandRefused("'data.activityId' must be text")
        run_id = self._open_run(job_id) or self._closed_run(job_id)
        if run_id is None:
            raise CommandRefused(f"there is no job {job_id!r} in domain {self.domain}")
        execution = {"workflowId": job_id, "runId": run_id}
        activities = activity_states(self._history(execution))
        data: dict[str, Any] = {"workflow": protocol.workflow_ref(job_id, run_id)}
        if wanted is None:
            # Every activity, without results: many of them would not fit.
            data["activities"] = [
                {k: v for k, v in a.items() if k not in ("result", "details")}
                for a in activities.values()
            ]
        else:
            data["activity"] = activities.get(
                wanted, {"activityId": wanted, "status": "NOT_FOUND"}
            )
        return protocol.notification(protocol.ACTIVITY_STATUS, job_id, data)

    def _history(self, execution: dict[str, str]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        request: dict[str, Any] = {"domain": self.domain, "execution": execution}
        while True:
            page = self._swf.get_workflow_execution_history(**request)
            events.extend(page.get("events") or [])
            token = page.get("nextPageToken")
            if not token:
                return events
            request["nextPageToken"] = token

    # -- finding a job's run -----------------------------------------------------

    def _open_run(self, job_id: str) -> str | None:
        return self._run_in("open", job_id)

    def _closed_run(self, job_id: str) -> str | None:
        return self._run_in("closed", job_id)

    def _run_in(self, status: str, job_id: str) -> str | None:
        """The newest run of `job_id` among the open or the closed ones."""
        request = {"domain": self.domain, **executions.of_workflow_id(job_id)}
        infos = executions.paged(executions.listing_of(self._swf, status), request)
        info = next(executions.with_workflow_id(infos, job_id), None)
        if info is None:
            return None
        run_id: str = info["execution"]["runId"]
        return run_id


_STATUS_OF_EVENT = {
    "ActivityTaskScheduled": "SCHEDULED",
    "ActivityTaskStarted": "STARTED",
    "ActivityTaskCompleted": "COMPLETED",
    "ActivityTaskFailed": "FAILED",
    "ActivityTaskTimedOut": "TIMED_OUT",
    "ActivityTaskCanceled": "CANCELED",
    "ActivityTaskCancelRequested": "CANCEL_REQUESTED",
}


def activity_states(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Where each activity of a history stands, by activity id, in schedule order."""
    states: dict[str, dict[str, Any]] = {}
    by_scheduled_event: dict[Any, str] = {}
    for event in events:
        event_type = event.get("eventType", "")
        if event_type not in _STATUS_OF_EVENT:
            continue
        key = event_type[0].lower() + event_type[1:] + "EventAttributes"
        attributes = event.get(key) or {}
        if event_type == "ActivityTaskScheduled":
            activity_id = attributes.get("activityId", "")
            by_scheduled_event[event.get("eventId")] = activity_id
            states[activity_id] = {
                "activityId": activity_id,
                "activityType": attributes.get("activityType"),
                "status": "SCHEDULED",
                "scheduledTimestamp": _timestamp(event.get("eventTimestamp")),
            }
            continue
        if event_type == "ActivityTaskCancelRequested":
            activity_id = attributes.get("activityId", "")
        else:
            activity_id = by_scheduled_event.get(attributes.get("scheduledEventId"), "")
        state = states.get(activity_id)
        if state is None:
            continue
        state["status"] = _STATUS_OF_EVENT[event_type]
        if event_type == "ActivityTaskStarted":
            state["worker"] = attributes.get("identity")
        if "result" in attributes:
            state["result"] = protocol.parse_json_text(attributes["result"])
        for field in ("reason", "details", "timeoutType"):
            if attributes.get(field) is not None:
                state[field] = attributes[field]
    return states


def _required_job_id(command: dict[str, Any]) -> str:
    job_id = protocol.job_id_of(command)
    if job_id is None:
        raise CommandRefused(f"{command['type']} needs a 'jobId'")
    problem = swf_name_problem(job_id)
    if problem is not None:
        raise CommandRefused(f"jobId {job_id!r} cannot be a workflow id: {problem}")
    return job_id


def _workflow_input(data: dict[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False)
    if len(text) > PAYLOAD_LIMIT:
        raise CommandRefused(
            f"the job's data is {len(text)} characters of JSON, over SWF's input "
            f"limit of {PAYLOAD_LIMIT}; pass large values by reference (a file name)"
        )
    return text


def _duration(value: Any) -> str:
    text = str(value)
    if not text.isdigit() or len(text) > 8:
        raise CommandRefused(
            f"executionStartToCloseTimeout {value!r} must be a whole number of seconds"
        )
    return text


def _timestamp(value: Any) -> float | None:
    """Epoch seconds: boto3 gives datetimes, which JSON cannot hold."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


def _not_open(job_id: str, closed_run: str | None) -> str:
    if closed_run is None:
        return f"there is no job {job_id!r}"
    return f"job {job_id!r} is closed already"


def _scheduled(
    command: dict[str, Any],
    job_id: str,
    run_id: str,
    request: dict[str, Any],
    data: dict[str, Any],
    *,
    again: bool,
) -> dict[str, Any]:
    """WORKFLOW_SCHEDULED as the original sent it, keys beside `data` included."""
    return protocol.notification(
        protocol.WORKFLOW_SCHEDULED,
        job_id,
        {"workflow": protocol.workflow_ref(job_id, run_id)},
        runId=run_id,
        workflowId=job_id,
        workflowType=request["workflowType"],
        input=data,
        alreadyStarted=again,
    )
