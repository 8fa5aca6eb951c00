"""The text form of a PlanDiff: a summary, then the changes grouped by subject.

Each line starts with a mark an operator can scan for: `!` breaks running
executions, `?` may break them, `-` does not. Why a change breaks (or may) is
on the line below it.
"""

from __future__ import annotations

from itertools import groupby

from cpe.compiler.diff_model import Change, PlanDiff
from cpe.compiler.diff_values import plural

MARKS = {True: "!", None: "?", False: "-"}
LEGEND = "! breaks running executions   ? may break them   - does not"


def render_text(diff: PlanDiff) -> str:
    if diff.identical:
        return (
            f"no behavioural change: {diff.new.label} is identical "
            f"({diff.new.content_hash})\n"
        )
    lines = [_summary(diff), f"  old {diff.old.content_hash}"]
    lines.append(f"  new {diff.new.content_hash}")
    for subject, changes in groupby(diff.changes, key=lambda c: c.subject):
        lines.append("")
        lines.append(subject.label)
        for change in changes:
            lines.extend(_change_lines(change))
    lines.extend(["", LEGEND])
    return "\n".join(lines) + "\n"


def _summary(diff: PlanDiff) -> str:
    counts = [plural(len(diff.changes), "change")]
    if diff.count(True):
        counts.append(f"{diff.count(True)} breaking")
    if diff.count(None):
        counts.append(f"{diff.count(None)} may break")
    if diff.old.label == diff.new.label:
        # The decider replays running executions against the IR of their type.
        head = f"{diff.new.label} (same workflow type: running executions replay it)"
    else:
        head = f"{diff.old.label} → {diff.new.label}"
    return f"{head}: {', '.join(counts)}"


def _change_lines(change: Change) -> list[str]:
    lines = [f"  {MARKS[change.breaking]} {change.message}  [{change.kind}]"]
    if change.breaking is not False and change.note:
        lines.append(f"      {change.note}")
    return lines
