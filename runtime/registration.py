"""Registering a domain and the types of a compiled plan, idempotently."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cpe.runtime.swf_errors import error_code

_ALREADY = ("DomainAlreadyExistsFault", "TypeAlreadyExistsFault")


def _tolerate_existing(call: Any, **request: Any) -> bool:
    """Make a Register* call; False if the thing was registered already."""
    try:
        call(**request)
    except ClientError as error:
        if error_code(error) in _ALREADY:
            return False
        raise
    return True


def ensure_domain(swf: Any, domain: str, retention_days: int = 7) -> bool:
    return _tolerate_existing(
        swf.register_domain,
        name=domain,
        workflowExecutionRetentionPeriodInDays=str(retention_days),
        description="registered by cpe",
    )


def ensure_types(swf: Any, domain: str, ir: dict[str, Any]) -> list[str]:
    """Register the workflow type and activity types of `ir`; the names newly made."""
    made: list[str] = []
    workflow = ir["workflow"]
    if _tolerate_existing(
        swf.register_workflow_type,
        domain=domain,
        name=workflow["name"],
        version=workflow["version"],
        defaultTaskList={"name": workflow["task_list"]},
        defaultExecutionStartToCloseTimeout=workflow[
            "execution_start_to_close_timeout"
        ],
        defaultTaskStartToCloseTimeout=workflow["task_start_to_close_timeout"],
        defaultChildPolicy=workflow["child_policy"],
    ):
        made.append(f"workflow {workflow['name']} {workflow['version']}")
    for activity in ir["activities"].values():
        if _tolerate_existing(
            swf.register_activity_type,
            domain=domain,
            name=activity["name"],
            version=activity["version"],
            defaultTaskList={"name": activity["task_list"]},
            defaultTaskHeartbeatTimeout=activity["heartbeat_timeout"],
            defaultTaskScheduleToStartTimeout=activity["schedule_to_start_timeout"],
            defaultTaskScheduleToCloseTimeout=activity["schedule_to_close_timeout"],
            defaultTaskStartToCloseTimeout=activity["start_to_close_timeout"],
        ):
            made.append(f"activity {activity['name']} {activity['version']}")
    return made
