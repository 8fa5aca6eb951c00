"""Changes to activities: added or removed, versions, task lists, timeouts and
input schemas. Each names the steps that run the activity, since that is
where an operator sees the effect."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cpe.compiler.diff_context import DiffContext
from cpe.compiler.diff_generic import unknown_key_changes
from cpe.compiler.diff_model import Change, Subject
from cpe.compiler.diff_outputs import output_changes
from cpe.compiler.diff_schema import compare_schemas
from cpe.compiler.diff_values import listing, seconds
from cpe.compiler.diff_workflow import schema_risk
from cpe.compiler.plan import TIMEOUT_KEYS

ACTIVITY_KEYS = {
    "name",
    "version",
    "task_list",
    "input_spec",
    "outputs_spec",
    *TIMEOUT_KEYS,
}


def activity_changes(context: DiffContext) -> Iterator[Change]:
    old, new = context.old["activities"], context.new["activities"]
    for name in sorted(set(old) | set(new)):
        if name not in old:
            yield _added(context, new[name])
        elif name not in new:
            yield _removed(context, old[name])
        else:
            yield from _compared(context, old[name], new[name])


def _run_by(steps: tuple[str, ...]) -> str:
    return f" (run by {listing(steps)})" if steps else " (no step runs it)"


def _workers_note(activity: dict[str, Any]) -> str:
    return (
        f"workers for {activity['name']} {activity['version']} must poll "
        f"{activity['task_list']} before this is deployed, or its tasks wait "
        "until their schedule_to_start_timeout"
    )


def _added(context: DiffContext, activity: dict[str, Any]) -> Change:
    steps = context.runners(context.new, activity["name"])
    return Change(
        kind="activity-added",
        subject=Subject("activity", activity["name"]),
        message=f"activity {activity['name']} {activity['version']} added"
        + _run_by(steps),
        after=activity,
        breaking=bool(steps),
        note=_workers_note(activity) if steps else "no step runs it yet",
        steps=steps,
    )


def _removed(context: DiffContext, activity: dict[str, Any]) -> Change:
    steps = context.runners(context.old, activity["name"])
    return Change(
        kind="activity-removed",
        subject=Subject("activity", activity["name"]),
        message=f"activity {activity['name']} {activity['version']} removed",
        before=activity,
        note="its workers can stop once no running execution has a task of it",
        steps=steps,
    )


def _compared(
    context: DiffContext, old: dict[str, Any], new: dict[str, Any]
) -> Iterator[Change]:
    subject = Subject("activity", new["name"])
    steps = context.runners(context.new, new["name"])
    if old["version"] != new["version"]:
        yield _worker_change(
            "activity-version-changed", "version", subject, old, new, steps
        )
    if old["task_list"] != new["task_list"]:
        yield _worker_change("task-list-changed", "task_list", subject, old, new, steps)
    for key in TIMEOUT_KEYS:
        if old[key] != new[key]:
            yield _timeout(subject, key, old[key], new[key], steps)
    if old["input_spec"] != new["input_spec"]:
        yield _input_spec(context, subject, old, new, steps)
    yield from output_changes(context, old, new)
    yield from unknown_key_changes(
        "activity-key-changed", subject, old, new, ACTIVITY_KEYS
    )


def _worker_change(
    kind: str,
    key: str,
    subject: Subject,
    old: dict[str, Any],
    new: dict[str, Any],
    steps: tuple[str, ...],
) -> Change:
    label = "version" if key == "version" else "task list"
    return Change(
        kind=kind,
        subject=subject,
        key=key,
        message=f"activity {subject.name}: {label} {old[key]} → {new[key]}"
        + _run_by(steps),
        before=old[key],
        after=new[key],
        breaking=True,
        note=(
            f"{_workers_note(new)}; keep the workers of {old['version']} on "
            f"{old['task_list']} until the tasks already scheduled there finish"
        ),
        steps=steps,
    )


def _timeout(
    subject: Subject, key: str, before: Any, after: Any, steps: tuple[str, ...]
) -> Change:
    return Change(
        kind="timeout-changed",
        subject=subject,
        key=key,
        message=f"activity {subject.name}: {key} {seconds(before)} → {seconds(after)}"
        + _run_by(steps),
        before=before,
        after=after,
        note=(
            "applies to tasks scheduled from now on, in running executions too: "
            "every schedule decision names its timeouts"
        ),
        steps=steps,
    )


def _input_spec(
    context: DiffContext,
    subject: Subject,
    old: dict[str, Any],
    new: dict[str, Any],
    steps: tuple[str, ...],
) -> Change:
    comparison = compare_schemas(old["input_spec"], new["input_spec"])
    breaking, note = schema_risk(
        context,
        comparison,
        "the decider checks a step's input against it before scheduling, so a "
        "running execution fails at a step it has not scheduled yet when that "
        "step's input fails the new schema",
    )
    return Change(
        kind="input-spec-changed",
        subject=subject,
        key="input_spec",
        message=f"activity {subject.name}: input_spec {comparison.sentence()}"
        + _run_by(steps),
        before=old["input_spec"],
        after=new["input_spec"],
        breaking=breaking,
        note=note,
        steps=steps,
    )
