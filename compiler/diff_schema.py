"""Whether a new JSON Schema accepts less, more, or just different data.

Deciding inclusion between two schemas in general is hard; this walks the two
side by side and classifies only the edits whose direction is obvious (a new
required key, a narrower enum, a raised minimum, ...). Any other edit makes
the verdict "changed", never a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from cpe.compiler.diff_values import canonical, listing, show

Verdict = Literal["stricter", "looser", "changed", "equivalent"]
STRICTER, LOOSER, UNKNOWN = 1, -1, 0

# Keywords the validator does not assert: editing them changes no outcome.
# `format` is among them because the decider validates without a format
# checker, as jsonschema does by default.
ANNOTATIONS = frozenset(
    {
        "$comment",
        "default",
        "deprecated",
        "description",
        "examples",
        "format",
        "readOnly",
        "title",
        "writeOnly",
    }
)
LOWER_BOUNDS = frozenset(
    {"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"}
)
UPPER_BOUNDS = frozenset(
    {"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"}
)
# Adding one of these can only reject more data; removing one, accept more.
ASSERTIONS = frozenset(
    {"pattern", "const", "multipleOf", "not", "allOf", "anyOf", "oneOf"}
)
_ABSENT = object()
SHOWN_DETAILS = 3
# The shape a keyword's value must have for its handler to read it; a schema
# that breaks it gets "changed" rather than a crash.
_SHAPES: dict[str, type | tuple[type, ...]] = {
    "required": list,
    "properties": dict,
    "type": (str, list),
    "enum": list,
}


@dataclass(frozen=True)
class SchemaComparison:
    verdict: Verdict
    details: tuple[str, ...] = ()

    def sentence(self) -> str:
        if self.verdict == "equivalent":
            return "changed without effect on validation (descriptions or formats only)"
        head = {
            "stricter": "is stricter",
            "looser": "is looser",
            "changed": "changed",
        }[self.verdict]
        if not self.details:
            return head
        shown = list(self.details[:SHOWN_DETAILS])
        if len(self.details) > SHOWN_DETAILS:
            shown.append(f"{len(self.details) - SHOWN_DETAILS} more")
        return f"{head}: {listing(shown)}"


@dataclass
class _Facts:
    found: list[tuple[int, str]] = field(default_factory=list)

    def add(self, effect: int, text: str) -> None:
        self.found.append((effect, text))


_Handler = Callable[[dict[str, Any], dict[str, Any], list[str], _Facts], None]


def compare_schemas(old: Any, new: Any) -> SchemaComparison:
    """The verdict on replacing schema `old` by `new` (None means no schema)."""
    facts = _Facts()
    _walk(_schema(old), _schema(new), [], facts)
    details = tuple(text for _, text in facts.found)
    effects = {effect for effect, _ in facts.found}
    if not effects:
        same = _strip(_schema(old)) == _strip(_schema(new))
        return SchemaComparison("equivalent" if same else "changed")
    if effects == {STRICTER}:
        return SchemaComparison("stricter", details)
    if effects == {LOOSER}:
        return SchemaComparison("looser", details)
    return SchemaComparison("changed", details)


def _schema(value: Any) -> Any:
    # No schema and the schema `true` both accept everything, like `{}`.
    return {} if value is None or value is True else value


def _strip(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip(v) for k, v in schema.items() if k not in ANNOTATIONS}
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    return schema


def _path(path: list[str]) -> str:
    text = ""
    for part in path:
        text += part if part == "[]" else ("." if text else "") + part
    return text


def _at(path: list[str]) -> str:
    return f"at `{_path(path)}`" if path else "at the root"


def _walk(old: Any, new: Any, path: list[str], facts: _Facts) -> None:
    if not isinstance(old, dict) or not isinstance(new, dict):
        if _strip(old) != _strip(new):
            facts.add(UNKNOWN, f"the schema {_at(path)} changed")
        return
    for key in sorted((set(old) | set(new)) - ANNOTATIONS):
        before, after = old.get(key, _ABSENT), new.get(key, _ABSENT)
        if _strip(before) != _strip(after):
            _keyword(key, old, new, path, facts)


def _keyword(
    key: str, old: dict[str, Any], new: dict[str, Any], path: list[str], facts: _Facts
) -> None:
    handler = _HANDLERS.get(key)
    shape = _SHAPES.get(key)
    if shape is not None and not all(
        isinstance(side[key], shape) for side in (old, new) if key in side
    ):
        facts.add(UNKNOWN, f"`{key}` {_at(path)} changed")
    elif handler is not None:
        handler(old, new, path, facts)
    elif key in LOWER_BOUNDS or key in UPPER_BOUNDS:
        _bound(key, old, new, path, facts)
    elif key in ASSERTIONS:
        _assertion(key, old, new, path, facts)
    else:
        facts.add(UNKNOWN, f"`{key}` {_at(path)} changed")


def _required(
    old: dict[str, Any], new: dict[str, Any], path: list[str], facts: _Facts
) -> None:
    before, after = set(old.get("required", [])), set(new.get("required", []))
    for key in sorted(after - before):
        facts.add(STRICTER, f"new required key `{_path([*path, key])}`")
    for key in sorted(before - after):
        facts.add(LOOSER, f"`{_path([*path, key])}` no longer required")


def _properties(
    old: dict[str, Any], new: dict[str, Any], path: list[str], facts: _Facts
) -> None:
    before, after = old.get("properties", {}), new.get("properties", {})
    closed = new.get("additionalProperties") is False
    for key in sorted(set(before) | set(after)):
        where = _path([*path, key])
        if key in before and key in after:
            _walk(before[key], after[key], [*path, key], facts)
        elif key in after and closed:
            facts.add(LOOSER, f"`{where}` now allowed")
        elif key in after and _strip(_schema(after[key])):
            facts.add(STRICTER, f"`{where}` now constrained")
        elif key in before and old.get("additionalProperties") is False:
            facts.add(STRICTER, f"`{where}` no longer allowed")
        elif key in before and _strip(_schema(before[key])):
            facts.add(LOOSER, f"`{where}` no longer constrained")


def _additional(
    old: dict[str, Any], new: dict[str, Any], path: list[str], facts: _Facts
) -> None:
    before = _schema(old.get("additionalProperties"))
    after = _schema(new.get("additionalProperties"))
    if after is False:
        facts.add(STRICTER, f"no other keys allowed {_at(path)}")
    elif before is False and after == {}:
        facts.add(LOOSER, f"other keys allowed {_at(path)}")
    else:
        _walk(before, after, [*path, "*"], facts)


def _items(
    old: dict[str, Any], new: dict[str, Any], path: list[str], facts: _Facts
) -> None:
    _walk(_schema(old.get("items")), _schema(new.get("items")), [*path, "[]"], facts)


def _set_keyword(key: str, normal: Callable[[Any], set[str]]) -> _Handler:
    """`type` and `enum`: a subset accepts less, a superset more."""

    def compare(
        old: dict[str, Any], new: dict[str, Any], path: list[str], facts: _Facts
    ) -> None:
        where = _at(path)
        if key not in old:
            facts.add(STRICTER, f"`{key}` {show(new[key])} added {where}")
        elif key not in new:
            facts.add(LOOSER, f"`{key}` removed {where}")
        else:
            before, after = normal(old[key]), normal(new[key])
            effect = (
                STRICTER if after < before else LOOSER if after > before else UNKNOWN
            )
            facts.add(effect, f"`{key}` {where}: {show(old[key])} → {show(new[key])}")

    return compare


def _types(value: Any) -> set[str]:
    names = [value] if isinstance(value, str) else value
    return {v if isinstance(v, str) else canonical(v) for v in names}


def _values(value: Any) -> set[str]:
    return (
        {canonical(v) for v in value} if isinstance(value, list) else {canonical(value)}
    )


def _bound(
    key: str, old: dict[str, Any], new: dict[str, Any], path: list[str], facts: _Facts
) -> None:
    before, after = old.get(key), new.get(key)
    text = f"`{key}` {_at(path)}: {show(before)} → {show(after)}"
    raising = STRICTER if key in LOWER_BOUNDS else LOOSER
    if before is None:
        facts.add(STRICTER, text)
    elif after is None:
        facts.add(LOOSER, text)
    elif isinstance(before, int | float) and isinstance(after, int | float):
        facts.add(raising if after > before else -raising, text)
    else:
        facts.add(UNKNOWN, text)


def _assertion(
    key: str, old: dict[str, Any], new: dict[str, Any], path: list[str], facts: _Facts
) -> None:
    where = _at(path)
    if key not in old:
        facts.add(STRICTER, f"`{key}` added {where}")
    elif key not in new:
        facts.add(LOOSER, f"`{key}` removed {where}")
    else:
        facts.add(UNKNOWN, f"`{key}` {where} changed")


_HANDLERS: dict[str, _Handler] = {
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional,
    "items": _items,
    "type": _set_keyword("type", _types),
    "enum": _set_keyword("enum", _values),
}
