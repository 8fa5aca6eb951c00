"""Binding checks of a fan-out step's `for_each` path, once every step is known.

The path is read when the step becomes ready, so it may name `__input__` or a
step the fan-out step requires to have succeeded: the same rules as a
condition's paths, with their own codes so a search finds the right advice.
"""

from __future__ import annotations

from cpe.compiler.bindings import check_input_path, check_output_key
from cpe.compiler.checker import did_you_mean
from cpe.compiler.diagnostics import DiagnosticSink, Position
from cpe.compiler.paths import path_parts
from cpe.compiler.plan import Plan, Status, Step
from cpe.runtime.templates import INPUT_NAME


def check_for_each(plan: Plan, step: Step, sink: DiagnosticSink) -> None:
    """Report a for_each path that names what it cannot read, and an item name
    that is also a step's."""
    for_each = step.for_each
    assert for_each is not None
    node = for_each.node
    subject = f"step {step.name}'s for_each"

    def where() -> Position:
        return node.position

    if for_each.item in plan.steps:
        sink.error(
            for_each.item_position,
            "E162",
            f"step {step.name}'s 'as: {for_each.item}' is also the name of a step, so "
            f"{{{{ {for_each.item} }}}} would be ambiguous",
            "choose another name for the item, such as 'item'",
        )
    name = str(for_each.path["name"])
    parts = path_parts(for_each.path["steps"])
    if name == INPUT_NAME:
        check_input_path(plan, subject, parts, where, sink)
        return
    if name not in plan.steps:
        sink.error(
            where(),
            "E166",
            f"{subject} uses '{name}', which is neither {INPUT_NAME} nor a step",
            did_you_mean(
                name, [n for n in [*plan.steps, INPUT_NAME] if n != step.name]
            ),
        )
        return
    requirement = next((r for r in step.requires if r.step == name), None)
    if requirement is None:
        sink.error(
            where(),
            "E167",
            f"{subject} uses step {name}, which it does not require",
            f"add {name} to the requires of {step.name}, so that its output "
            "exists when the items are counted",
        )
        return
    if requirement.status in (Status.FAILED, Status.SKIPPED):
        sink.error(
            where(),
            "E168",
            f"{subject} uses the output of {name}, but the step runs only when "
            f"{name} is {requirement.status.value}, and then there is no output",
        )
        return
    if requirement.status is Status.COMPLETED:
        sink.warning(
            where(),
            "W168",
            f"{subject} uses the output of {name}, but the step also runs when "
            f"{name} failed or was skipped, and then there is no list to run over",
            f"require [{name}, succeeded] to read its output",
        )
    if plan.steps[name].wait is not None:
        sink.error(
            where(),
            "E169",
            f"{subject} runs over the output of {name}, a wait step, whose output "
            "is always null",
            "run over the output of a step that gives a list",
        )
        return
    check_output_key(plan, subject, name, parts, where, sink, "E169")
