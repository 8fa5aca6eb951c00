"""The compiler's facade: plan text in, IR out, or every diagnostic found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cpe.compiler.bindings import resolve_step_input
from cpe.compiler.checker import Checker
from cpe.compiler.condition_checks import check_condition, check_condition_shape
from cpe.compiler.diagnostics import CompileError, Diagnostic, DiagnosticSink, Position
from cpe.compiler.fan_out_checks import check_for_each
from cpe.compiler.graph import build_graph, topological_order
from cpe.compiler.ir import emit
from cpe.compiler.output_checks import check_output
from cpe.compiler.paths import path_parts
from cpe.compiler.plan import Plan
from cpe.compiler.plan_checks import check_plan
from cpe.compiler.references import Reference
from cpe.compiler.source import load_source


def check_text(text: str, path: str) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """Compile plan text; the IR is None whenever an error was found.

    The diagnostics come sorted by position, whichever stage found them.
    """
    ir, diagnostics = _compile(text, path)
    return ir, sorted(diagnostics, key=Diagnostic.sort_key)


def _compile(text: str, path: str) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    sink = DiagnosticSink(path, lines=text.splitlines())
    root = load_source(text, sink)
    if root is None:
        return None, sink.diagnostics
    plan = Checker(path, sink).plan(root)
    if plan is None:
        return None, sink.diagnostics
    graph = build_graph(plan, sink)
    references: dict[str, list[Reference]] = {}
    conditions: dict[str, list[dict[str, Any]]] = {}
    for step in plan.steps.values():
        if step.input is not None:
            references[step.name] = resolve_step_input(plan, step, sink)
        if step.when is not None:
            conditions[step.name] = check_condition(plan, step, sink)
            check_condition_shape(plan, step, sink)
        if step.for_each is not None:
            check_for_each(plan, step, sink)
    output: list[Reference] = []
    if plan.output is not None:
        output = check_output(plan, sink)
    if sink.has_errors:
        return None, sink.diagnostics
    order = topological_order(plan, graph)
    check_plan(plan, _all_reads(plan, references, conditions, output), order, sink)
    if sink.has_errors:
        return None, sink.diagnostics
    return emit(plan, references, conditions, order, output), sink.diagnostics


def _all_reads(
    plan: Plan,
    references: dict[str, list[Reference]],
    conditions: dict[str, list[dict[str, Any]]],
    output: list[Reference],
) -> dict[str, list[Reference]]:
    """What each step's template, condition and for_each read, and what the
    workflow's output reads (under the name ""), for the whole-plan checks."""
    reads = {name: list(found) for name, found in references.items()}
    for name, found in conditions.items():
        for read in found:
            if read["kind"] == "step":
                reads.setdefault(name, []).append(
                    Reference(read["step"], tuple(read["path"]), 0)
                )
    for step in plan.steps.values():
        if step.for_each is not None:
            path = path_parts(step.for_each.path["steps"])
            reads.setdefault(step.name, []).append(
                Reference(str(step.for_each.path["name"]), path, 0)
            )
    reads[""] = list(output)
    return reads


def compile_text(text: str, path: str = "<plan>") -> dict[str, Any]:
    """The IR of plan text; raises CompileError listing every problem."""
    ir, diagnostics = check_text(text, path)
    if ir is None:
        raise CompileError(diagnostics)
    return ir


def read_plan(path: str | Path) -> str:
    """A plan file's text; an unreadable file is a CompileError, not an OSError."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = (
            error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        )
        raise CompileError(
            [
                Diagnostic(
                    str(path), Position(1, 1), "E001", f"cannot read the plan: {reason}"
                )
            ]
        ) from error


def check_file(path: str | Path) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """Compile a plan file; a file that cannot be read is one more diagnostic."""
    try:
        text = read_plan(path)
    except CompileError as error:
        return None, error.diagnostics
    return check_text(text, str(path))


def compile_file(path: str | Path) -> dict[str, Any]:
    """The IR of a plan file; raises CompileError listing every problem."""
    return compile_text(read_plan(path), str(path))
