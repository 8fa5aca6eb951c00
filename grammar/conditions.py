"""Conditions: a step's ``when:`` (plan language 2), parsed at compile time into a
plain-JSON AST the IR stores, evaluated by the decider without ``eval``.

The language (grammar in ``condition.lark``)::

    __input__.mode == "hd" and __input__.height >= 720
    probe.status == "failed" or not ("x" in __input__.tags)
    __input__.sizes[-1] < 3.5 and probe["home-address"] != null

- comparisons ``== != < <= > >=``, membership ``in`` and ``not in``;
- ``and``, ``or``, ``not`` and parentheses; precedence, loosest first:
  ``or``, ``and``, ``not``, comparison, so ``not a == b`` is ``not (a == b)``;
  comparisons do not chain (``a < b < c`` is a syntax error);
- literals: strings in double or single quotes with JSON escapes, JSON numbers
  (``720``, ``-1``, ``3.5``, ``1e3``), ``true``, ``false``, ``null``;
- paths: a name (``__input__`` or a step) followed by ``.key``, ``["key"]``,
  ``['key']``, ``[0]`` or ``[-1]``. Names hold letters, digits and ``_``, not
  ``-``: a Jinja template reads ``step.home-address`` as a subtraction, and a path
  should mean the same in a template and in a condition, so a dashed key is
  written ``step["home-address"]`` in both. A keyword after a dot is a key
  (``__input__.in``); a keyword cannot be the first name of a path.

The AST (``parse_condition``), small enough to read in the IR::

    {"literal": 720}                      str, int, float, bool or None
    {"path": {"name": "__input__", "steps": [{"key": "mode"}, {"index": 0}]}}
    {"op": "not", "args": [a]}
    {"op": "and", "args": [a, b, ...]}    "or" likewise; two or more args, one
                                          per operand of a chain, so (a and b)
                                          and c keeps its parentheses as nesting
    {"op": "==", "args": [left, right]}   likewise "!=", "<", "<=", ">", ">=",
                                          "in", "not in"

Path steps have the selector format (``{"key": ...}``, ``{"index": ...}``).
``format_condition`` writes an AST as canonical text that parses back to it.

Evaluation (``evaluate_condition``) over a context of JSON data by name:

- A path that finds nothing (a missing key, an index out of range, a key of
  something that is not an object) is ``null``. A condition often tests an
  optional input field, and failing a running workflow because a field is
  absent would make every such test need a guard; ``a.b == null`` tests
  absence. Typos are the compiler's job: it checks each path (``references``)
  against the plan. A first name that is not in the context is a
  ``ConditionError``: the compiler guarantees it, so its absence is a bug.
- ``==`` and ``!=`` compare JSON values deeply; values of different types are
  unequal (``1 == true`` is false; ``1 == 1.0`` is true, JSON has one number type).
- ``< <= > >=`` compare two numbers or two strings (by code point); anything
  else (``null < 3``, ``"a" < 1``) raises ``ConditionError`` naming both types.
- ``x in y``: y an array, some item equals x; y a string, x is a substring; y an
  object, x is one of its keys. Anything else raises ``ConditionError``, so for
  an optional array write ``a.tags != null and "x" in a.tags``.
- ``and`` / ``or`` short-circuit; they, ``not`` and the whole condition need
  ``true`` or ``false`` (a bare path must hold a boolean; null is not false).

Only dicts, lists, strings, numbers, booleans and None are ever looked at; no
attribute of a Python object is read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, NamedTuple

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
from cpe.grammar.selectors import a_json_type

Ast = dict[str, Any]
PathStep = dict[str, Any]

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")
KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
# Deeper conditions are refused at parse time so that every recursive walk of
# the AST (here, in the compiler, in json.dumps) stays far from Python's limit.
MAX_DEPTH = 64

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConditionSyntaxError(ExpressionSyntaxError):
    """A condition does not parse; line and column count from 1 inside its text."""


class ConditionError(Exception):
    """A condition cannot be evaluated on its data (a type error, a bad AST)."""


class Reference(NamedTuple):
    """A path a condition reads, and where its first name is in the text."""

    name: str
    steps: list[PathStep]
    line: int
    column: int


# --- parsing ----------------------------------------------------------------


class _Built(NamedTuple):
    """A parsed sub-expression, its depth, and the (line, column) of each path
    in it in source order (so positions never enter the AST or the IR)."""

    ast: Ast
    depth: int
    places: tuple[tuple[int, int], ...]


def _combine(op: str, token: Token, parts: list[_Built]) -> _Built:
    depth = 1 + max(part.depth for part in parts)
    if depth > MAX_DEPTH:
        raise BadToken(token, f"this condition nests more than {MAX_DEPTH} levels deep")
    places = tuple(place for part in parts for place in part.places)
    return _Built({"op": op, "args": [part.ast for part in parts]}, depth, places)


def _literal(value: Any) -> _Built:
    return _Built({"literal": value}, 1, ())


@v_args(inline=True)
class _Tree(Transformer[Token, Any]):
    """Builds the AST while Lark parses (no parse tree is kept)."""

    def start(self, built: _Built) -> _Built:
        return built

    def or_test(self, *children: Any) -> _Built:
        return _combine("or", children[1], list(children[0::2]))

    def and_test(self, *children: Any) -> _Built:
        return _combine("and", children[1], list(children[0::2]))

    def negation(self, token: Token, operand: _Built) -> _Built:
        return _combine("not", token, [operand])

    def compare(self, left: _Built, op: tuple[str, Token], right: _Built) -> _Built:
        return _combine(op[0], op[1], [left, right])

    def comp_op(self, *tokens: Token) -> tuple[str, Token]:
        return " ".join(str(token) for token in tokens), tokens[0]

    def group(self, _open: Token, inner: _Built, _close: Token) -> _Built:
        return inner

    def path(self, name: Token, *steps: PathStep) -> _Built:
        ast = {"path": {"name": str(name), "steps": list(steps)}}
        return _Built(ast, 1, ((name.line or 1, name.column or 1),))

    def key(self, _dot: Token, name: Token) -> PathStep:
        return {"key": str(name)}

    def quoted_key(self, _open: Token, string: Token, _close: Token) -> PathStep:
        return {"key": decode_string(string)}

    def index(self, _open: Token, number: Token, _close: Token) -> PathStep:
        if not re.fullmatch(r"-?[0-9]+", str(number)):
            raise BadToken(number, "an index is a whole number, as in [0] or [-1]")
        return {"index": decode_int(number)}

    def string(self, token: Token) -> _Built:
        return _literal(decode_string(token))

    def number(self, token: Token) -> _Built:
        text = str(token)
        if re.fullmatch(r"-?[0-9]+", text):
            return _literal(decode_int(token))
        value = float(text)
        if not math.isfinite(value):
            raise BadToken(token, "this number is too large")
        return _literal(value)

    def true(self, _token: Token) -> _Built:
        return _literal(True)

    def false(self, _token: Token) -> _Built:
        return _literal(False)

    def null(self, _token: Token) -> _Built:
        return _literal(None)


@cache
def _parser() -> Lark:
    return build_parser("condition.lark", _Tree(), lexer="basic")


def _parse(text: str) -> _Built:
    try:
        built: _Built = _parser().parse(text)  # type: ignore[assignment]
    except (UnexpectedInput, BadToken) as error:
        line, column, message = translate(text, error, lambda f: _explain(f, text))
        raise ConditionSyntaxError(column, message, line) from None
    return built


def parse_condition(text: str) -> Ast:
    """The AST of a condition such as ``__input__.height >= 720``."""
    return _parse(text).ast


def locate_references(text: str) -> list[Reference]:
    """Every path the condition reads, with the line and column of its first
    name, in source order: what a diagnostic about a bad reference points at."""
    built = _parse(text)
    return [
        Reference(name, steps, line, column)
        for (name, steps), (line, column) in zip(
            references(built.ast), built.places, strict=True
        )
    ]


# --- syntax error messages --------------------------------------------------

_COMPARISON_TERMINALS = frozenset({"EQ", "NE", "LT", "LE", "GT", "GE", "IN"})
_VALUE_TERMINALS = frozenset({"NAME", "STRING", "NUMBER", "TRUE", "FALSE", "NULL"})
_KEY_TERMINALS = _VALUE_TERMINALS - {"STRING", "NUMBER"} | {"NOT", "IN", "AND", "OR"}
_PHRASES = {
    "NOT": "'not'",
    "LPAR": "'('",
    "DOT": "'.'",
    "LSQB": "'['",
    "IN": "'in'",
    "AND": "'and'",
    "OR": "'or'",
    "RPAR": "')'",
    "RSQB": "']'",
    "NAME": "a name",
    "STRING": "a string",
    "NUMBER": "a number",
    "TRUE": "'true'",
    "FALSE": "'false'",
    "NULL": "'null'",
    "$END": "the end of the condition",
}
_WRONG_OPERATORS = {
    "=": "'=' is not an operator: write '==' to compare",
    "&": "write 'and' instead of '&&'",
    "|": "write 'or' instead of '||'",
    "!": "write 'not' instead of '!'",
}


def _explain(failure: Failure, text: str) -> str:
    """What was expected where the condition stopped parsing."""
    hint = (
        unterminated_string(failure)
        or _dash_hint(failure, text)
        or _operator_hint(failure)
    )
    if hint:
        return hint
    found = describe_found(failure, "the end of the condition")
    return f"expected {_expected_phrase(failure.expected)}, found {found}"


def _expected_phrase(expected: frozenset[str]) -> str:
    if expected == _KEY_TERMINALS:
        return "a key name after '.'"
    if expected == {"STRING", "NUMBER"}:
        return "a quoted key or an index"
    phrases: list[str] = []
    rest = set(expected)
    if _VALUE_TERMINALS <= rest:
        phrases.append("a value (a path, a string, a number, true, false or null)")
        rest -= _VALUE_TERMINALS
    if _COMPARISON_TERMINALS <= rest:
        phrases.append("a comparison (== != < <= > >= in, not in)")
        rest -= _COMPARISON_TERMINALS | {"NOT"}
    phrases += [phrase for name, phrase in _PHRASES.items() if name in rest]
    return alternatives(phrases)


def _dash_hint(failure: Failure, text: str) -> str | None:
    """`a.b-c`: the lexer stops at '-' (or reads '-1' as a number)."""
    at = failure.offset
    if not (failure.found or "").startswith("-") or at == 0:
        return None
    word = re.search(r"[A-Za-z0-9_]+\Z", text[:at])
    if word is None:
        return None
    rest = re.match(r"[A-Za-z0-9_-]*", text[at:])
    key = word.group() + (rest.group() if rest else "")
    if word.start() > 0 and text[word.start() - 1] == ".":
        return (
            f"a key after '.' cannot contain '-' (it would read as a minus): "
            f"write [{quote_string(key)}] instead of .{key}"
        )
    return (
        "a name cannot contain '-' (it would read as a minus): "
        "names hold letters, digits and '_'"
    )


def _operator_hint(failure: Failure) -> str | None:
    if failure.found_type is None and failure.found in _WRONG_OPERATORS:
        return _WRONG_OPERATORS[failure.found]
    if failure.found == "is" and "EQ" in failure.expected:
        return "write '==' or '!=' instead of 'is'"
    after_comparison = "AND" in failure.expected and not (
        failure.expected & _COMPARISON_TERMINALS
    )
    if failure.found_type in _COMPARISON_TERMINALS and after_comparison:
        return (
            "comparisons do not chain (write a < b and b < c): expected "
            f"{_expected_phrase(failure.expected)}, found '{failure.found}'"
        )
    return None


# --- references -------------------------------------------------------------


def references(ast: Ast) -> list[tuple[str, list[PathStep]]]:
    """Every (name, path steps) the condition reads, in source order, one entry
    per occurrence (copies: changing them leaves the AST alone)."""
    return [
        (node["path"]["name"], [dict(step) for step in node["path"]["steps"]])
        for node in _walk(ast)
        if "path" in node
    ]


def _walk(ast: Ast) -> Iterator[Ast]:
    yield ast
    for arg in ast.get("args", ()):
        yield from _walk(arg)


# --- formatting -------------------------------------------------------------

# Binding strength, loosest first; an operand binding more loosely than its
# place requires is put in parentheses.
_OR, _AND, _NOT, _COMPARISON, _ATOM = 1, 2, 3, 4, 5


def format_condition(ast: Ast) -> str:
    """The canonical text of an AST; parse_condition gives the same AST back."""
    return _format(ast, 0)


def _format(ast: Ast, strength: int) -> str:
    text, binds = _format_node(ast)
    return f"({text})" if binds < strength else text


def _format_node(ast: Ast) -> tuple[str, int]:
    if "literal" in ast:
        return _format_literal(ast["literal"]), _ATOM
    if "path" in ast:
        return _format_path(ast["path"]), _ATOM
    op, args = ast.get("op"), ast.get("args")
    if op in ("or", "and") and isinstance(args, list) and len(args) >= 2:
        binds = _OR if op == "or" else _AND
        # Same-operator operands get parentheses: unbracketed, they would
        # parse back as one flat chain.
        return f" {op} ".join(_format(arg, binds + 1) for arg in args), binds
    if op == "not" and isinstance(args, list) and len(args) == 1:
        return f"not {_format(args[0], _NOT)}", _NOT
    if op in COMPARISONS and isinstance(args, list) and len(args) == 2:
        left, right = (_format(arg, _ATOM) for arg in args)
        return f"{left} {op} {right}", _COMPARISON
    raise ValueError(f"not a condition AST node: {ast!r}")


def _format_literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)  # always has '.' or 'e', so it reads back as a float
    if isinstance(value, str):
        return quote_string(value)
    raise ValueError(f"not a condition literal: {value!r}")


def _format_path(path: Mapping[str, Any]) -> str:
    name = str(path["name"])
    if not _NAME.fullmatch(name) or name in KEYWORDS:
        raise ValueError(f"a path cannot start with the name {name!r}")
    return name + "".join(_format_step(step) for step in path["steps"])


def _format_step(step: PathStep) -> str:
    if "key" in step:
        key = str(step["key"])
        return f".{key}" if _NAME.fullmatch(key) else f"[{quote_string(key)}]"
    if "index" in step and isinstance(step["index"], int):
        return f"[{step['index']}]"
    raise ValueError(f"not a path step: {step!r}")


# --- evaluation -------------------------------------------------------------


def evaluate_condition(ast: Ast, context: Mapping[str, Any]) -> bool:
    """Whether the condition holds; context maps each name to its JSON data.
    Raises ConditionError on a type error or an unknown name."""
    return _boolean(ast, context, "a condition must be true or false")


def _value(ast: Ast, context: Mapping[str, Any]) -> Any:
    if "literal" in ast:
        return ast["literal"]
    if "path" in ast:
        return _resolve(ast["path"], context)
    op, args = ast.get("op"), ast.get("args") or []
    if op == "and":
        return all(_boolean(arg, context, "'and' needs true or false") for arg in args)
    if op == "or":
        return any(_boolean(arg, context, "'or' needs true or false") for arg in args)
    if op == "not" and len(args) == 1:
        return not _boolean(args[0], context, "'not' needs true or false")
    if op in COMPARISONS and len(args) == 2:
        left, right = (_value(arg, context) for arg in args)
        return _compare(op, left, right, args)
    raise ConditionError(f"not a condition AST node: {ast!r}")


def _boolean(ast: Ast, context: Mapping[str, Any], need: str) -> bool:
    value = _value(ast, context)
    if not isinstance(value, bool):
        raise ConditionError(f"{need}, but {_shown(ast)} is {_type(value)}")
    return value


def _resolve(path: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
    name = path["name"]
    if name not in context:
        known = ", ".join(sorted(context)) or "nothing"
        raise ConditionError(
            f"the condition reads '{name}', but only {known} can be read"
        )
    value = context[name]
    for step in path["steps"]:
        value = _step(value, step)
        if value is _NOTHING:
            return None  # see the module docstring: a miss is null
    return value


_NOTHING = object()


def _step(value: Any, step: PathStep) -> Any:
    if "key" in step:
        return value.get(step["key"], _NOTHING) if isinstance(value, dict) else _NOTHING
    index = step.get("index")
    if not isinstance(index, int):
        raise ConditionError(f"not a path step: {step!r}")
    if isinstance(value, list) and -len(value) <= index < len(value):
        return value[index]
    return _NOTHING


def _compare(op: str, left: Any, right: Any, args: list[Ast]) -> bool:
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op == "in":
        return _contains(right, left, args)
    if op == "not in":
        return not _contains(right, left, args)
    kinds = _type(left), _type(right)
    if kinds not in (("a number", "a number"), ("a string", "a string")):
        raise ConditionError(
            f"'{op}' needs two numbers or two strings, but "
            f"{_shown(args[0])} is {kinds[0]} and {_shown(args[1])} is {kinds[1]}"
        )
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _equal(left: Any, right: Any) -> bool:
    """JSON equality: unlike Python's, true is not 1 and the types must match."""
    kind = _type(left)
    if kind != _type(right):
        return False
    if kind == "an array":
        return len(left) == len(right) and all(map(_equal, left, right))
    if kind == "an object":
        return left.keys() == right.keys() and all(
            _equal(left[k], right[k]) for k in left
        )
    return bool(left == right)


def _contains(container: Any, item: Any, args: list[Ast]) -> bool:
    kind = _type(container)
    if kind == "an array":
        return any(_equal(item, member) for member in container)
    if kind not in ("a string", "an object"):
        raise ConditionError(
            "'in' needs an array, a string or an object on its right, "
            f"but {_shown(args[1])} is {kind}"
        )
    if not isinstance(item, str):
        wanted = "a substring" if kind == "a string" else "a key"
        raise ConditionError(
            f"'in' looks for {wanted} (a string) in {_shown(args[1])}, "
            f"but {_shown(args[0])} is {_type(item)}"
        )
    return item in container


def _type(value: Any) -> str:
    """The JSON type of a value; ConditionError for data that is not JSON."""
    kind = a_json_type(value)
    if kind.startswith("a Python"):
        raise ConditionError(f"the condition met {kind}")
    return kind


def _shown(ast: Ast) -> str:
    """An operand as the user wrote it (canonically), for messages."""
    try:
        text = format_condition(ast)
    except ValueError:
        text = repr(ast)
    return text if len(text) <= 60 else text[:57] + "..."
