"""Keys `cpec diff` has no specific comparison for.

The IR grows (step conditions, retries, fan-out, ...); a key this module
meets is still reported, value against value, so no difference goes unseen
while the differ learns what it means.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from cpe.compiler.diff_model import Change, Subject
from cpe.compiler.diff_values import show

_ABSENT = object()


def unknown_key_changes(
    kind: str,
    subject: Subject,
    old: dict[str, Any],
    new: dict[str, Any],
    known: Collection[str],
    prefix: str = "",
    owner: str | None = None,
) -> Iterator[Change]:
    """A change for every key outside `known` whose value differs; `owner`
    names what holds the keys (default: the subject)."""
    for key in sorted((set(old) | set(new)) - set(known)):
        before, after = old.get(key, _ABSENT), new.get(key, _ABSENT)
        if before != after:
            where = owner or f"{subject.label}:"
            yield _change(kind, subject, where, prefix + key, before, after)


def _change(
    kind: str, subject: Subject, where: str, key: str, before: Any, after: Any
) -> Change:
    if before is _ABSENT:
        what = f"added: {show(after)}"
    elif after is _ABSENT:
        what = f"removed (was {show(before)})"
    else:
        what = f"changed from {show(before)} to {show(after)}"
    return Change(
        kind=kind,
        subject=subject,
        key=key,
        message=f"{where} key `{key}` {what}",
        before=None if before is _ABSENT else before,
        after=None if after is _ABSENT else after,
        breaking=None,
        note=f"cpec diff does not know what `{key}` does; review its effect by hand",
    )
