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


def _template(text: str, references: list[Reference], item: str | None = None) -> Any:
    return {
        "template": text,
        "references": _unique([r.as_json(item) for r in references]),
    }


def _step(
    step: Step, references: list[Reference], condition_reads: list[dict[str, Any]]
) -> dict[str, Any]:
    item = step.for_each.item if step.for_each is not None else None
    emitted: dict[str, Any] = {
        "name": step.name,
        "activity": step.activity if step.runs_activity else None,
        "requires": [{"step": r.step, "status": r.status.value} for r in step.requires],
        "input": None
        if step.input is None
        else _template(step.input.text, references, item),
    }
    # Only steps that have a condition carry the key, so that plans of
    # language 1 compile to the IR they always did.
    if step.when is not None:
        emitted["when"] = {
            "text": step.when.text,
            "ast": step.when.ast,
            "references": _unique(condition_reads),
        }
    emitted.update(_language_2_keys(step))
    return emitted


def _language_2_keys(step: Step) -> dict[str, Any]:
    """retry, for_each, wait and signal, each only when the step has it."""
    keys: dict[str, Any] = {}
    if step.retry is not None:
        retry = step.retry
        keys["retry"] = {
            "max_attempts": retry.max_attempts,
            "interval": retry.interval,
            "backoff_rate": retry.backoff_rate,
            "max_interval": retry.max_interval,
            "jitter": retry.jitter,
            "outcomes": list(retry.outcomes),
        }
    if step.for_each is not None:
        for_each = step.for_each
        keys["for_each"] = {
            "text": for_each.text,
            "path": for_each.path,
            "as": for_each.item,
            "max_concurrency": for_each.max_concurrency,
            "tolerated_failures": for_each.tolerated_failures,
        }
    if step.wait is not None:
        keys["wait"] = {"seconds": step.wait}
    if step.signal is not None:
        keys["signal"] = {"name": step.signal.name, "timeout": step.signal.timeout}
    return keys


def emit(
    plan: Plan,
    references: dict[str, list[Reference]],
    conditions: dict[str, list[dict[str, Any]]],
    order: list[str],
    output: list[Reference] | None = None,
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
    # Only a plan with `output:` carries the key, as with every key of language 2.
    if plan.output is not None:
        body["workflow"]["output"] = _template(plan.output.text, output or [])
    return {**body, "content_hash": content_hash(body)}


def dumps(ir: dict[str, Any]) -> str:
    """The IR file's bytes: sorted keys and a stable layout, so equal IR is equal text."""
    return json.dumps(ir, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
