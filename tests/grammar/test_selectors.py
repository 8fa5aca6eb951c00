"""Selectors: parsing, canonical text, errors and evaluation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpe.grammar.selectors import (
    SelectorMiss,
    SelectorSyntaxError,
    evaluate,
    format_selector,
    parse_selector,
)


@pytest.mark.parametrize(
    ("text", "steps", "canonical"),
    [
        ("$", [], "$"),
        ("$.a.b", [{"key": "a"}, {"key": "b"}], "$.a.b"),
        ("$.a.b_c-d", [{"key": "a"}, {"key": "b_c-d"}], "$.a.b_c-d"),
        ("$.a[0]", [{"key": "a"}, {"index": 0}], "$.a[0]"),
        ("$.a[-1]", [{"key": "a"}, {"index": -1}], "$.a[-1]"),
        ('$["key with-dash"]', [{"key": "key with-dash"}], '$["key with-dash"]'),
        ("$['key with-dash']", [{"key": "key with-dash"}], '$["key with-dash"]'),
        ("$['a']", [{"key": "a"}], "$.a"),
        (
            "$.a[*].b",
            [{"key": "a"}, {"wildcard": True}, {"key": "b"}],
            "$.a[*].b",
        ),
        ('$["*"]', [{"key": "*"}], '$["*"]'),
        ('$["0"]', [{"key": "0"}], '$["0"]'),
        ('$["say \\"hi\\""]', [{"key": 'say "hi"'}], '$["say \\"hi\\""]'),
        ("$['it\\'s']", [{"key": "it's"}], '$["it\'s"]'),
        ('$["tab\\there"]', [{"key": "tab\there"}], '$["tab\\there"]'),
        ('$["\\u00e9\\ud83d\\ude00"]', [{"key": "é😀"}], '$["é😀"]'),
        (
            "$ . a [ 0 ] [ * ]",
            [{"key": "a"}, {"index": 0}, {"wildcard": True}],
            "$.a[0][*]",
        ),
    ],
)
def test_every_construct_parses(text: str, steps: list[Any], canonical: str) -> None:
    assert parse_selector(text) == steps
    assert format_selector(steps) == canonical
    assert parse_selector(canonical) == steps


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        (
            "a.b",
            1,
            "expected '$' at the start, found 'a': a selector is $ followed by "
            '.key, ["key"], [index] or [*] parts, as in $.items[0].name',
        ),
        (
            "$.",
            3,
            "expected a key name after '.', found the end of the selector "
            '(write ["key"] for a key with other characters)',
        ),
        (
            "$.a..b",
            5,
            "expected a key name after '.', found '.' "
            '(write ["key"] for a key with other characters)',
        ),
        ("$a", 2, "expected '.', '[' or the end of the selector, found 'a'"),
        ("$.a\nb", 4, "expected '.', '[' or the end of the selector, found '\\n'"),
        (
            "$[",
            3,
            "expected a quoted key, an index or '*', found the end of the selector",
        ),
        ("$.a[1.5]", 6, "expected ']', found '.'"),
        ('$["ab', 3, 'the string that starts here has no closing " on its line'),
        (
            '$["\\q"]',
            4,
            "unknown escape \\q in a string; the escapes are "
            "\\\" \\' \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX",
        ),
        ('$["\\u12"]', 4, "\\u in a string must be followed by 4 hex digits"),
        ("$[" + "9" * 5000 + "]", 3, "this number has too many digits"),
    ],
)
def test_syntax_errors_give_column_and_message(
    text: str, column: int, message: str
) -> None:
    with pytest.raises(SelectorSyntaxError) as caught:
        parse_selector(text)
    assert (caught.value.column, caught.value.message) == (column, message)
    assert str(caught.value) == f"column {column}: {message}"


def test_the_error_class_keeps_its_constructor() -> None:
    error = SelectorSyntaxError(3, "expected a key name")
    assert (error.column, error.message, error.line) == (3, "expected a key name", 1)
    assert isinstance(error, Exception)


DATA = {
    "a": {"b": [1, 2, 3], "s": "text"},
    "items": [{"b": 1}, {"b": 2}, {"b": 3}],
    "key with-dash": True,
    "nested": [[{"x": 1}], [{"x": 2}, {"x": 3}]],
    "empty": [],
}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$", DATA),
        ("$.a.b", [1, 2, 3]),
        ("$.a.b[0]", 1),
        ("$.a.b[-1]", 3),
        ("$.a.b[-3]", 1),
        ('$["key with-dash"]', True),
        ("$.items[*].b", [1, 2, 3]),
        ("$.items[*]", DATA["items"]),
        ("$.nested[*][*].x", [[1], [2, 3]]),
        ("$.empty[*].anything", []),
    ],
)
def test_evaluation(text: str, value: Any) -> None:
    assert evaluate(parse_selector(text), DATA) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("$.a.c", "$.a has no key 'c'"),
        ("$.items[5]", "$.items[5] is out of range (3 items)"),
        ("$.items[-4]", "$.items[-4] is out of range (3 items)"),
        ("$.empty[0]", "$.empty[0] is out of range (0 items)"),
        ("$.a.s.x", "$.a.s is a string, not an object, so it has no key 'x'"),
        ("$.a[0]", "$.a is an object, not an array, so it has no item [0]"),
        (
            "$.a.s[*]",
            "$.a.s is a string, not an array, so [*] has no items to go through",
        ),
        ("$.items[*].c", "$.items[0] has no key 'c'"),
        ("$.nested[*][*].y", "$.nested[0][0] has no key 'y'"),
        (
            '$["key with-dash"].x',
            "$[\"key with-dash\"] is a boolean, not an object, so it has no key 'x'",
        ),
    ],
)
def test_misses_say_which_part_found_nothing(text: str, message: str) -> None:
    with pytest.raises(SelectorMiss) as caught:
        evaluate(parse_selector(text), DATA)
    assert str(caught.value) == message
    assert isinstance(caught.value, LookupError)


def test_a_miss_in_one_item_of_a_wildcard_is_a_miss() -> None:
    data = {"items": [{"b": 1}, {}, {"b": 3}]}
    with pytest.raises(SelectorMiss, match=r"^\$\.items\[1\] has no key 'b'$"):
        evaluate(parse_selector("$.items[*].b"), data)


def test_one_item_is_counted_in_the_singular() -> None:
    with pytest.raises(SelectorMiss, match=r"\(1 item\)"):
        evaluate(parse_selector("$[1]"), ["only"])


def test_null_is_a_value_not_a_miss() -> None:
    assert evaluate(parse_selector("$.a"), {"a": None}) is None


def test_unknown_steps_are_refused() -> None:
    with pytest.raises(ValueError, match="not a selector step"):
        evaluate([{"slice": [1, 2]}], [1])
    with pytest.raises(ValueError, match="not a selector step"):
        format_selector([{"slice": [1, 2]}])


def test_steps_are_plain_json() -> None:
    steps = parse_selector('$.a[0]["b c"][*]')
    assert json.loads(json.dumps(steps)) == steps


# --- properties -------------------------------------------------------------

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True)
keys = st.one_of(names, st.text(max_size=8))
step_strategy = st.one_of(
    keys.map(lambda key: {"key": key}),
    st.integers(-(10**30), 10**30).map(lambda index: {"index": index}),
    st.just({"wildcard": True}),
)


@given(st.lists(step_strategy, max_size=8))
def test_format_then_parse_gives_the_steps_back(steps: list[dict[str, Any]]) -> None:
    text = format_selector(steps)
    assert parse_selector(text) == steps
    assert format_selector(parse_selector(text)) == text


@given(st.lists(names, max_size=6))
def test_dotted_names_are_unchanged_from_language_1(path: list[str]) -> None:
    text = "$" + "".join(f".{key}" for key in path)
    steps = parse_selector(text)
    assert steps == [{"key": key} for key in path]
    assert format_selector(steps) == text


@given(st.lists(st.one_of(keys, st.integers(0, 3)), max_size=6))
def test_a_path_built_into_data_finds_its_leaf(path: list[str | int]) -> None:
    data: Any = "leaf"
    for part in reversed(path):
        data = {part: data} if isinstance(part, str) else [None] * part + [data]
    steps = [{"key": p} if isinstance(p, str) else {"index": p} for p in path]
    assert evaluate(parse_selector(format_selector(steps)), data) == "leaf"


@given(st.lists(st.integers(), max_size=5))
def test_a_wildcard_maps_the_rest_of_the_path(values: list[int]) -> None:
    data = {"items": [{"v": value} for value in values]}
    assert evaluate(parse_selector("$.items[*].v"), data) == values


selector_alphabet = st.sampled_from([*"$.[]*\"'\\-_ab09 \t\nu", "ü", "\x00"])


@given(st.one_of(st.text(), st.text(selector_alphabet)))
def test_any_text_parses_or_raises_a_syntax_error(text: str) -> None:
    try:
        steps = parse_selector(text)
    except SelectorSyntaxError as error:
        assert 1 <= error.column <= len(text) + 1
        assert error.message.startswith(
            ("expected", "the string", "unknown", "\\u", "a \\u", "this")
        )
    else:
        assert parse_selector(format_selector(steps)) == steps
