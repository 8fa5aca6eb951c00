"""Emitting the IR: plain, deterministic JSON that the decider and renderers read.

Everything the runtime needs is resolved here (defaults, task lists, parsed
selectors, the references of each template, a topological order), so nothing
downstream reads YAML or re-derives a default.
"""

from __future__ import annotations

import json
from typing import Any

from cpe.compiler.plan import DEFAULT_CHILD_POLICY, Activity, Plan, Step
from cpe.compiler.references import Reference
from cpe.runtime.ir import content_hash

IR_VERSION = 1


def _activity(activity: Activity) -> dict[str, Any]:
    outputs = None
    if activity.outputs_spec is not None:
        outputs = {
            key: {"selector": selector.text, "steps": selector.steps}
            for key, selector in activity.outputs_spec.items()
        }
    return {
        "name": activity.name,
        "version": activity.version,
        "task_list": activity.task_list,
        **activity.timeouts,
        "input_spec": activity.input_spec,
        "outputs_spec": outputs,
    }


def _step(step: Step, references: list[Reference]) -> dict[str, Any]:
    unique = {json.dumps(r.as_json(), sort_keys=True): r.as_json() for r in references}
    return {
        "name": step.name,
        "activity": step.activity,
        "requires": [{"step": r.step, "status": r.status.value} for r in step.requires],
        "input": None
        if step.input is None
        else {
            "template": step.input.text,
            "references": [unique[k] for k in sorted(unique)],
        },
    }


def emit(
    plan: Plan, references: dict[str, list[Reference]], order: list[str]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ir_version": IR_VERSION,
        "plan_language": plan.language,
        "workflow": {
            "name": plan.name,
            "version": plan.version,
            "task_list": f"{plan.name}-{plan.version}",
            "execution_start_to_close_timeout": plan.execution_start_to_close_timeout,
            "task_start_to_close_timeout": plan.task_start_to_close_timeout,
            "child_policy": DEFAULT_CHILD_POLICY,
            "input_spec": plan.input_spec,
        },
        "activities": {name: _activity(a) for name, a in plan.activities.items()},
        "steps": {
            name: _step(step, references.get(name, []))
            for name, step in plan.steps.items()
        },
        "order": order,
    }
    return {**body, "content_hash": content_hash(body)}


def dumps(ir: dict[str, Any]) -> str:
    """The IR file's bytes: sorted keys and a stable layout, so equal IR is equal text."""
    return json.dumps(ir, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
