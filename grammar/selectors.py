"""Selectors: paths into JSON data, parsed at compile time, evaluated at run time.

The language (grammar in ``selector.lark``)::

    $                    the whole value
    $.a.b                key "a", then key "b"; after a dot a key starts with a
                         letter or "_" and holds letters, digits, "_" and "-"
                         (so $.a.b_c-d is the key "b_c-d", as in plan language 1)
    $["key with-dash"]   any key, in double or single quotes, with JSON escapes
    $.a[0]   $.a[-1]     an item of an array; a negative index counts from the end
    $.a[*].b             every item of an array: the rest of the path is applied
                         to each item and the result is the list of what it found

A parsed selector is a list of steps, plain JSON so that the IR stores it and the
decider walks it without the grammar and without ``eval``::

    $.items[0]["a b"][*].c  ->  [{"key": "items"}, {"index": 0}, {"key": "a b"},
                                 {"wildcard": true}, {"key": "c"}]

``format_selector`` writes steps back as canonical text: ``.key`` where the key is
a name, ``["key"]`` (double quotes) where it is not, so ``$['a']`` becomes ``$.a``.

Evaluation walks only dicts (by key) and lists (by index); anything else finds
nothing. Finding nothing raises ``SelectorMiss`` naming the part that failed,
such as ``$.a has no key 'c'`` or ``$.items[5] is out of range (3 items)``. Under
a wildcard, a miss in any item is a miss of the whole selector: an output that
silently dropped items would be worse than a step that fails and says why.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedInput, v_args

from cpe.grammar._support import (
    BadToken,
    ExpressionSyntaxError,
    Failure,
    alternatives,
    build_parser,
    decode_int,
    decode_string,
    describe_found,
    quote_string,
    translate,
    unterminated_string,
)

SelectorStep = dict[str, Any]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class SelectorSyntaxError(ExpressionSyntaxError):
    """A selector does not parse; column counts from 1 inside the selector text."""


class SelectorMiss(LookupError):
    """A selector found nothing in the data it was applied to."""


# --- parsing ----------------------------------------------------------------


@v_args(inline=True)
class _Steps(Transformer[Token, Any]):
    """Builds the steps while Lark parses (no parse tree is kept)."""

    def start(self, _dollar: Token, *steps: SelectorStep) -> list[SelectorStep]:
        return list(steps)

    def key(self, _dot: Token, name: Token) -> SelectorStep:
        return {"key": str(name)}

    def quoted_key(self, _open: Token, string: Token, _close: Token) -> SelectorStep:
        return {"key": decode_string(string)}

    def index(self, _open: Token, index: Token, _close: Token) -> SelectorStep:
        return {"index": decode_int(index)}

    def wildcard(self, _open: Token, _star: Token, _close: Token) -> SelectorStep:
        return {"wildcard": True}


@cache
def _parser() -> Lark:
    return build_parser("selector.lark", _Steps())


def parse_selector(text: str) -> list[SelectorStep]:
    """The steps of a selector such as ``$.format.duration``."""
    try:
        steps: list[SelectorStep] = _parser().parse(text)  # type: ignore[assignment]
    except (UnexpectedInput, BadToken) as error:
        _line, column, message = translate(text, error, _explain)
        raise SelectorSyntaxError(column, message) from None
    return steps


_PHRASES = {
    "DOLLAR": "'$'",
    "DOT": "'.'",
    "LSQB": "'['",
    "NAME": "a key name",
    "STRING": "a quoted key",
    "INDEX": "an index",
    "STAR": "'*'",
    "RSQB": "']'",
    "$END": "the end of the selector",
}
_OVERVIEW = (
    'a selector is $ followed by .key, ["key"], [index] or [*] parts, '
    "as in $.items[0].name"
)


def _explain(failure: Failure) -> str:
    """What was expected where the selector stopped parsing."""
    open_string = unterminated_string(failure)
    if open_string:
        return open_string
    found = describe_found(failure, "the end of the selector")
    if failure.expected == {"DOLLAR"}:
        return f"expected '$' at the start, found {found}: {_OVERVIEW}"
    if failure.expected == {"NAME"}:
        return (
            f"expected a key name after '.', found {found} "
            '(write ["key"] for a key with other characters)'
        )
    wanted = alternatives(
        phrase for name, phrase in _PHRASES.items() if name in failure.expected
    )
    return f"expected {wanted}, found {found}"


# --- formatting -------------------------------------------------------------


def format_selector(steps: list[SelectorStep]) -> str:
    """The canonical text of parsed steps; it parses back to the same steps."""
    return "$" + "".join(_format_step(step) for step in steps)


def _format_step(step: SelectorStep) -> str:
    if "key" in step:
        key = str(step["key"])
        return f".{key}" if _NAME.fullmatch(key) else f"[{quote_string(key)}]"
    if "index" in step:
        return f"[{int(step['index'])}]"
    if step.get("wildcard") is True:
        return "[*]"
    raise ValueError(f"not a selector step: {step!r}")


# --- evaluation -------------------------------------------------------------


def evaluate(steps: list[SelectorStep], data: Any) -> Any:
    """Apply parsed selector steps to JSON data; raises SelectorMiss."""
    return _walk(steps, 0, data, "$")


def _walk(steps: list[SelectorStep], start: int, value: Any, walked: str) -> Any:
    """Apply steps[start:] to value, which was reached by the path `walked`."""
    for position in range(start, len(steps)):
        step = steps[position]
        if step.get("wildcard") is True:
            items = _array(value, walked, "so [*] has no items to go through")
            return [
                _walk(steps, position + 1, item, f"{walked}[{number}]")
                for number, item in enumerate(items)
            ]
        value = _one_step(step, value, walked)
        walked += _format_step(step)
    return value


def _one_step(step: SelectorStep, value: Any, walked: str) -> Any:
    if "key" in step:
        key = step["key"]
        if not isinstance(value, dict):
            raise SelectorMiss(
                f"{walked} is {a_json_type(value)}, not an object, so it has no key '{key}'"
            )
        if key not in value:
            raise SelectorMiss(f"{walked} has no key '{key}'")
        return value[key]
    if "index" in step:
        index = int(step["index"])
        items = _array(value, walked, f"so it has no item [{index}]")
        if not -len(items) <= index < len(items):
            count = "1 item" if len(items) == 1 else f"{len(items)} items"
            raise SelectorMiss(f"{walked}[{index}] is out of range ({count})")
        return items[index]
    raise ValueError(f"not a selector step: {step!r}")


def _array(value: Any, walked: str, consequence: str) -> list[Any]:
    if not isinstance(value, list):
        raise SelectorMiss(
            f"{walked} is {a_json_type(value)}, not an array, {consequence}"
        )
    return value


def a_json_type(value: Any) -> str:
    """The JSON type of a value with its article: 'a string', 'an array', 'null'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a Python {type(value).__name__} (not JSON data)"
