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


def _unique(reads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_text = {json.dumps(read, sort_keys=True): read for read in reads}
    return [by_text[text] for text in sorted(by_text)]


def _step(
    step: Step, references: list[Reference], condition_reads: list[dict[str, Any]]
) -> dict[str, Any]:
    emitted: dict[str, Any] = {
        "name": step.name,
        "activity": step.activity,
        "requires": [{"step": r.step, "status": r.status.value} for r in step.requires],
        "input": None
        if step.input is None
        else {
            "template": step.input.text,
            "references": _unique([r.as_json() for r in references]),
        },
    }
    # Only steps that have a condition carry the key, so that plans of
    # language 1 compile to the IR they always did.
    if step.when is not None:
        emitted["when"] = {
            "text": step.when.text,
            "ast": step.when.ast,
            "references": _unique(condition_reads),
        }
    return emitted


def emit(
    plan: Plan,
    references: dict[str, list[Reference]],
    conditions: dict[str, list[dict[str, Any]]],
    order: list[str],
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
            name: _step(step, references.get(name, []), conditions.get(name, []))
            for name, step in plan.steps.items()
        },
        "order": order,
    }
    return {**body, "content_hash": content_hash(body)}


def dumps(ir: dict[str, Any]) -> str:
    """The IR file's bytes: sorted keys and a stable layout, so equal IR is equal text."""
    return json.dumps(ir, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
