"""Changes to the workflow as a whole: its type, timeouts, input schema, the
IR's own top-level keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cpe.compiler.diff_context import DiffContext
from cpe.compiler.diff_generic import unknown_key_changes
from cpe.compiler.diff_language_2 import output_changes
from cpe.compiler.diff_model import Change, Subject
from cpe.compiler.diff_schema import SchemaComparison, compare_schemas
from cpe.compiler.diff_values import seconds

WORKFLOW_TIMEOUTS = ("execution_start_to_close_timeout", "task_start_to_close_timeout")
WORKFLOW_KEYS = {
    "name",
    "version",
    "task_list",
    "input_spec",
    "output",
    *WORKFLOW_TIMEOUTS,
}
# The sections other modules compare, and the hash that only summarises them.
SECTIONS = {"workflow", "activities", "steps", "order", "content_hash"}


def workflow_changes(context: DiffContext) -> Iterator[Change]:
    old, new = context.old["workflow"], context.new["workflow"]
    subject = Subject("workflow", new["name"])
    if not context.same_type:
        yield _type_changed(subject, old, new)
    if old["task_list"] != new["task_list"]:
        yield _task_list_changed(subject, old, new)
    for key in WORKFLOW_TIMEOUTS:
        if old[key] != new[key]:
            yield _timeout_changed(context, subject, key, old[key], new[key])
    if old["input_spec"] != new["input_spec"]:
        yield _input_spec_changed(context, subject, old, new)
    yield from output_changes(context, subject)
    yield from unknown_key_changes(
        "workflow-key-changed", subject, old, new, WORKFLOW_KEYS
    )
    yield from unknown_key_changes(
        "ir-key-changed", subject, context.old, context.new, SECTIONS, owner="IR"
    )


def _type_changed(subject: Subject, old: dict[str, Any], new: dict[str, Any]) -> Change:
    before, after = f"{old['name']} {old['version']}", f"{new['name']} {new['version']}"
    return Change(
        kind="workflow-type-changed",
        subject=subject,
        message=f"workflow type {before} becomes {after}: a different workflow type",
        before={"name": old["name"], "version": old["version"]},
        after={"name": new["name"], "version": new["version"]},
        note=(
            f"running executions of {before} keep their old IR; new executions "
            f"run {after} only when clients ask for it by name and version"
        ),
    )


def _task_list_changed(
    subject: Subject, old: dict[str, Any], new: dict[str, Any]
) -> Change:
    return Change(
        kind="task-list-changed",
        subject=subject,
        key="task_list",
        message=(
            f"workflow {new['name']}: decision task list "
            f"{old['task_list']} → {new['task_list']}"
        ),
        before=old["task_list"],
        after=new["task_list"],
        note=(
            "running executions keep the task list they started on; a decider "
            f"must poll {new['task_list']} for the new ones"
        ),
    )


def _timeout_changed(
    context: DiffContext, subject: Subject, key: str, before: Any, after: Any
) -> Change:
    note = "applies to executions started from now on"
    if context.same_type:
        # Starts take these from the type's registered defaults, and
        # registering an existing type again changes nothing.
        note += (
            "; SWF keeps the defaults registered with the workflow type, so under "
            "the same name and version it takes effect only where a start request "
            "names its own timeout"
        )
    return Change(
        kind="timeout-changed",
        subject=subject,
        key=key,
        message=f"workflow {subject.name}: {key} {seconds(before)} → {seconds(after)}",
        before=before,
        after=after,
        note=note,
    )


def _input_spec_changed(
    context: DiffContext, subject: Subject, old: dict[str, Any], new: dict[str, Any]
) -> Change:
    comparison = compare_schemas(old["input_spec"], new["input_spec"])
    breaking, note = schema_risk(
        context,
        comparison,
        "the decider checks the workflow input against input_spec at every "
        "decision, so a running execution whose input fails the new schema "
        "fails at its next decision",
    )
    return Change(
        kind="input-spec-changed",
        subject=subject,
        key="input_spec",
        message=f"workflow {subject.name}: input_spec {comparison.sentence()}",
        before=old["input_spec"],
        after=new["input_spec"],
        breaking=breaking,
        note=note,
    )


def schema_risk(
    context: DiffContext, comparison: SchemaComparison, risk: str
) -> tuple[bool | None, str]:
    """Whether a schema change can reject data running executions already hold."""
    if comparison.verdict in ("looser", "equivalent"):
        return False, "everything the old schema accepted is still accepted"
    if comparison.verdict == "stricter":
        return context.replay(risk)
    return context.replay(
        f"the new schema may reject data the old one accepted; {risk}", breaking=None
    )
