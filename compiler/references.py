"""Binding resolution: what each input template refers to, found in the Jinja AST.

A template may use `__input__` (the workflow input) and the steps its step
requires. Walking the AST rather than matching text means `{{ a.b }}`,
`{{ a["b"] }}`, loops and filters are all seen for what they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jinja2 import TemplateSyntaxError, nodes

from cpe.compiler.checker import did_you_mean
from cpe.compiler.diagnostics import DiagnosticSink, Position
from cpe.compiler.plan import Plan, Status, Step
from cpe.compiler.source import Scalar
from cpe.runtime.templates import INPUT_NAME, parse


@dataclass(frozen=True)
class Reference:
    """A name a template uses and the literal path it walks into it."""

    name: str
    path: tuple[str | int, ...]
    line: int
    """The line inside the template (from 1)."""

    def as_json(self) -> dict[str, object]:
        if self.name == INPUT_NAME:
            return {"kind": "input", "path": list(self.path)}
        return {"kind": "step", "step": self.name, "path": list(self.path)}


def _chain(node: nodes.Node) -> tuple[nodes.Name, list[str | int]] | None:
    """For `a.b["c"][0]`, the name `a` and the path ["b", "c", 0]."""
    path: list[str | int] = []
    while True:
        if isinstance(node, nodes.Getattr):
            path.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            if not isinstance(node.arg.value, str | int):
                return None
            path.append(node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Name):
            return node, list(reversed(path))
        else:
            return None


def _local_names(template: nodes.Template) -> set[str]:
    names: set[str] = set()
    for target in template.find_all(nodes.Name):
        if target.ctx in ("store", "param"):
            names.add(target.name)
    return names


def find_references(template: nodes.Template) -> list[Reference]:
    local = _local_names(template)
    found: list[Reference] = []

    def visit(node: nodes.Node) -> None:
        chain = (
            _chain(node) if isinstance(node, nodes.Getattr | nodes.Getitem) else None
        )
        if chain is not None:
            name, path = chain
            if name.name not in local:
                found.append(Reference(name.name, tuple(path), name.lineno))
            # Dynamic subscripts inside the chain may refer to names too.
            for item in node.find_all(nodes.Getitem):
                if not isinstance(item.arg, nodes.Const):
                    visit(item.arg)
            return
        if (
            isinstance(node, nodes.Name)
            and node.ctx == "load"
            and node.name not in local
        ):
            found.append(Reference(node.name, (), node.lineno))
            return
        for child in node.iter_child_nodes():
            visit(child)

    visit(template)
    return found


_JINJA_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")


def _position_of_name(source: Scalar, reference: Reference) -> Position:
    """Where a referenced name is written; Jinja gives lines but no columns.

    The name is looked for inside the line's Jinja blocks only, so that a JSON
    key spelled like the step (`"probe": {{ probe }}`) is not taken for it.
    """
    lines = source.text.splitlines()
    text = lines[reference.line - 1] if 0 < reference.line <= len(lines) else ""
    word = re.compile(rf"(?<![\w.]){re.escape(reference.name)}(?!\w)")
    for block in _JINJA_BLOCK.finditer(text):
        found = word.search(text, block.start(), block.end())
        if found:
            return source.position_in_content(reference.line, found.start() + 1)
    return source.position_in_content(reference.line, 1)


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
    references = find_references(template)
    required = {r.step: r for r in step.requires}
    for reference in references:
        where = _position_of_name(source, reference)
        if reference.name == INPUT_NAME:
            continue
        if reference.name not in plan.steps:
            sink.error(
                where,
                "E132",
                f"step {step.name}'s input uses '{reference.name}', which is neither "
                f"{INPUT_NAME} nor a step",
                did_you_mean(reference.name, [*plan.steps, INPUT_NAME]),
            )
            continue
        requirement = required.get(reference.name)
        if requirement is None:
            sink.error(
                where,
                "E131",
                f"step {step.name}'s input uses step {reference.name}, "
                "which it does not require",
                f"add {reference.name} to the requires of {step.name}, "
                "so that its output exists when this step is scheduled",
            )
            continue
        if requirement.status in (Status.FAILED, Status.SKIPPED):
            sink.error(
                where,
                "E134",
                f"step {step.name}'s input uses the output of {reference.name}, "
                f"but it runs only when {reference.name} is {requirement.status.value}, "
                "and then there is no output",
            )
            continue
        _check_output_key(plan, step, reference, where, sink)
    return references


def _check_output_key(
    plan: Plan, step: Step, reference: Reference, where: Position, sink: DiagnosticSink
) -> None:
    target = plan.steps[reference.name]
    activity = plan.activities.get(target.activity)
    if activity is None or activity.outputs_spec is None or not reference.path:
        return
    key = reference.path[0]
    if key not in activity.outputs_spec:
        declared = ", ".join(sorted(activity.outputs_spec)) or "none"
        sink.error(
            where,
            "E133",
            f"step {step.name}'s input uses {reference.name}.{key}, but activity "
            f"{activity.name} declares no output '{key}' (its outputs: {declared})",
            did_you_mean(str(key), activity.outputs_spec),
        )
