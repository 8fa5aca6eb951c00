"""Registering a domain and the types of a compiled plan, idempotently.

SWF types are immutable: once `Transcode 1.0` is registered, registering it
again with other defaults changes nothing. So when a type exists already, its
registered defaults are compared with the plan's, and each difference is
reported as a warning instead of being silently kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from cpe.runtime.swf_errors import error_code

_ALREADY = ("DomainAlreadyExistsFault", "TypeAlreadyExistsFault")


@dataclass
class RegistrationReport:
    """What registering a plan's types did."""

    made: list[str] = field(default_factory=list)
    """The types newly registered, as `workflow NAME VERSION`, `activity ...`."""
    warnings: list[str] = field(default_factory=list)
    """One sentence per existing type whose registered defaults differ."""


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


def workflow_defaults(
    ir: dict[str, Any], task_list: str | None = None
) -> dict[str, Any]:
    """The defaults the workflow type of `ir` is registered with.

    `task_list`, when given, replaces the IR's decision task list (a
    deployment setting, see `cpec deploy --task-list`).
    """
    workflow = ir["workflow"]
    return {
        "defaultTaskList": {"name": task_list or workflow["task_list"]},
        "defaultExecutionStartToCloseTimeout": workflow[
            "execution_start_to_close_timeout"
        ],
        "defaultTaskStartToCloseTimeout": workflow["task_start_to_close_timeout"],
        "defaultChildPolicy": workflow["child_policy"],
    }


def activity_defaults(activity: dict[str, Any]) -> dict[str, Any]:
    """The defaults an activity type of the IR is registered with."""
    return {
        "defaultTaskList": {"name": activity["task_list"]},
        "defaultTaskHeartbeatTimeout": activity["heartbeat_timeout"],
        "defaultTaskScheduleToStartTimeout": activity["schedule_to_start_timeout"],
        "defaultTaskScheduleToCloseTimeout": activity["schedule_to_close_timeout"],
        "defaultTaskStartToCloseTimeout": activity["start_to_close_timeout"],
    }


def register_plan_types(
    swf: Any, domain: str, ir: dict[str, Any], task_list: str | None = None
) -> RegistrationReport:
    """Register the workflow and activity types of `ir`, comparing existing ones."""
    report = RegistrationReport()
    workflow = ir["workflow"]
    _register_one(
        report,
        f"workflow type {workflow['name']} version {workflow['version']}",
        swf.register_workflow_type,
        swf.describe_workflow_type,
        "workflowType",
        domain,
        workflow["name"],
        workflow["version"],
        workflow_defaults(ir, task_list),
    )
    for activity in ir["activities"].values():
        _register_one(
            report,
            f"activity type {activity['name']} version {activity['version']}",
            swf.register_activity_type,
            swf.describe_activity_type,
            "activityType",
            domain,
            activity["name"],
            activity["version"],
            activity_defaults(activity),
        )
    return report


def _register_one(
    report: RegistrationReport,
    label: str,
    register: Callable[..., Any],
    describe: Callable[..., Any],
    type_key: str,
    domain: str,
    name: str,
    version: str,
    defaults: dict[str, Any],
) -> None:
    if _tolerate_existing(
        register, domain=domain, name=name, version=version, **defaults
    ):
        report.made.append(label.replace(" type", ""))
        return
    answer = describe(domain=domain, **{type_key: {"name": name, "version": version}})
    differences = differing_defaults(answer.get("configuration") or {}, defaults)
    if differences:
        report.warnings.append(
            f"{label} is registered already with other defaults, which SWF keeps "
            f"(types cannot change): {'; '.join(differences)}. Give the plan a new "
            "version to register the new defaults"
        )


def differing_defaults(
    registered: Mapping[str, Any], wanted: Mapping[str, Any]
) -> list[str]:
    """`defaultX is A registered, B in the plan` for each default that differs."""
    differences = []
    for key, value in wanted.items():
        have = registered.get(key)
        if _plain(have) != _plain(value):
            differences.append(
                f"{key} is {_shown(have)} registered, {_shown(value)} in this deployment"
            )
    return differences


def _plain(value: Any) -> Any:
    # A task list is {"name": ...}; durations are strings either way.
    if isinstance(value, Mapping):
        return value.get("name")
    return None if value is None else str(value)


def _shown(value: Any) -> str:
    plain = _plain(value)
    return "unset" if plain is None else repr(plain)


def ensure_types(swf: Any, domain: str, ir: dict[str, Any]) -> list[str]:
    """Register the workflow type and activity types of `ir`; the names newly made."""
    return register_plan_types(swf, domain, ir).made
