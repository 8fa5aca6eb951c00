"""Output selectors: parsed at compile time with Lark, evaluated at run time.

A selector's parsed form is a list of steps that the IR stores as plain JSON
(``[{"key": "a"}, {"key": "b"}]`` for ``$.a.b``), so the decider evaluates it
without the grammar and without ``eval``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Tree, UnexpectedEOF, UnexpectedInput

SelectorStep = dict[str, str]


@dataclass(frozen=True)
class SelectorSyntaxError(Exception):
    """A selector does not parse; column counts from 1 inside the selector text."""

    column: int
    message: str

    def __str__(self) -> str:
        return f"column {self.column}: {self.message}"


@cache
def _parser() -> Lark:
    grammar = resources.files("cpe.grammar").joinpath("selector.lark").read_text()
    return Lark(grammar, parser="lalr")


def parse_selector(text: str) -> list[SelectorStep]:
    """The steps of a selector such as ``$.format.duration``."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as error:
        column = max(getattr(error, "column", 1), 1)
        token = getattr(error, "token", None)
        if isinstance(error, UnexpectedEOF) or getattr(token, "type", None) == "$END":
            column = len(text) + 1  # the selector stops where it should go on
        raise SelectorSyntaxError(
            column, "a selector is $ followed by .key parts, as in $.format.duration"
        ) from None
    steps: list[SelectorStep] = []
    for segment in tree.children:
        assert isinstance(segment, Tree)
        name = segment.children[0]
        assert isinstance(name, Token)
        steps.append({"key": str(name)})
    return steps


class SelectorMiss(LookupError):
    """A selector found nothing in the data it was applied to."""


def evaluate(steps: list[SelectorStep], data: Any) -> Any:
    """Apply parsed selector steps to JSON data."""
    value = data
    walked = "$"
    for step in steps:
        key = step["key"]
        if not isinstance(value, dict) or key not in value:
            raise SelectorMiss(f"{walked} has no key '{key}'")
        value = value[key]
        walked += f".{key}"
    return value


def format_selector(steps: list[SelectorStep]) -> str:
    return "$" + "".join(f".{step['key']}" for step in steps)
