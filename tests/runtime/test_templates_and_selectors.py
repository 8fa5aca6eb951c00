"""The template language and output selectors, as compiler and decider share them."""

from __future__ import annotations

import json

import jinja2
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
from cpe.runtime.templates import render


def test_every_value_is_written_as_json() -> None:
    context = {
        "__input__": {"s": 'say "hi"', "n": 3, "o": {"a": [1, None]}, "b": False}
    }
    text = render(
        '{"s": {{ __input__.s }}, "n": {{ __input__.n }}, '
        '"o": {{ __input__.o }}, "b": {{ __input__.b }}}',
        context,
    )
    assert json.loads(text) == context["__input__"]


def test_dots_reach_keys_never_python_attributes() -> None:
    data = {"__input__": {"items": [1, 2]}}
    assert render("{{ __input__.items }}", data) == "[1, 2]"
    with pytest.raises(jinja2.UndefinedError):
        render("{{ __input__.keys }}", {"__input__": {}})
    with pytest.raises(jinja2.UndefinedError):
        render("{{ __input__.__class__ }}", {"__input__": {}})


def test_undefined_names_fail_instead_of_rendering_empty() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render('{"a": {{ missing }}}', {})


def test_bracket_keys_and_indexes() -> None:
    data = {"step": {"home-address": "x", "list": [1, 2, 3]}}
    assert render('{{ step["home-address"] }} {{ step.list[-1] }}', data) == '"x" 3'


def test_only_safe_filters_and_no_globals() -> None:
    assert render("{{ x | length }}", {"x": [1, 2]}) == "2"
    with pytest.raises(jinja2.TemplateError):
        render("{{ x | attr('keys') }}", {"x": {}})
    with pytest.raises(jinja2.UndefinedError):
        render("{{ range(3) }}", {})


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("$", []),
        ("$.a", [{"key": "a"}]),
        ("$.a.b_c-d", [{"key": "a"}, {"key": "b_c-d"}]),
    ],
)
def test_selectors_parse(text: str, steps: list[dict[str, str]]) -> None:
    assert parse_selector(text) == steps
    assert format_selector(steps) == text


@pytest.mark.parametrize(
    ("text", "column"), [("a.b", 1), ("$.", 3), ("$.a..b", 5), ("$a", 2)]
)
def test_selector_syntax_errors_give_the_column(text: str, column: int) -> None:
    with pytest.raises(SelectorSyntaxError) as caught:
        parse_selector(text)
    assert caught.value.column == column


def test_evaluation_and_misses() -> None:
    data = {"a": {"b": [1]}}
    assert evaluate(parse_selector("$.a.b"), data) == [1]
    assert evaluate([], data) is data
    with pytest.raises(SelectorMiss, match=r"\$\.a has no key 'c'"):
        evaluate(parse_selector("$.a.c"), data)


keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True)


@given(st.lists(keys, max_size=6))
def test_parse_and_format_round_trip(path: list[str]) -> None:
    text = "$" + "".join(f".{key}" for key in path)
    steps = parse_selector(text)
    assert format_selector(steps) == text
    nested: object = "leaf"
    for key in reversed(path):
        nested = {key: nested}
    assert evaluate(steps, nested) == "leaf"


@pytest.mark.parametrize(
    "template",
    ['{{ "a" * 100000000 }}', "{{ [0] * 10000000 }}", "{{ ((9**64)**64)**64 }}"],
)
def test_templates_cannot_exhaust_memory(template: str) -> None:
    with pytest.raises(jinja2.exceptions.SecurityError):
        render(template, {})
