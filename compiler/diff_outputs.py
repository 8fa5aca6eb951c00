"""Changes to an activity's outputs_spec: what later steps see of its result.

The decider applies outputs_spec while replaying a history, to results that
are already recorded; so a new or changed selector meets old results again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cpe.compiler.diff_context import DiffContext
from cpe.compiler.diff_model import Change, Subject
from cpe.compiler.diff_values import listing, path_text, show

REREAD = (
    "a running execution that already completed a step of this activity reads "
    "its recorded result with the new outputs_spec on replay; where the "
    "selector finds nothing, the step turns failed"
)


def output_changes(
    context: DiffContext, old: dict[str, Any], new: dict[str, Any]
) -> Iterator[Change]:
    before, after = old["outputs_spec"], new["outputs_spec"]
    if before == after:
        return
    subject = Subject("activity", new["name"])
    if before is None or after is None:
        yield _whole(context, subject, before, after)
        return
    for key in sorted(set(before) | set(after)):
        if key not in before:
            yield _added(context, subject, key, after[key])
        elif key not in after:
            yield _removed(context, subject, key, before[key])
        elif before[key] != after[key]:
            yield _selector(context, subject, key, before[key], after[key])


def _keys(outputs: dict[str, Any]) -> str:
    return listing(f"`{key}`" for key in sorted(outputs)) or "no key"


def _whole(context: DiffContext, subject: Subject, before: Any, after: Any) -> Change:
    if before is None:
        message = f"now declares outputs {_keys(after)} (it passed the whole result on)"
    else:
        message = f"no longer declares outputs (it declared {_keys(before)}): later "
        message += "steps see the whole result"
    breaking, note = context.replay(REREAD)
    return Change(
        kind="outputs-spec-changed",
        subject=subject,
        key="outputs_spec",
        message=f"activity {subject.name}: {message}",
        before=before,
        after=after,
        breaking=breaking,
        note=note,
    )


def _added(
    context: DiffContext, subject: Subject, key: str, spec: dict[str, Any]
) -> Change:
    breaking: bool | None
    # `$` is the whole result: it finds something in every recorded result.
    if spec.get("steps") == []:
        breaking, note = False, "its selector `$` matches every recorded result"
    else:
        breaking, note = context.replay(REREAD)
    return Change(
        kind="output-added",
        subject=subject,
        key=key,
        message=f"activity {subject.name}: output `{key}` added ({spec['selector']})",
        after=spec,
        breaking=breaking,
        note=note,
    )


def _removed(
    context: DiffContext, subject: Subject, key: str, spec: dict[str, Any]
) -> Change:
    readers = _readers(context.old, subject.name, key)
    message = f"activity {subject.name}: output `{key}` removed"
    if readers:
        used = listing(f"{step} (as {text})" for step, text in readers)
        message += f"; in the old plan {used} read it"
    return Change(
        kind="output-removed",
        subject=subject,
        key=key,
        message=message,
        before=spec,
        note="no step of the new IR reads it; recorded results merely lose the key",
        steps=tuple(step for step, _ in readers),
    )


def _selector(
    context: DiffContext,
    subject: Subject,
    key: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> Change:
    breaking: bool | None
    if before.get("steps") == after.get("steps"):
        breaking, note = False, "both spellings select the same part of the result"
    else:
        breaking, note = context.replay(REREAD)
    return Change(
        kind="output-selector-changed",
        subject=subject,
        key=key,
        message=(
            f"activity {subject.name}: output `{key}` selector "
            f"{before.get('selector', show(before))} → "
            f"{after.get('selector', show(after))}"
        ),
        before=before,
        after=after,
        breaking=breaking,
        note=note,
    )


def _readers(ir: dict[str, Any], activity: str, key: str) -> list[tuple[str, str]]:
    """(reading step, reference) for each reference of `ir` to output `key` of
    a step that runs `activity`, in the IR's order."""
    runs = {s for s, step in ir["steps"].items() if step.get("activity") == activity}
    found: list[tuple[str, str]] = []
    for name in ir["order"]:
        step_input = ir["steps"][name].get("input") or {}
        for reference in step_input.get("references", []):
            path = reference.get("path", [])
            if reference.get("step") in runs and path[:1] == [key]:
                found.append((name, path_text(reference["step"], path)))
    return found
