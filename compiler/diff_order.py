"""What the topological order means, and how that meaning changed.

`order` is one of many valid orders; what matters is which steps each step
waits for, directly or through others (its ancestors). A step that lost an
ancestor may now run before it; one that gained an ancestor now waits for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cpe.compiler.diff_context import DiffContext
from cpe.compiler.diff_model import Change, Subject
from cpe.compiler.diff_values import listing, plural


def ordering_changes(context: DiffContext) -> Iterator[Change]:
    kept = _kept_steps(context)
    moved = {name for name in kept if _requires_changed(context, name)}
    same_steps = len(kept) == len(context.new["steps"]) == len(context.old["steps"])
    if not moved and same_steps:
        # No requirement moved and no step came or went: no ancestor changed.
        yield from _listing_change(context, kept)
        return
    new_ancestors = _ancestors(context.new)
    changed = _changed_ancestors(context, kept, new_ancestors)
    if not changed:
        yield from _listing_change(context, kept)
        return
    # A step whose requirements did not move changes only through a step it
    # waits for; it is reported with that step, not on its own.
    sources = [name for name in kept if name in changed and name in moved]
    followers = _followers(context, changed, sources, new_ancestors)
    for name in sources:
        before, after = changed[name]
        yield _change(context, name, before, after, followers[name])


def _kept_steps(context: DiffContext) -> list[str]:
    """The steps of the new IR that the old one had, in the new order."""
    return [s for s in context.new["order"] if context.old_name(s) is not None]


def _requires_changed(context: DiffContext, name: str) -> bool:
    old_step = context.old["steps"][context.old_name(name) or name]
    before = sorted(context.mapped(r["step"]) for r in old_step.get("requires", []))
    after = sorted(r["step"] for r in context.new["steps"][name].get("requires", []))
    return before != after


def _changed_ancestors(
    context: DiffContext, kept: list[str], new_ancestors: dict[str, set[str]]
) -> dict[str, tuple[set[str], set[str]]]:
    """Each kept step whose kept ancestors changed: (before, after)."""
    old_ancestors = _ancestors(context.old)
    keep = set(kept)
    changed: dict[str, tuple[set[str], set[str]]] = {}
    for name in kept:
        old_name = context.old_name(name) or name
        before = {context.mapped(a) for a in old_ancestors[old_name]} & keep
        after = new_ancestors[name] & keep
        if before != after:
            changed[name] = (before, after)
    return changed


def _followers(
    context: DiffContext,
    changed: dict[str, tuple[set[str], set[str]]],
    sources: list[str],
    new_ancestors: dict[str, set[str]],
) -> dict[str, list[str]]:
    """For each source step, the changed steps after it that are not sources."""
    found: dict[str, list[str]] = {name: [] for name in sources}
    reported = set(sources)
    for name in context.new["order"]:
        if name in changed and name not in reported:
            for source in new_ancestors[name] & reported:
                found[source].append(name)
    return found


def _ancestors(ir: dict[str, Any]) -> dict[str, set[str]]:
    """Every step's transitive requirements; one pass, since `order` is
    topological."""
    ancestors: dict[str, set[str]] = {}
    for name in ir["order"]:
        found: set[str] = set()
        for requirement in ir["steps"][name].get("requires", []):
            required = requirement["step"]
            found.add(required)
            found |= ancestors.get(required, set())
        ancestors[name] = found
    return ancestors


def _change(
    context: DiffContext,
    name: str,
    before: set[str],
    after: set[str],
    followers: list[str],
) -> Change:
    lost = sorted(before - after, key=context.position)
    gained = sorted(after - before, key=context.position)
    parts = []
    if lost:
        them = "it" if len(lost) == 1 else "them"
        parts.append(
            f"may now run before {listing(lost)} (no longer waiting for {them})"
        )
    if gained:
        parts.append(f"now runs after {listing(gained)}")
    if followers:
        verb = "changes" if len(followers) == 1 else "change"
        parts.append(f"{plural(len(followers), 'step')} after it {verb} with it")
    return Change(
        kind="ordering-changed",
        subject=Subject("step", name),
        message=f"step {name} " + "; ".join(parts),
        before=sorted(before, key=context.position),
        after=sorted(after, key=context.position),
        note="in running executions too, wherever the step is not scheduled yet",
        steps=tuple(followers),
    )


def _listing_change(context: DiffContext, kept: list[str]) -> Iterator[Change]:
    """The same dependencies listed in another order: only the order of the
    decisions within one decision task changes."""
    old_listing = [
        context.mapped(s)
        for s in context.old["order"]
        if context.mapped(s) in context.new["steps"]
    ]
    if old_listing == kept:
        return
    yield Change(
        kind="order-changed",
        subject=Subject("workflow", context.new["workflow"]["name"]),
        key="order",
        message=(
            f"workflow {context.new['workflow']['name']}: the same dependencies in "
            "another topological order"
        ),
        before=old_listing,
        after=kept,
        note=(
            "steps that become ready together are scheduled in this order, within "
            "one decision; no step waits for anything new"
        ),
    )
