"""Changes to what a step waits for: its requirements and their statuses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cpe.compiler.diff_context import DiffContext
from cpe.compiler.diff_model import Change, Subject

WANTED = {
    "succeeded": "to have succeeded",
    "failed": "to have failed",
    "skipped": "to have been skipped",
    "completed": "to have completed",
}
# Requirements with these statuses are what handles a step's failure; without
# one, the decider fails the workflow when that step fails.
HANDLING = ("failed", "completed")
PENDING_NOTE = (
    "running executions follow it for this step if they have not scheduled it yet"
)


def requirement_changes(
    context: DiffContext, name: str, old: dict[str, Any], new: dict[str, Any]
) -> Iterator[Change]:
    """The changes of step `name`'s requirements, old names in new terms."""
    before = [{**r, "step": context.mapped(r["step"])} for r in old.get("requires", [])]
    after = list(new.get("requires", []))
    if before == after:
        return
    subject = Subject("step", name)
    old_statuses, new_statuses = _statuses(before), _statuses(after)
    found = False
    for other in sorted(set(old_statuses) | set(new_statuses), key=context.position):
        was, now = old_statuses.get(other), new_statuses.get(other)
        if was != now:
            found = True
            yield _change(context, subject, other, was, now)
    if not found:
        yield _reordered(subject, before, after)


def _statuses(requires: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    """Each required step's statuses (a plan may name a step twice)."""
    statuses: dict[str, list[str]] = {}
    for requirement in requires:
        statuses.setdefault(requirement["step"], []).append(requirement["status"])
    return {step: tuple(sorted(found)) for step, found in statuses.items()}


def _wanted(statuses: tuple[str, ...]) -> str:
    return " and ".join(WANTED.get(s, f"to be {s}") for s in statuses)


def _change(
    context: DiffContext,
    subject: Subject,
    other: str,
    was: tuple[str, ...] | None,
    now: tuple[str, ...] | None,
) -> Change:
    if was is None:
        kind = "requirement-added"
        message = f"now requires {other} {_wanted(now or ())}"
    elif now is None:
        kind = "requirement-removed"
        message = f"no longer requires {other} (it required it {_wanted(was)})"
    else:
        kind = "requirement-changed"
        message = f"now requires {other} {_wanted(now)}, no longer {_wanted(was)}"
    breaking, note = _risk(context, subject.name, other, was or (), now or ())
    return Change(
        kind=kind,
        subject=subject,
        key=other,
        message=f"step {subject.name} {message}",
        before=list(was) if was else None,
        after=list(now) if now else None,
        breaking=breaking,
        note=note,
    )


def _risk(
    context: DiffContext,
    step: str,
    other: str,
    was: tuple[str, ...],
    now: tuple[str, ...],
) -> tuple[bool | None, str]:
    """A requirement that handled `other`'s failure, gone with no other handler,
    fails executions where `other` failed instead of letting `step` run."""
    lost_handler = any(s in HANDLING for s in was) and not any(
        s in HANDLING for s in now
    )
    if not lost_handler or _handled(context, other):
        return False, PENDING_NOTE
    return context.replay(
        f"nothing handles a failure of {other} any more: a running execution "
        f"where {other} failed fails at its next decision instead of running {step}"
    )


def _handled(context: DiffContext, other: str) -> bool:
    """Whether some step of the new IR handles `other` failing (a removed
    step cannot fail, so it counts as handled)."""
    if other not in context.new["steps"]:
        return True
    return any(
        r["step"] == other and r["status"] in HANDLING
        for step in context.new["steps"].values()
        for r in step.get("requires", [])
    )


def _reordered(
    subject: Subject, before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> Change:
    return Change(
        kind="requirements-reordered",
        subject=subject,
        key="requires",
        message=f"step {subject.name} lists the same requirements in another order",
        before=before,
        after=after,
        note="only which unmet requirement a skip names as its reason can change",
    )
