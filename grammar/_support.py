"""What the expression grammars share: loading, syntax errors, string literals.

Both languages (selectors and conditions) are Lark LALR grammars shipped as
``.lark`` files next to this module. Each parser is built once per process and
runs its transformer while it parses (Lark's ``transformer=`` option), so no
parse tree is built and a parse costs little more than lexing.

Syntax errors are turned into ``ExpressionSyntaxError`` subclasses that carry a
1-based line and column inside the expression text and a message saying what
was expected there; the compiler maps that column to the plan file.

String literals are written as in JSON, in double or single quotes:
``\\"``, ``\\'``, ``\\\\``, ``\\/``, ``\\b``, ``\\f``, ``\\n``, ``\\r``, ``\\t``
and ``\\uXXXX`` (a character outside the Basic Multilingual Plane as a
surrogate pair, as JSON does). A string ends on the line it starts on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedInput


class ExpressionSyntaxError(Exception):
    """An expression does not parse; line and column count from 1 inside its text."""

    def __init__(self, column: int, message: str, line: int = 1) -> None:
        super().__init__(column, message, line)
        self.column = column
        self.message = message
        self.line = line

    def __str__(self) -> str:
        where = f"column {self.column}"
        if self.line != 1:
            where = f"line {self.line}, {where}"
        return f"{where}: {self.message}"


class BadToken(Exception):
    """Raised by a transformer for a token the grammar accepts but whose value is
    wrong (an unknown escape, an index that is not a whole number, ...)."""

    def __init__(self, token: Token, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.line = token.line or 1
        self.column = (token.column or 1) + offset
        self.message = message


def build_parser(
    filename: str, transformer: Transformer[Token, Any], lexer: str = "contextual"
) -> Lark:
    """The LALR parser of a grammar file of this package; callers cache it."""
    grammar = resources.files("cpe.grammar").joinpath(filename).read_text("utf-8")
    return Lark(grammar, parser="lalr", lexer=lexer, transformer=transformer)


@dataclass(frozen=True)
class Failure:
    """Where and why Lark stopped, in terms a message can be built from."""

    line: int
    column: int
    offset: int  # 0-based index into the text of what was found
    found: str | None  # the token or character found; None at the end of the text
    found_type: str | None  # its terminal name when the lexer recognised it
    expected: frozenset[str]  # the terminals the grammar would have accepted


def failure_of(error: UnexpectedInput, text: str) -> Failure:
    expected = _expected(error)
    if isinstance(error, UnexpectedCharacters):
        offset = error.pos_in_stream or 0
        return Failure(error.line, error.column, offset, text[offset], None, expected)
    token = getattr(error, "token", None)
    if isinstance(token, Token) and token.type != "$END":
        offset = token.start_pos or 0
        line, column = token.line or 1, token.column or 1
        return Failure(line, column, offset, str(token), token.type, expected)
    line, column = end_of(text)
    return Failure(line, column, len(text), None, "$END", expected)


def _expected(error: UnexpectedInput) -> frozenset[str]:
    # The interactive parser replays the state exactly; the sets Lark stores on
    # the error come from LALR lookaheads and may name tokens that would fail
    # one reduction later.
    interactive = getattr(error, "interactive_parser", None)
    if interactive is not None:
        try:
            return frozenset(interactive.accepts())
        except (UnexpectedInput, BadToken):
            pass
    names = getattr(error, "expected", None) or getattr(error, "allowed", None) or ()
    return frozenset(names)


def end_of(text: str) -> tuple[int, int]:
    """The (line, column) just after the last character of text."""
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def alternatives(phrases: Iterable[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    items = list(dict.fromkeys(phrases))
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def describe_found(failure: Failure, end: str) -> str:
    if failure.found is None:
        return end
    shown = failure.found if len(failure.found) <= 20 else failure.found[:17] + "..."
    # A line break or a control character would garble a one-line diagnostic.
    return (
        "'" + "".join(c if c.isprintable() else _escaped_char(c) for c in shown) + "'"
    )


def unterminated_string(failure: Failure) -> str | None:
    """The message for a quote the lexer could not match: a string left open."""
    if failure.found_type is None and failure.found in ('"', "'"):
        return f"the string that starts here has no closing {failure.found} on its line"
    return None


def translate(
    text: str,
    error: UnexpectedInput | BadToken,
    explain: Callable[[Failure], str],
) -> tuple[int, int, str]:
    """(line, column, message) of a Lark error or a transformer's BadToken."""
    if isinstance(error, BadToken):
        return error.line, error.column, error.message
    failure = failure_of(error, text)
    return failure.line, failure.column, explain(failure)


# --- string literals --------------------------------------------------------

_SIMPLE_ESCAPES = {
    '"': '"',
    "'": "'",
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")


def decode_string(token: Token) -> str:
    """The value of a quoted string token; BadToken for a bad escape."""
    body = str(token)[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        decoded, index = _escape(token, body, index)
        out.append(decoded)
    return "".join(out)


def _escape(token: Token, body: str, index: int) -> tuple[str, int]:
    """Decode the escape at body[index] (a backslash); the text and where to go on."""
    code = body[index + 1]  # the token's pattern guarantees a character follows
    if code in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[code], index + 2
    if code != "u":
        raise BadToken(
            token,
            f"unknown escape \\{code} in a string; the escapes are "
            "\\\" \\' \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX",
            offset=index + 1,
        )
    high = _hex_unit(token, body, index)
    if not 0xD800 <= high <= 0xDFFF:
        return chr(high), index + 6
    low = (
        _hex_unit(token, body, index + 6)
        if body[index + 6 : index + 8] == "\\u"
        else -1
    )
    if high > 0xDBFF or not 0xDC00 <= low <= 0xDFFF:
        raise BadToken(
            token,
            "a \\u escape between \\ud800 and \\udfff must be the first half of a "
            "surrogate pair followed by the second, as in \\ud83d\\ude00",
            offset=index + 1,
        )
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)), index + 12


def _hex_unit(token: Token, body: str, index: int) -> int:
    digits = body[index + 2 : index + 6]
    if not _HEX4.fullmatch(digits):
        raise BadToken(
            token, "\\u in a string must be followed by 4 hex digits", offset=index + 1
        )
    return int(digits, 16)


_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f"}
_SHORT_ESCAPES |= {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote_string(value: str) -> str:
    """The canonical literal of a string: double quotes, JSON escapes."""
    return '"' + _NEEDS_ESCAPE.sub(_escaped, value) + '"'


def _escaped(match: re.Match[str]) -> str:
    return _escaped_char(match.group())


def _escaped_char(char: str) -> str:
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def decode_int(token: Token) -> int:
    """A whole number token as an int; BadToken past Python's digit limit."""
    try:
        return int(str(token))
    except ValueError:
        raise BadToken(token, "this number has too many digits") from None
