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
from cpe.compiler.paths import path_parts
from cpe.compiler.plan import Plan, Step
from cpe.compiler.source import Scalar
from cpe.grammar.conditions import (
    ConditionError,
    evaluate_condition,
    format_condition,
    locate_references,
)
from cpe.runtime.templates import INPUT_NAME

STATUS_KEY = "status"
"""The key of a required step that holds how it ended, in a condition."""

# What people coming from Python or YAML write for JSON's literals.
_LITERAL_SLIPS = {"True": "true", "False": "false", "None": "null", "nil": "null"}


def _at(node: Scalar, line: int, column: int) -> Callable[[], Position]:
    """The position of a place in the condition, found only if a diagnostic asks."""
    return lambda: node.position_in_content(line, column)


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
        where = _at(node, reference.line, reference.column)
        path = path_parts(reference.steps)
        if reference.name == INPUT_NAME:
            check_input_path(plan, subject, path, where, sink)
            found.append({"kind": "input", "path": list(path)})
        elif reference.name not in plan.steps:
            sink.error(
                where(),
                "E143",
                f"{subject} uses '{reference.name}', which is neither {INPUT_NAME} nor a step",
                (
                    f"write {_LITERAL_SLIPS[reference.name]}"
                    if reference.name in _LITERAL_SLIPS
                    else "a condition decides on the whole step, before any item: "
                    "it cannot read the fan-out item"
                    if step.for_each is not None
                    and reference.name == step.for_each.item
                    else did_you_mean(reference.name, [*plan.steps, INPUT_NAME])
                ),
            )
        elif reference.name not in required:
            sink.error(
                where(),
                "E144",
                f"{subject} uses step {reference.name}, which it does not require",
                f"add {reference.name} to the requires of {step.name}: a condition "
                "reads only the steps its step requires directly",
            )
        else:
            if path[:1] != (STATUS_KEY,):
                check_output_key(
                    plan, subject, reference.name, path, where, sink, "E145"
                )
            found.append({"kind": "step", "step": reference.name, "path": list(path)})
    return found


STATUSES = ("succeeded", "failed", "skipped")
_ALLOWED_BY_REQUIREMENT = {
    "succeeded": {"succeeded"},
    "failed": {"failed"},
    "skipped": {"skipped"},
    "completed": set(STATUSES),
}


def _status_path(ast: dict[str, Any]) -> str | None:
    """The step whose `status` a condition node reads (`probe.status`), if any."""
    path = ast.get("path")
    if isinstance(path, dict) and path.get("steps") == [{"key": STATUS_KEY}]:
        return str(path["name"]) if path["name"] != INPUT_NAME else None
    return None


def _comparisons(ast: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if "op" in ast:
        if ast["op"] in ("==", "!=", "<", "<=", ">", ">=", "in", "not in"):
            found.append(ast)
        for argument in ast["args"]:
            found.extend(_comparisons(argument))
    return found


def _truth_problem(ast: dict[str, Any]) -> str | None:
    """Why a node in a true-or-false place can never be true or false."""
    if "literal" in ast and not isinstance(ast["literal"], bool):
        return f"{format_condition(ast)} is not true or false"
    if ast.get("op") in ("and", "or", "not"):
        for argument in ast["args"]:
            problem = _truth_problem(argument)
            if problem is not None:
                return problem
    return None


def check_condition_shape(plan: Plan, step: Step, sink: DiagnosticSink) -> None:
    """Mistakes visible in the condition alone: values that are never true or
    false, comparisons of literals that cannot work, statuses that do not
    exist, and conditions that can never hold."""
    assert step.when is not None
    ast, node = step.when.ast, step.when.node
    subject = f"step {step.name}'s condition"
    problem = _truth_problem(ast)
    if problem is not None:
        sink.error(
            node.position, "E146", f"{subject} can never be evaluated: {problem}"
        )
        return
    for comparison in _comparisons(ast):
        left, right = comparison["args"]
        if "literal" in left and "literal" in right:
            try:
                evaluate_condition(comparison, {})
            except ConditionError as error:
                sink.error(
                    node.position, "E146", f"{subject} can never be evaluated: {error}"
                )
        for side, other in ((left, right), (right, left)):
            if _status_path(side) is not None:
                _check_status_comparison(subject, comparison, other, node, sink)
    if ast == {"literal": False}:
        sink.warning(
            node.position,
            "W154",
            f"step {step.name} can never run: its condition is false",
        )
    _contradicts_requirements(step, ast, sink)


def _check_status_comparison(
    subject: str,
    comparison: dict[str, Any],
    other: dict[str, Any],
    node: Scalar,
    sink: DiagnosticSink,
) -> None:
    if comparison["op"] not in ("==", "!="):
        sink.error(
            node.position,
            "E147",
            f"{subject} compares a step's status with '{comparison['op']}'",
            "a status is succeeded, failed or skipped: compare it with == or !=",
        )
        return
    value = other.get("literal", STATUSES[0])
    if value not in STATUSES:
        sink.error(
            node.position,
            "E147",
            f"{subject} compares a step's status with {format_condition(other)}, "
            "which no step ever has",
            did_you_mean(str(value), STATUSES)
            or "a status is succeeded, failed or skipped",
        )


def _contradicts_requirements(
    step: Step, ast: dict[str, Any], sink: DiagnosticSink
) -> None:
    """`requires: [a]` with `when: a.status == "failed"` never runs."""
    conjuncts = ast["args"] if ast.get("op") == "and" else [ast]
    allowed = {r.step: _ALLOWED_BY_REQUIREMENT[r.status.value] for r in step.requires}
    for conjunct in conjuncts:
        if conjunct.get("op") not in ("==", "!="):
            continue
        left, right = conjunct["args"]
        name = _status_path(left) or _status_path(right)
        value = (right if _status_path(left) else left).get("literal")
        if name is None or name not in allowed or value not in STATUSES:
            continue
        possible = {value} if conjunct["op"] == "==" else set(STATUSES) - {value}
        if not possible & allowed[name]:
            sink.warning(
                step.when.node.position if step.when else step.position,
                "W154",
                f"step {step.name} can never run: its condition asks {name} to be "
                f"{' or '.join(sorted(possible))}, but its requires need "
                f"{' or '.join(sorted(allowed[name]))}",
            )
            return
