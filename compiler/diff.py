"""`diff_ir`: what changes in workflow behaviour between two IRs of a plan.

For an operator deciding whether to deploy: each change has a stable kind, a
subject (the workflow, an activity or a step), before and after values, a
sentence, and whether it breaks running executions. Equal content hashes mean
equal IR, so that case returns at once; otherwise every difference in the IR
is reported, known keys by meaning and unknown ones value by value.
"""

from __future__ import annotations

from typing import Any

from cpe.compiler.diff_activities import activity_changes
from cpe.compiler.diff_context import DiffContext
from cpe.compiler.diff_model import Change, PlanDiff, Subject, WorkflowIdentity
from cpe.compiler.diff_order import ordering_changes
from cpe.compiler.diff_renames import find_renames
from cpe.compiler.diff_steps import step_changes
from cpe.compiler.diff_workflow import workflow_changes
from cpe.runtime.ir import content_hash

__all__ = ["Change", "PlanDiff", "Subject", "WorkflowIdentity", "diff_ir"]

_SECTIONS = {"workflow": 0, "activity": 1, "step": 2}


def diff_ir(old: dict[str, Any], new: dict[str, Any]) -> PlanDiff:
    """The changes from IR `old` to IR `new`, workflow first, then activities
    by the first step that runs them, then steps in the IRs' order."""
    before, after = _identity(old), _identity(new)
    if before.content_hash == after.content_hash:
        return PlanDiff(before, after)
    context = DiffContext(old, new, find_renames(old, new))
    changes = [
        *workflow_changes(context),
        *activity_changes(context),
        *step_changes(context),
        *ordering_changes(context),
    ]
    if not changes:
        changes.append(_undescribed(context))
    # A stable sort: within one subject, changes keep the order found.
    changes.sort(key=lambda change: _rank(context, change.subject))
    return PlanDiff(before, after, tuple(changes))


def _identity(ir: dict[str, Any]) -> WorkflowIdentity:
    stored = ir.get("content_hash")
    if not isinstance(stored, str):
        stored = content_hash({k: v for k, v in ir.items() if k != "content_hash"})
    workflow = ir["workflow"]
    return WorkflowIdentity(str(workflow["name"]), str(workflow["version"]), stored)


def _rank(context: DiffContext, subject: Subject) -> tuple[int, tuple[int, int], str]:
    if subject.kind == "step":
        return (_SECTIONS["step"], context.position(subject.name), subject.name)
    if subject.kind == "activity":
        users = context.runners(context.new, subject.name) or context.runners(
            context.old, subject.name
        )
        first = min((context.position(s) for s in users), default=(1 << 62, 3))
        return (_SECTIONS["activity"], first, subject.name)
    return (_SECTIONS["workflow"], (0, 0), subject.name)


def _undescribed(context: DiffContext) -> Change:
    """A safety net: differing IR must never read as "no change"."""
    return Change(
        kind="ir-changed",
        subject=Subject("workflow", context.new["workflow"]["name"]),
        message="the IR differs in a way cpec diff does not describe",
        breaking=None,
        note="compare the two IR files by hand",
    )
