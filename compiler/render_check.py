"""The render check: every input template is rendered at compile time with
placeholder values of the right shape, so a template that cannot give valid
JSON (a missing comma, a stray quote around a value) fails here, not in
production days later.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jinja2
from jinja2 import nodes

from cpe.compiler.diagnostics import DiagnosticSink, Position
from cpe.compiler.paths import item_schema
from cpe.compiler.plan import Plan, Step
from cpe.compiler.references import chain_of
from cpe.compiler.source import Scalar
from cpe.runtime.swf_errors import PAYLOAD_LIMIT
from cpe.runtime.templates import INPUT_NAME, as_json, make_environment, render


class Placeholder(dict[str, Any]):
    """Data of unknown shape: every key exists and is itself a placeholder.

    It renders as ``{}`` (or its known keys), which is valid JSON wherever a
    value may stand, so only the template's own text can make the JSON break.
    """

    def __missing__(self, key: str) -> Placeholder:
        return Placeholder()

    def __contains__(self, key: object) -> bool:
        return True


def _as_json_or_marker(value: Any) -> str:
    # A value of unknown shape is written as a string, so that a template
    # quoting its placeholder ("{{ x }}") breaks here as it would at run time
    # for any string value.
    if isinstance(value, Placeholder) and not value:
        return '"placeholder"'
    return as_json(value)


_ENVIRONMENT = make_environment(finalize=_as_json_or_marker)


def placeholder(schema: Any) -> Any:
    """A value that fits `schema` (as far as it says), for rendering only."""
    if not isinstance(schema, dict):
        return Placeholder()
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    simple = {
        "string": "text",
        "integer": 0,
        "number": 0,
        "boolean": True,
        "null": None,
    }
    if isinstance(kind, str) and kind in simple:
        return simple[kind]
    if kind == "array":
        return [placeholder(schema.get("items"))]
    properties = schema.get("properties")
    data = Placeholder()
    if isinstance(properties, dict):
        for key, value in properties.items():
            data[key] = placeholder(value)
    return data


def step_output(plan: Plan, name: str) -> Any:
    """A placeholder of a step's output: its declared keys, each a list when
    the step fans out (a fan-out step's output is the list of its items')."""
    other = plan.steps.get(name)
    activity = plan.activities.get(other.activity) if other else None
    fans_out = other is not None and other.for_each is not None
    if activity is None or activity.outputs_spec is None:
        return [Placeholder()] if fans_out else Placeholder()
    outputs = Placeholder()
    for key in activity.outputs_spec:
        outputs[key] = [Placeholder()] if fans_out else Placeholder()
    return outputs


def _context(plan: Plan, step: Step) -> dict[str, Any]:
    context: dict[str, Any] = {INPUT_NAME: placeholder(plan.input_spec)}
    for requirement in step.requires:
        context[requirement.step] = step_output(plan, requirement.step)
    if step.for_each is not None:
        context[step.for_each.item] = placeholder(item_schema(plan, step))
    return context


_NOT_PLAIN = object()


def _plain_value(node: nodes.Node, context: dict[str, Any]) -> Any:
    """The value of `{{ name.a["b"][0] }}` in `context`, or _NOT_PLAIN."""
    chain = chain_of(node)
    if chain is None or chain[0].name not in context:
        return _NOT_PLAIN
    value = context[chain[0].name]
    for part in chain[1]:
        if isinstance(value, dict) and isinstance(part, str) and part in value:
            value = value[part]
        elif (
            isinstance(value, list)
            and isinstance(part, int)
            and -len(value) <= part < len(value)
        ):
            value = value[part]
        else:
            return _NOT_PLAIN
    return value


def _render_plain(template: nodes.Template, context: dict[str, Any]) -> str | None:
    """Most templates are JSON text with `{{ paths }}` in it: those are written
    here directly (compiling a template to Python code costs far more); None
    for anything else, which Jinja renders."""
    parts: list[str] = []
    for output in template.body:
        if not isinstance(output, nodes.Output):
            return None
        for node in output.nodes:
            if isinstance(node, nodes.TemplateData):
                parts.append(node.data)
                continue
            value = _plain_value(node, context)
            if value is _NOT_PLAIN:
                return None
            parts.append(_as_json_or_marker(value))
    return "".join(parts)


def check_renders_to_json(
    plan: Plan, step: Step, template: nodes.Template, sink: DiagnosticSink
) -> None:
    assert step.input is not None
    check_template_renders(
        f"step {step.name}'s input",
        step.input,
        template,
        _context(plan, step),
        sink,
    )


def check_template_renders(
    subject: str,
    source: Scalar,
    template: nodes.Template,
    context: dict[str, Any],
    sink: DiagnosticSink,
) -> None:
    """Render a template with placeholder data; report text that is not JSON,
    keys written twice, and a result longer than SWF carries."""
    try:
        text = _render_plain(template, context)
        if text is None:
            text = render(source.text, context, _ENVIRONMENT)
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError):
        # Placeholders are not real data: a template doing arithmetic on
        # them may fail here and work at run time, so stay silent.
        return
    duplicates: list[str] = []
    try:
        json.loads(text, object_pairs_hook=_noting_duplicates(duplicates))
    except json.JSONDecodeError as error:
        sink.error(
            _template_position(source.text, error, source.position_in_content),
            "E138",
            f"{subject} does not render to JSON: {error.msg}",
            "every {{ value }} is written as JSON already: do not quote it, and "
            "separate entries with commas",
        )
        return
    for key in duplicates:
        sink.warning(
            _key_position(source.text, key, source.position_in_content),
            "W139",
            f'{subject} has the key "{key}" twice; JSON keeps only the last',
        )
    if len(text) > PAYLOAD_LIMIT:
        sink.error(
            source.position,
            "E155",
            f"{subject} is at least {len(text)} characters once rendered; "
            f"SWF carries at most {PAYLOAD_LIMIT}",
            "pass a reference to the data (a file, an S3 key) instead of the data",
        )


def _noting_duplicates(found: list[str]) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen and key not in found:
                found.append(key)
            seen.add(key)
        return dict(pairs)

    return hook


def _template_position(
    template: str, error: json.JSONDecodeError, locate: Any
) -> Position:
    """Map a position in the rendered text back to the template.

    Values render on one line each, so lines match as long as no block tag
    spans lines; the column is exact on lines without placeholders. An error
    past the end (an unclosed brace) points at the last line, and a missing
    comma at the end of the line that lacks it, where the author must type it.
    """
    lines = template.splitlines() or [""]
    rendered = error.doc.splitlines() or [""]
    line = min(max(error.lineno, 1), len(lines))
    text = lines[line - 1]
    rendered_line = (
        rendered[error.lineno - 1] if error.lineno <= len(rendered) else None
    )
    at_line_start = (
        rendered_line is not None and not rendered_line[: error.colno - 1].strip()
    )
    if error.msg == "Expecting ',' delimiter" and at_line_start and line > 1:
        before = next((i for i in range(line - 1, 0, -1) if lines[i - 1].strip()), None)
        if before is not None:
            position: Position = locate(before, len(lines[before - 1].rstrip()) + 1)
            return position
    if "{{" not in text and "{%" not in text and rendered_line == text:
        column = error.colno
    else:
        column = len(text) - len(text.lstrip()) + 1
    position = locate(line, column)
    return position


def _key_position(template: str, key: str, locate: Any) -> Position:
    """Where the key is written for the second time."""
    pattern = re.compile(rf'"{re.escape(key)}"\s*:')
    places = [
        (index, match.start() + 1)
        for index, line in enumerate(template.splitlines(), start=1)
        for match in pattern.finditer(line)
    ]
    line, column = places[1] if len(places) > 1 else (1, 1)
    position: Position = locate(line, column)
    return position
