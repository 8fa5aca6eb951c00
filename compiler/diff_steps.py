"""Changes to steps: added, removed, looking renamed, running another activity,
and each step's requirements, input and any other key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cpe.compiler.diff_context import DiffContext
from cpe.compiler.diff_generic import unknown_key_changes
from cpe.compiler.diff_inputs import input_changes
from cpe.compiler.diff_language_2 import (
    LANGUAGE_2_STEP_KEYS,
    kind_changed,
    language_2_step_changes,
    step_kind,
    step_kind_change,
)
from cpe.compiler.diff_model import Change, Subject
from cpe.compiler.diff_requires import WANTED, requirement_changes
from cpe.compiler.diff_values import listing
from cpe.grammar.conditions import format_condition

STEP_KEYS = {"name", "activity", "requires", "input", "when", *LANGUAGE_2_STEP_KEYS}
# The fold maps every activity event of a history to a step by its activity
# id, which is the step's name; a name the IR lacks fails the replay.
UNKNOWN_NAME = (
    "a running execution that already scheduled {name} fails at its next "
    "decision: its history names a step the new IR does not have"
)


def step_changes(context: DiffContext) -> Iterator[Change]:
    renamed = set(context.renames)
    for name in context.old["order"]:
        if name not in context.new["steps"] and name not in renamed:
            yield _removed(context, name)
    for name in context.new["order"]:
        old_name = context.old_name(name)
        if old_name is None:
            yield _added(context, name)
            continue
        if old_name != name:
            yield _renamed(context, old_name, name)
        yield from _compared(context, name, context.old["steps"][old_name])


def _activity_text(ir: dict[str, Any], activity: str | None) -> str:
    if activity is None:
        return "no activity"
    found = ir["activities"].get(activity)
    return f"{activity} {found['version']}" if found else activity


def _requires_text(step: dict[str, Any]) -> str:
    requires = [
        f"{r['step']} {WANTED.get(r['status'], r['status'])}"
        for r in step.get("requires", [])
    ]
    return f"requires {listing(requires)}" if requires else "requires nothing"


def _does(ir: dict[str, Any], step: dict[str, Any]) -> str:
    if step["activity"] is None:
        return step_kind(step)
    return f"runs {_activity_text(ir, step['activity'])}"


def _did(ir: dict[str, Any], step: dict[str, Any]) -> str:
    if step["activity"] is None:
        return step_kind(step).replace("waits", "waited", 1)
    return f"ran {_activity_text(ir, step['activity'])}"


def _added(context: DiffContext, name: str) -> Change:
    step = context.new["steps"][name]
    does = _does(context.new, step)
    note = "running executions run it too, once its requirements are met"
    return Change(
        kind="step-added",
        subject=Subject("step", name),
        message=f"step {name} added: {does}; {_requires_text(step)}",
        after=step,
        note=note if context.same_type else "only executions of the new type run it",
    )


def _removed(context: DiffContext, name: str) -> Change:
    step = context.old["steps"][name]
    breaking, note = context.replay(UNKNOWN_NAME.format(name=name))
    return Change(
        kind="step-removed",
        subject=Subject("step", name),
        message=f"step {name} removed (it {_did(context.old, step)})",
        before=step,
        breaking=breaking,
        note=note,
    )


def _renamed(context: DiffContext, old_name: str, name: str) -> Change:
    breaking, note = context.replay(UNKNOWN_NAME.format(name=old_name))
    return Change(
        kind="step-renamed",
        subject=Subject("step", name),
        message=(
            f"step {old_name} looks renamed to {name}: same activity, "
            "requirements and input"
        ),
        before=old_name,
        after=name,
        breaking=breaking,
        note=note,
    )


def _compared(context: DiffContext, name: str, old: dict[str, Any]) -> Iterator[Change]:
    new = context.new["steps"][name]
    if kind_changed(old, new):
        yield step_kind_change(context, name, old, new)
    elif old["activity"] != new["activity"]:
        yield _activity_changed(context, name, old, new)
    yield from requirement_changes(context, name, old, new)
    yield from input_changes(context, name, old, new)
    yield from _condition_changes(name, old.get("when"), new.get("when"))
    yield from language_2_step_changes(context, name, old, new)
    yield from unknown_key_changes(
        "step-key-changed", Subject("step", name), old, new, STEP_KEYS
    )


def _condition_changes(
    name: str, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> Iterator[Change]:
    """A step's `when` (plan language 2), compared by meaning: two texts that
    parse to the same condition are the same condition."""
    if old == new:
        return
    if old and new and old["ast"] == new["ast"]:
        yield Change(
            kind="condition-text-changed",
            subject=Subject("step", name),
            key="when",
            message=f"step {name}'s condition is written differently, with the same meaning",
            before=old["text"],
            after=new["text"],
            breaking=False,
            note="the condition parses to the same expression",
        )
        return
    before = format_condition(old["ast"]) if old else None
    after = format_condition(new["ast"]) if new else None
    if before is None:
        message = f"step {name} now runs only when {after}"
    elif after is None:
        message = f"step {name} no longer has a condition (it was {before})"
    else:
        message = f"step {name}'s condition {before} → {after}"
    yield Change(
        kind="condition-changed",
        subject=Subject("step", name),
        key="when",
        message=message,
        before=before,
        after=after,
        breaking=None,
        note=(
            "skips leave no trace in a history: a running execution decides this "
            "step again with the new condition at its next decision, unless the step "
            "was already scheduled, so a step the old condition skipped may run"
        ),
    )


def _activity_changed(
    context: DiffContext, name: str, old: dict[str, Any], new: dict[str, Any]
) -> Change:
    before = _activity_text(context.old, old["activity"])
    after = _activity_text(context.new, new["activity"])
    breaking, note = context.replay(
        f"a running execution that already ran {name} holds a result of "
        f"{old['activity']}, which the new IR reads with {new['activity']}'s "
        "outputs_spec"
    )
    return Change(
        kind="step-activity-changed",
        subject=Subject("step", name),
        key="activity",
        message=f"step {name} runs {after} instead of {before}",
        before=old["activity"],
        after=new["activity"],
        breaking=breaking,
        note=note,
    )
