"""Paths into data the compiler knows the shape of: a condition or for_each
path as literal parts, and what the input_spec says is at a path."""

from __future__ import annotations

from typing import Any

from cpe.compiler.plan import Plan, Step
from cpe.runtime.templates import INPUT_NAME


def path_parts(steps: list[dict[str, Any]]) -> tuple[str | int, ...]:
    """A condition path's steps as the literal path the binding checks walk."""
    parts: list[str | int] = []
    for step in steps:
        if "key" in step:
            parts.append(str(step["key"]))
        elif "index" in step:
            parts.append(int(step["index"]))
        else:
            break  # a wildcard: what follows depends on the data
    return tuple(parts)


def input_schema_at(plan: Plan, path: tuple[str | int, ...]) -> Any:
    """The part of the input_spec that describes `__input__` at `path`, or None."""
    schema: Any = plan.input_spec
    for part in path:
        if not isinstance(schema, dict):
            return None
        if isinstance(part, int):
            schema = schema.get("items") if schema.get("type") == "array" else None
            continue
        properties = schema.get("properties")
        schema = properties.get(part) if isinstance(properties, dict) else None
    return schema


def item_schema(plan: Plan, step: Step) -> Any:
    """What the input_spec says of a fan-out step's items, when it runs over
    a list of the workflow input the input_spec describes; else None."""
    if step.for_each is None or step.for_each.path["name"] != INPUT_NAME:
        return None
    schema = input_schema_at(plan, path_parts(step.for_each.path["steps"]))
    if isinstance(schema, dict) and schema.get("type") == "array":
        return schema.get("items")
    return None
