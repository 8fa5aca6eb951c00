"""The workflow's `output:` template (plan language 2), checked like step inputs.

It is rendered once the workflow completes, with every succeeded step's
output, so it may use any step; using one that may end without succeeding
(it has a condition, runs only after another step failed or was skipped, or
its own failure is allowed for) is a warning, since its output may be absent.
"""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateSyntaxError

from cpe.compiler.bindings import (
    check_filters,
    check_input_path,
    check_output_key,
    column_in_blocks,
    report_dashed,
    report_unknown_name,
)
from cpe.compiler.diagnostics import DiagnosticSink, Position
from cpe.compiler.plan import Plan, Status
from cpe.compiler.references import Reference, find_uses
from cpe.compiler.render_check import check_template_renders, placeholder, step_output
from cpe.runtime.templates import INPUT_NAME, parse

SUBJECT = "the workflow's output"


def check_output(plan: Plan, sink: DiagnosticSink) -> list[Reference]:
    """Parse and check the output template; the references it makes."""
    source = plan.output
    assert source is not None
    try:
        template = parse(source.text)
    except TemplateSyntaxError as error:
        sink.error(
            source.position_in_content(error.lineno, 1),
            "E130",
            f"{SUBJECT} template does not parse: {error.message}",
        )
        return []
    uses = find_uses(template, source.text)
    check_filters(SUBJECT, source, uses, sink)
    report_dashed(SUBJECT, source, uses, sink)
    uncertain = steps_that_may_not_succeed(plan)
    clean = True
    for reference in uses.references:
        first_key = reference.path[0] if reference.path else None

        def where(reference: Reference = reference, key: Any = first_key) -> Position:
            return column_in_blocks(source, reference.line, reference.name, key)

        if reference.name == INPUT_NAME:
            clean = (
                check_input_path(plan, SUBJECT, reference.path, where, sink) and clean
            )
        elif reference.name not in plan.steps:
            report_unknown_name(plan, SUBJECT, reference.name, where(), sink)
            clean = False
        else:
            if reference.name in uncertain:
                sink.warning(
                    where(),
                    "W171",
                    f"{SUBJECT} uses the output of {reference.name}, which "
                    f"{uncertain[reference.name]}; then the output has no value for it",
                    "read it through a step that requires it, or accept a null there",
                )
            clean = (
                check_output_key(
                    plan, SUBJECT, reference.name, reference.path, where, sink
                )
                and clean
            )
    if clean and not uses.dashed:
        context: dict[str, Any] = {INPUT_NAME: placeholder(plan.input_spec)}
        for name in plan.steps:
            context[name] = step_output(plan, name)
        check_template_renders(SUBJECT, source, template, context, sink)
    return uses.references


def steps_that_may_not_succeed(plan: Plan) -> dict[str, str]:
    """The steps a completed workflow may lack the output of, and why.

    Requirements are followed depth first with a memo, so this works on a
    plan whose requirements form a cycle (reported elsewhere) too.
    """
    tolerated = {
        r.step
        for step in plan.steps.values()
        for r in step.requires
        if r.status in (Status.FAILED, Status.COMPLETED)
    }
    why: dict[str, str | None] = {}

    def reason(name: str) -> str | None:
        if name in why:
            return why[name]
        why[name] = None  # while visiting: a cycle adds nothing
        step = plan.steps[name]
        found: str | None = None
        if step.when is not None:
            found = "has a condition and may be skipped"
        elif any(r.status in (Status.FAILED, Status.SKIPPED) for r in step.requires):
            found = "runs only after another step failed or was skipped"
        elif name in tolerated:
            found = "may fail without failing the workflow"
        elif any(r.step in plan.steps and reason(r.step) for r in step.requires):
            found = "requires a step that may not succeed, and then is skipped"
        why[name] = found
        return found

    return {name: text for name in plan.steps if (text := reason(name)) is not None}
