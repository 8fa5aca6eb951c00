"""What the services refuse that botocore lets through: lengths and names.

botocore checks types and minimum lengths before sending; maximum lengths and
SWF's rules for names are checked by the service itself. The embedded backend
checks them too, so a run that works here does not fail on AWS.
"""

from __future__ import annotations

from typing import Any

from cpe.runtime.backends.local.errors import sqs_error, swf_error
from cpe.runtime.backends.local.validation import service_model
from cpe.runtime.swf_errors import swf_name_problem

# SWF shapes whose values are names or ids, and so follow SWF's naming rules.
_SWF_NAME_SHAPES = frozenset(
    {
        "DomainName",
        "Name",
        "WorkflowId",
        "ActivityId",
        "TimerId",
        "SignalName",
        "MarkerName",
    }
)
_MAX_RETENTION_DAYS = 90


def _problems(shape: Any, value: Any, where: str, service: str) -> list[str]:
    found: list[str] = []
    limit = shape.metadata.get("max")
    if shape.type_name == "string" and isinstance(value, str):
        if isinstance(limit, int) and len(value) > limit:
            found.append(
                f"Value at '{where}' failed to satisfy constraint: Member must have "
                f"length less than or equal to {limit}"
            )
        if service == "swf" and shape.name in _SWF_NAME_SHAPES:
            problem = swf_name_problem(value)
            if problem is not None:
                found.append(f"Value at '{where}' is not a valid name: {problem}")
    elif shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                found.extend(
                    _problems(
                        member, value[name], f"{where}.{name}".lstrip("."), service
                    )
                )
    elif shape.type_name == "list" and isinstance(value, list):
        if isinstance(limit, int) and len(value) > limit:
            found.append(
                f"Value at '{where}' failed to satisfy constraint: Member must have "
                f"at most {limit} items"
            )
        for index, item in enumerate(value):
            found.extend(_problems(shape.member, item, f"{where}[{index}]", service))
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            found.extend(_problems(shape.value, item, f"{where}.{key}", service))
    return found


def enforce_limits(service: str, operation: str, params: dict[str, Any]) -> None:
    """Raise the service's ValidationException for a request it would refuse."""
    shape = service_model(service).operation_model(operation).input_shape
    if shape is None:
        return
    found = _problems(shape, params, "", service)
    retention = params.get("workflowExecutionRetentionPeriodInDays")
    if (
        operation == "RegisterDomain"
        and isinstance(retention, str)
        and retention.isdigit()
    ):
        if int(retention) > _MAX_RETENTION_DAYS:
            found.append(f"the retention period is at most {_MAX_RETENTION_DAYS} days")
    if not found:
        return
    message = f"{len(found)} validation error(s) detected: " + "; ".join(found)
    if service == "swf":
        raise swf_error("ValidationException", message, operation)
    raise sqs_error("InvalidParameterValue", message, operation)
