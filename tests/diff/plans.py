"""Small plans for the diff tests: a base plan, built as data so each test
states only what it changes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import yaml

from cpe.compiler import compile_text
from cpe.compiler.diff import PlanDiff, diff_ir
from cpe.runtime.ir import content_hash

Plan = dict[str, Any]

_BASE: Plan = {
    "name": "Media",
    "version": "1",
    "input_spec": {
        "type": "object",
        "required": ["src"],
        "properties": {"src": {"type": "string", "description": "the source"}},
    },
    "activities": [
        {
            "name": "Probe",
            "version": "1",
            "outputs_spec": {"meta": "$", "size": "$.size"},
        },
        {"name": "Encode", "version": "1", "input_spec": {"type": "object"}},
        {"name": "Notify", "version": "1"},
    ],
    "steps": [
        {"name": "probe", "activity": "Probe", "input": '{"src": {{ __input__.src }}}'},
        {
            "name": "encode",
            "activity": "Encode",
            "requires": ["probe"],
            "input": '{"meta": {{ probe.meta }}}',
        },
        {
            "name": "thumb",
            "activity": "Encode",
            "requires": ["probe"],
            "input": '{"meta": {{ probe.meta }}}',
        },
        {
            "name": "notify",
            "activity": "Notify",
            "requires": ["probe", ["encode", "completed"]],
            "input": '{"size": {{ probe.size }}}',
        },
    ],
}


def base_plan() -> Plan:
    return copy.deepcopy(_BASE)


def compile_plan(plan: Plan) -> dict[str, Any]:
    return compile_text(yaml.safe_dump(plan, sort_keys=False), "plan.yml")


def step(plan: Plan, name: str) -> dict[str, Any]:
    return next(s for s in plan["steps"] if s["name"] == name)


def activity(plan: Plan, name: str) -> dict[str, Any]:
    return next(a for a in plan["activities"] if a["name"] == name)


def diff_edit(edit: Callable[[Plan], None]) -> PlanDiff:
    """The diff from the base plan to the base plan changed by `edit`."""
    new = base_plan()
    edit(new)
    return diff_ir(compile_plan(base_plan()), compile_plan(new))


def summary(diff: PlanDiff) -> list[tuple[str, str, bool | None]]:
    return [(c.kind, c.message, c.breaking) for c in diff.changes]


def rehashed(ir: dict[str, Any]) -> dict[str, Any]:
    """IR edited by hand, with its hash made to match again."""
    body = {k: v for k, v in ir.items() if k != "content_hash"}
    return {**body, "content_hash": content_hash(body)}
