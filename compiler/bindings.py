"""Binding resolution: every name a step's input template uses, checked.

`Step.key` must name a step the current step requires and an output its
activity declares; `__input__.path` must be a path the plan's input_spec
allows; filters must be the safe ones. Each problem is reported where it is
written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jinja2 import TemplateSyntaxError

from cpe.compiler.checker import did_you_mean
from cpe.compiler.diagnostics import DiagnosticSink, Position
from cpe.compiler.paths import item_schema
from cpe.compiler.plan import Plan, Status, Step
from cpe.compiler.references import Reference, TemplateUses, find_uses
from cpe.compiler.render_check import check_renders_to_json
from cpe.compiler.source import Scalar
from cpe.runtime.templates import ENVIRONMENT, INPUT_NAME, parse

_JINJA_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


def column_in_blocks(
    source: Scalar, line: int, word: str, first_key: str | int | None = None
) -> Position:
    """Where `word` (followed by `.first_key` or `[first_key]` when given) is
    written on a template line. Jinja gives lines but no columns; looking inside
    Jinja blocks only keeps a JSON key spelled like a step (`"probe": {{ probe }}`)
    from being taken for it."""
    lines = source.text.splitlines()
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    name = rf"(?<![\w.]){re.escape(word)}"
    patterns = [re.compile(rf"{name}(?![\w])")]
    if first_key is not None:
        key = re.escape(str(first_key))
        accessor = rf"\s*(\.\s*{key}(?![\w])|\[\s*(['\"]?){key}\2\s*\])"
        patterns.insert(0, re.compile(name + accessor))
    for pattern in patterns:
        for block in _JINJA_BLOCK.finditer(text):
            found = pattern.search(text, block.start(), block.end())
            if found:
                return source.position_in_content(line, found.start() + 1)
    return source.position_in_content(line, 1)


def resolve_step_input(plan: Plan, step: Step, sink: DiagnosticSink) -> list[Reference]:
    """Parse a step's input template and check each name it uses."""
    assert step.input is not None
    source = step.input
    try:
        template = parse(source.text)
    except TemplateSyntaxError as error:
        sink.error(
            source.position_in_content(error.lineno, 1),
            "E130",
            f"step {step.name}'s input template does not parse: {error.message}",
        )
        return []
    uses = find_uses(template, source.text)
    subject = f"step {step.name}'s input"
    check_filters(subject, source, uses, sink)
    report_dashed(subject, source, uses, sink)
    clean = True
    for reference in uses.references:
        clean = _check_reference(plan, step, source, reference, sink) and clean
    if clean and not uses.dashed:
        check_renders_to_json(plan, step, template, sink)
    return uses.references


def check_filters(
    subject: str, source: Scalar, uses: TemplateUses, sink: DiagnosticSink
) -> None:
    for name, line in uses.filters:
        if name in ENVIRONMENT.filters:
            continue
        allowed = ", ".join(sorted(ENVIRONMENT.filters))
        sink.error(
            column_in_blocks(source, line, name),
            "E137",
            f"{subject} uses the filter or test '{name}', which templates do not allow",
            did_you_mean(name, ENVIRONMENT.filters) or f"allowed filters: {allowed}",
        )


def report_dashed(
    subject: str, source: Scalar, uses: TemplateUses, sink: DiagnosticSink
) -> None:
    for dashed in uses.dashed:
        sink.error(
            column_in_blocks(source, dashed.reference.line, dashed.reference.name),
            "E135",
            f"{subject} writes {{{{ {dashed.written} }}}}, which Jinja "
            "reads as a subtraction, not as a key with a dash",
            f"write {{{{ {dashed.bracket_form} }}}}",
        )


