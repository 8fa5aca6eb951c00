"""Whether a new input_spec is stricter, looser, or just different."""

from __future__ import annotations

from typing import Any

import pytest

from cpe.compiler.diff_schema import compare_schemas

OBJECT: dict[str, Any] = {
    "type": "object",
    "required": ["a"],
    "properties": {
        "a": {"type": "string", "minLength": 1},
        "n": {"type": "integer", "maximum": 10},
        "mode": {"enum": ["hd", "sd"]},
    },
}


def _with(**changes: Any) -> dict[str, Any]:
    schema = {**OBJECT, "properties": {**OBJECT["properties"]}}
    for key, value in changes.items():
        if key in OBJECT["properties"]:
            schema["properties"][key] = value
        else:
            schema[key] = value
    return schema


@pytest.mark.parametrize(
    ("new", "sentence"),
    [
        (_with(required=["a", "n"]), "is stricter: new required key `n`"),
        (_with(required=[]), "is looser: `a` no longer required"),
        (
            _with(mode={"enum": ["hd"]}),
            'is stricter: `enum` at `mode`: ["hd", "sd"] → ["hd"]',
        ),
        (
            _with(mode={"enum": ["hd", "sd", "4k"]}),
            'is looser: `enum` at `mode`: ["hd", "sd"] → ["hd", "sd", "4k"]',
        ),
        (
            _with(a={"type": "string", "minLength": 3}),
            "is stricter: `minLength` at `a`: 1 → 3",
        ),
        (
            _with(n={"type": "integer", "maximum": 20}),
            "is looser: `maximum` at `n`: 10 → 20",
        ),
        (
            _with(n={"type": ["integer", "null"], "maximum": 10}),
            'is looser: `type` at `n`: "integer" → ["integer", "null"]',
        ),
        (
            _with(additionalProperties=False),
            "is stricter: no other keys allowed at the root",
        ),
        (
            _with(a={"type": "string", "minLength": 1, "pattern": "^s3://"}),
            "is stricter: `pattern` added at `a`",
        ),
        (
            _with(required=["a", "n"], n={"type": "integer", "maximum": 20}),
            "changed: `maximum` at `n`: 10 → 20 and new required key `n`",
        ),
        (
            _with(a={"type": "string", "minLength": 1, "format": "uri"}),
            "changed without effect on validation (descriptions or formats only)",
        ),
        (
            _with(mode={"$ref": "#/$defs/mode"}),
            "changed: `$ref` at `mode` changed and `enum` removed at `mode`",
        ),
    ],
)
def test_verdicts(new: dict[str, Any], sentence: str) -> None:
    assert compare_schemas(OBJECT, new).sentence() == sentence


def test_a_schema_where_there_was_none_is_stricter() -> None:
    assert compare_schemas(None, OBJECT).verdict == "stricter"
    assert compare_schemas(OBJECT, None).verdict == "looser"
    assert compare_schemas(None, {}).verdict == "equivalent"


def test_a_malformed_keyword_is_changed_not_a_crash() -> None:
    comparison = compare_schemas({"required": "a"}, {"required": ["a"]})
    assert comparison.sentence() == "changed: `required` at the root changed"


def test_long_detail_lists_are_cut() -> None:
    new = _with(required=["a", "b", "c", "d", "e"])
    assert compare_schemas(OBJECT, new).sentence() == (
        "is stricter: new required key `b`, new required key `c`, new required key "
        "`d` and 1 more"
    )
