"""Changes to what a step sends its activity: the input template's bindings.

The references the compiler resolved (`__input__.a`, `Step.key`) are what a
template reads; comparing them separates a re-binding from a reformatting.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cpe.compiler.diff_context import DiffContext
from cpe.compiler.diff_generic import unknown_key_changes
from cpe.compiler.diff_model import Change, Subject
from cpe.compiler.diff_values import canonical, listing, reference_text

INPUT_KEYS = {"template", "references"}
NOTE = "steps that running executions have not scheduled yet send the new input"


def input_changes(
    context: DiffContext, name: str, old: dict[str, Any], new: dict[str, Any]
) -> Iterator[Change]:
    before, after = old.get("input"), new.get("input")
    if before == after:
        return
    subject = Subject("step", name)
    if before is None or after is None:
        yield _presence(subject, before, after)
        return
    old_refs = _references(context, before)
    new_refs = _references(context, after)
    if old_refs.keys() != new_refs.keys():
        yield _rebound(subject, old_refs, new_refs)
    elif before.get("template") != after.get("template"):
        yield _template(subject, before, after)
    yield from unknown_key_changes(
        "step-key-changed", subject, before, after, INPUT_KEYS, prefix="input."
    )


def _references(context: DiffContext, step_input: dict[str, Any]) -> dict[str, str]:
    """Each reference by its identity in new step names, to its text as the
    template writes it (so a renamed step shows under the name it had)."""
    found: dict[str, str] = {}
    for reference in step_input.get("references", []):
        identity = reference
        if reference.get("kind") == "step":
            identity = {**reference, "step": context.mapped(reference["step"])}
        found[canonical(identity)] = reference_text(reference)
    return found


def _shown(references: dict[str, str], keys: set[str]) -> list[str]:
    return sorted(references[k] for k in keys)


def _presence(subject: Subject, before: Any, after: Any) -> Change:
    if before is None:
        reads = [reference_text(r) for r in after.get("references", [])]
        kind, message = "input-added", "now sends an input"
        message += f" that reads {listing(reads)}" if reads else " (a constant)"
    else:
        kind, message = "input-removed", "no longer sends an input"
    return Change(
        kind=kind,
        subject=subject,
        key="input",
        message=f"step {subject.name} {message}",
        before=before,
        after=after,
        note=NOTE,
    )


def _rebound(subject: Subject, old: dict[str, str], new: dict[str, str]) -> Change:
    added = _shown(new, set(new) - set(old))
    removed = _shown(old, set(old) - set(new))
    parts = []
    if added:
        parts.append(f"now reads {listing(added)}")
    if removed:
        parts.append(f"no longer reads {listing(removed)}")
    return Change(
        kind="input-rebound",
        subject=subject,
        key="input",
        message=f"step {subject.name}'s input {' and '.join(parts)}",
        before=sorted(old.values()),
        after=sorted(new.values()),
        note=NOTE,
    )


def _template(
    subject: Subject, before: dict[str, Any], after: dict[str, Any]
) -> Change:
    return Change(
        kind="template-text-changed",
        subject=subject,
        key="input",
        message=(
            f"step {subject.name}'s input template text changed; it reads the same "
            "values"
        ),
        before=before.get("template"),
        after=after.get("template"),
        note=NOTE,
    )