def _check_reference(
    plan: Plan, step: Step, source: Scalar, reference: Reference, sink: DiagnosticSink
) -> bool:
    """Report what is wrong with one reference; True if nothing is."""
    first_key = reference.path[0] if reference.path else None

    def where() -> Position:
        # Found only when a diagnostic needs it: searching every line of a
        # large plan for every reference would cost more than compiling it.
        return column_in_blocks(source, reference.line, reference.name, first_key)

    subject = f"step {step.name}'s input"
    if reference.name == INPUT_NAME:
        return check_input_path(plan, subject, reference.path, where, sink)
    if step.for_each is not None and reference.name == step.for_each.item:
        # Only a list of the workflow input has a declared shape for its items.
        return check_input_path(
            plan,
            subject,
            reference.path,
            where,
            sink,
            item_schema(plan, step),
            reference.name,
        )
    if reference.name not in plan.steps:
        report_unknown_name(
            plan, subject, reference.name, where(), sink, exclude=step.name
        )
        return False
    requirement = next((r for r in step.requires if r.step == reference.name), None)
    if requirement is None:
        sink.error(
            where(),
            "E131",
            f"step {step.name}'s input uses step {reference.name}, which it does not require",
            f"add {reference.name} to the requires of {step.name}, "
            "so that its output exists when this step is scheduled",
        )
        return False
    if requirement.status in (Status.FAILED, Status.SKIPPED):
        sink.error(
            where(),
            "E134",
            f"step {step.name}'s input uses the output of {reference.name}, but it "
            f"runs only when {reference.name} is {requirement.status.value}, and then "
            "there is no output",
        )
        return False
    if requirement.status is Status.COMPLETED:
        sink.warning(
            where(),
            "W134",
            f"step {step.name}'s input uses the output of {reference.name}, but it also "
            f"runs when {reference.name} failed or was skipped, and then there is no "
            "output: the step would fail",
            f"require [{reference.name}, succeeded] to read its output",
        )
    return check_output_key(plan, subject, reference.name, reference.path, where, sink)


def report_unknown_name(
    plan: Plan,
    subject: str,
    name: str,
    position: Position,
    sink: DiagnosticSink,
    exclude: str | None = None,
) -> None:
    """E132, with a hint that says so when the name is another step's item."""
    owner = next(
        (
            other.name
            for other in plan.steps.values()
            if other.for_each is not None and other.for_each.item == name
        ),
        None,
    )
    hint = (
        f"'{name}' is the item of the fan-out step {owner}; it exists only in "
        f"that step's input"
        if owner is not None
        else did_you_mean(name, [n for n in [*plan.steps, INPUT_NAME] if n != exclude])
    )
    sink.error(
        position,
        "E132",
        f"{subject} uses '{name}', which is neither {INPUT_NAME} nor a step",
        hint,
    )


def check_output_key(
    plan: Plan,
    subject: str,
    step_name: str,
    path: tuple[str | int, ...],
    where: Callable[[], Position],
    sink: DiagnosticSink,
    code: str = "E133",
) -> bool:
    """Report a path into a step's output whose first key its activity lacks."""
    activity = plan.activities.get(plan.steps[step_name].activity)
    if activity is None or activity.outputs_spec is None or not path:
        return True
    key = path[0]
    if key in activity.outputs_spec:
        return True
    declared = ", ".join(sorted(activity.outputs_spec)) or "none"
    sink.error(
        where(),
        code,
        f"{subject} uses {step_name}.{key}, but activity "
        f"{activity.name} declares no output '{key}' (its outputs: {declared})",
        did_you_mean(str(key), activity.outputs_spec),
    )
    return False


def check_input_path(
    plan: Plan,
    subject: str,
    path: tuple[str | int, ...],
    where: Callable[[], Position],
    sink: DiagnosticSink,
    schema: Any = None,
    root: str = INPUT_NAME,
) -> bool:
    """Follow `__input__.a.b` through the input_spec as far as it describes it;
    with `schema` and `root`, a fan-out item through what describes it."""
    if root == INPUT_NAME:
        schema = plan.input_spec
    walked = root
    for part in path:
        if not isinstance(schema, dict):
            return True
        if isinstance(part, int):
            schema = schema.get("items") if schema.get("type") == "array" else None
            walked += f"[{part}]"
            continue
        properties = schema.get("properties")
        if not isinstance(properties, dict) or part in properties:
            schema = properties.get(part) if isinstance(properties, dict) else None
            walked += f".{part}"
            continue
        closed = schema.get("additionalProperties") is False
        message = (
            f"{subject} uses {walked}.{part}, which the plan's "
            f"input_spec does not describe"
            + (" (it allows no other keys)" if closed else "")
        )
        hint = did_you_mean(part, properties)
        if closed:
            sink.error(where(), "E136", message, hint)
            return False
        sink.warning(where(), "W136", message, hint or "describe it in the input_spec")
        return True
    return True
