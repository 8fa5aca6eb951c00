"""Binding resolution for conditions (`when:`): every path a condition reads.

A condition may read the workflow input and the steps its step requires:
their outputs, and their `status` (succeeded, failed or skipped).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cpe.compiler.bindings import check_input_path, check_output_key
from cpe.compiler.checker import did_you_mean
from cpe.compiler.diagnostics import DiagnosticSink, Position
from cpe.compiler.plan import Plan, Step
from cpe.grammar.conditions import locate_references
from cpe.runtime.templates import INPUT_NAME

STATUS_KEY = "status"
"""The key of a required step that holds how it ended, in a condition."""

# What people coming from Python or YAML write for JSON's literals.
_LITERAL_SLIPS = {"True": "true", "False": "false", "None": "null", "nil": "null"}


def _at(position: Position) -> Callable[[], Position]:
    return lambda: position


def _parts(steps: list[dict[str, Any]]) -> tuple[str | int, ...]:
    """A condition path's steps as the literal path the binding checks walk."""
    parts: list[str | int] = []
    for step in steps:
        if "key" in step:
            parts.append(str(step["key"]))
        elif "index" in step:
            parts.append(int(step["index"]))
        else:
            break  # a wildcard: what follows depends on the data
    return tuple(parts)


def check_condition(
    plan: Plan, step: Step, sink: DiagnosticSink
) -> list[dict[str, Any]]:
    """Check a step's condition; the references it reads, as the IR keeps them."""
    assert step.when is not None
    node = step.when.node
    subject = f"step {step.name}'s condition"
    required = {r.step for r in step.requires}
    found: list[dict[str, Any]] = []
    for reference in locate_references(step.when.text):
        where = node.position_in_content(reference.line, reference.column)
        path = _parts(reference.steps)
        if reference.name == INPUT_NAME:
            check_input_path(plan, subject, path, _at(where), sink)
            found.append({"kind": "input", "path": list(path)})
        elif reference.name not in plan.steps:
            sink.error(
                where,
                "E143",
                f"{subject} uses '{reference.name}', which is neither {INPUT_NAME} nor a step",
                (
                    f"write {_LITERAL_SLIPS[reference.name]}"
                    if reference.name in _LITERAL_SLIPS
                    else did_you_mean(reference.name, [*plan.steps, INPUT_NAME])
                ),
            )
        elif reference.name not in required:
            sink.error(
                where,
                "E144",
                f"{subject} uses step {reference.name}, which it does not require",
                f"add {reference.name} to the requires of {step.name}, so that it has "
                "ended when the condition is evaluated",
            )
        else:
            if path[:1] != (STATUS_KEY,):
                check_output_key(
                    plan, subject, reference.name, path, _at(where), sink, "E145"
                )
            found.append({"kind": "step", "step": reference.name, "path": list(path)})
    return found
