"""Conditions: the AST of each construct, errors, canonical text, evaluation."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cpe.grammar.conditions import (
    KEYWORDS,
    MAX_DEPTH,
    ConditionError,
    ConditionSyntaxError,
    Reference,
    evaluate_condition,
    format_condition,
    locate_references,
    parse_condition,
    references,
)


def path(name: str, *steps: str | int) -> dict[str, Any]:
    parts = [{"key": s} if isinstance(s, str) else {"index": s} for s in steps]
    return {"path": {"name": name, "steps": parts}}


def lit(value: Any) -> dict[str, Any]:
    return {"literal": value}


def op(name: str, *args: dict[str, Any]) -> dict[str, Any]:
    return {"op": name, "args": list(args)}


def same(left: Any, right: Any) -> bool:
    """Equality that tells true from 1 and 1.0 from 1, as JSON does."""
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


# --- every construct --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ast"),
    [
        (
            '__input__.mode == "hd" and __input__.height >= 720',
            op(
                "and",
                op("==", path("__input__", "mode"), lit("hd")),
                op(">=", path("__input__", "height"), lit(720)),
            ),
        ),
        ('probe.status == "failed"', op("==", path("probe", "status"), lit("failed"))),
        ('"x" in __input__.tags', op("in", lit("x"), path("__input__", "tags"))),
        (
            '"x" not in __input__.tags',
            op("not in", lit("x"), path("__input__", "tags")),
        ),
        (
            "not (a.b < 3 or a.c != null)",
            op(
                "not",
                op(
                    "or",
                    op("<", path("a", "b"), lit(3)),
                    op("!=", path("a", "c"), lit(None)),
                ),
            ),
        ),
        ("a.b <= -2.5", op("<=", path("a", "b"), lit(-2.5))),
        ("a.b > 1e3", op(">", path("a", "b"), lit(1000.0))),
        ("a.b > -0", op(">", path("a", "b"), lit(0))),
        ("true", lit(True)),
        ("false", lit(False)),
        ("null == null", op("==", lit(None), lit(None))),
        (
            "'single \\' quoted' == \"d\\\"q\"",
            op("==", lit("single ' quoted"), lit('d"q')),
        ),
        ('"\\n\\t\\\\\\/\\u00e9" == a', op("==", lit("\n\t\\/é"), path("a"))),
        (
            "a[\"home-address\"] == a['x y']",
            op("==", path("a", "home-address"), path("a", "x y")),
        ),
        ("a[0][-1].b", path("a", 0, -1, "b")),
        ("a.in and a.not.true", op("and", path("a", "in"), path("a", "not", "true"))),
        ("android or nothing", op("or", path("android"), path("nothing"))),
        ("a and b and c", op("and", path("a"), path("b"), path("c"))),
        ("(a and b) and c", op("and", op("and", path("a"), path("b")), path("c"))),
        ("a or b and c", op("or", path("a"), op("and", path("b"), path("c")))),
        ("(a or b) and c", op("and", op("or", path("a"), path("b")), path("c"))),
        ("not a and b", op("and", op("not", path("a")), path("b"))),
        ("not a == b", op("not", op("==", path("a"), path("b")))),
        ("not not a", op("not", op("not", path("a")))),
        ("(a == b) == c", op("==", op("==", path("a"), path("b")), path("c"))),
        ("((a))", path("a")),
        ("a\n  and\tb", op("and", path("a"), path("b"))),
    ],
)
def test_every_construct_parses_to_its_ast(text: str, ast: dict[str, Any]) -> None:
    parsed = parse_condition(text)
    assert same(parsed, ast)
    assert same(parse_condition(format_condition(parsed)), ast)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a.b==1", "a.b == 1"),
        ("a['b']", "a.b"),
        ("a['b-c']", 'a["b-c"]'),
        ("'x'", '"x"'),
        ("( a ) and ( b or c )", "a and (b or c)"),
        ("not(a)", "not a"),
        ("not (a == b)", "not a == b"),
        ("1.50", "1.5"),
        ("1E2", "100.0"),
    ],
)
def test_canonical_text(text: str, canonical: str) -> None:
    assert format_condition(parse_condition(text)) == canonical


def test_the_ast_is_plain_json() -> None:
    ast = parse_condition('not (a[0]["x"] in b.c or 1.5 >= -2) and true != null')
    assert same(json.loads(json.dumps(ast)), ast)


# --- syntax errors ----------------------------------------------------------

VALUE = "a value (a path, a string, a number, true, false or null)"


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        (
            '__input__.mode = "hd"',
            1,
            16,
            "'=' is not an operator: write '==' to compare",
        ),
        ("a ==", 1, 5, f"expected {VALUE} or '(', found the end of the condition"),
        ("", 1, 1, f"expected {VALUE}, 'not' or '(', found the end of the condition"),
        (")", 1, 1, f"expected {VALUE}, 'not' or '(', found ')'"),
        (
            "a < b < c",
            1,
            7,
            "comparisons do not chain (write a < b and b < c): "
            "expected 'and', 'or' or the end of the condition, found '<'",
        ),
        ("(a == 1", 1, 8, "expected ')', found the end of the condition"),
        (
            "a b",
            1,
            3,
            "expected a comparison (== != < <= > >= in, not in), '.', '[', 'and', "
            "'or' or the end of the condition, found 'b'",
        ),
        (
            "a.b-c == 1",
            1,
            4,
            "a key after '.' cannot contain '-' (it would read as a minus): "
            'write ["b-c"] instead of .b-c',
        ),
        (
            "__input__.home-address-2 == 1",
            1,
            15,
            "a key after '.' cannot contain '-' (it would read as a minus): "
            'write ["home-address-2"] instead of .home-address-2',
        ),
        (
            "my-step.status",
            1,
            3,
            "a name cannot contain '-' (it would read as a minus): "
            "names hold letters, digits and '_'",
        ),
        ("a && b", 1, 3, "write 'and' instead of '&&'"),
        ("a || b", 1, 3, "write 'or' instead of '||'"),
        ("!a", 1, 1, "write 'not' instead of '!'"),
        ("a is null", 1, 3, "write '==' or '!=' instead of 'is'"),
        ('a == "abc', 1, 6, 'the string that starts here has no closing " on its line'),
        ("a[1.5]", 1, 3, "an index is a whole number, as in [0] or [-1]"),
        ("a.", 1, 3, "expected a key name after '.', found the end of the condition"),
        (
            "a[",
            1,
            3,
            "expected a quoted key or an index, found the end of the condition",
        ),
        ("a == not b", 1, 6, f"expected {VALUE} or '(', found 'not'"),
        ("in == 1", 1, 1, f"expected {VALUE}, 'not' or '(', found 'in'"),
        ("x not y", 1, 7, "expected 'in', found 'y'"),
        ("1e999 == 1", 1, 1, "this number is too large"),
        ("a == " + "1" * 5000, 1, 6, "this number has too many digits"),
        ("a ==\n  and b", 2, 3, f"expected {VALUE} or '(', found 'and'"),
        (
            "a and\n b ==",
            2,
            6,
            f"expected {VALUE} or '(', found the end of the condition",
        ),
        (
            "a == 'x\\y'",
            1,
            8,
            "unknown escape \\y in a string; the escapes are "
            "\\\" \\' \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX",
        ),
    ],
)
def test_syntax_errors_give_line_column_and_message(
    text: str, line: int, column: int, message: str
) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition(text)
    error = caught.value
    assert (error.line, error.column, error.message) == (line, column, message)


def test_too_deep_a_condition_is_a_syntax_error() -> None:
    parse_condition("not " * (MAX_DEPTH - 1) + "a")
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition("not " * MAX_DEPTH + "a")
    assert (
        caught.value.message
        == f"this condition nests more than {MAX_DEPTH} levels deep"
    )
    assert caught.value.column == 1


def test_parentheses_alone_do_not_nest_the_ast() -> None:
    assert parse_condition("(" * 5000 + "a" + ")" * 5000) == path("a")


# --- references -------------------------------------------------------------


def test_references_list_every_path_in_source_order() -> None:
    ast = parse_condition(
        '__input__.mode == "hd" and (probe.status == "x" or __input__.a[0])'
    )
    assert references(ast) == [
        ("__input__", [{"key": "mode"}]),
        ("probe", [{"key": "status"}]),
        ("__input__", [{"key": "a"}, {"index": 0}]),
    ]
    references(ast)[0][1].append({"key": "changed"})
    assert references(ast)[0][1] == [{"key": "mode"}]
    assert references(parse_condition("1 == 1")) == []


def test_locate_references_gives_where_each_path_starts() -> None:
    assert locate_references('a.b == 1 and\n  c["x"] in a') == [
        Reference("a", [{"key": "b"}], 1, 1),
        Reference("c", [{"key": "x"}], 2, 3),
        Reference("a", [], 2, 13),
    ]


# --- evaluation -------------------------------------------------------------

CONTEXT: dict[str, Any] = {
    "__input__": {
        "mode": "hd",
        "height": 1080,
        "ratio": 1.5,
        "tags": ["x", "y", 3, None, [1]],
        "meta": {"k": 1, "nested": {"n": True}},
        "flag": True,
        "title": "The Title",
        "nothing": None,
    },
    "probe": {"status": "failed", "size": 0},
}


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ('__input__.mode == "hd" and __input__.height >= 720', True),
        ('probe.status == "failed"', True),
        ('probe.status != "failed"', False),
        ('"x" in __input__.tags', True),
        ("3 in __input__.tags", True),
        ("3.0 in __input__.tags", True),
        ("null in __input__.tags", True),
        ("true in __input__.tags", False),
        ('"z" not in __input__.tags', True),
        ('"Title" in __input__.title', True),
        ('"title" in __input__.title', False),
        ('"k" in __input__.meta', True),
        ('"n" in __input__.meta', False),
        ("__input__.meta.nested.n", True),
        ("__input__.flag", True),
        ("not __input__.flag", False),
        ("__input__.missing == null", True),
        ("__input__.nothing == null", True),
        ("__input__.mode.deeper == null", True),
        ("__input__.tags[99] == null", True),
        ("__input__.tags[-1][0] == 1", True),
        ('__input__.tags[-5] == "x"', True),
        ("__input__.meta[0] == null", True),
        ('__input__["mode"] == "hd"', True),
        ("__input__.height == 1080.0", True),
        ("probe.size == false", False),
        ("1 == true", False),
        ("0 != false", True),
        ("__input__.ratio < 2", True),
        ("__input__.ratio <= 1.5 and __input__.ratio >= 1.5", True),
        ("__input__.height > 1080", False),
        ('"abc" < "abd"', True),
        ('"B" < "a"', True),
        ("__input__.meta == __input__.meta", True),
        ("__input__.tags != __input__.meta", True),
        ("not (__input__.height < 3 or __input__.mode != null)", False),
        ("true or false and false", True),
        ("(true or false) and false", False),
        ("not false and false", False),
        ("not (false and false)", True),
    ],
)
def test_evaluation(text: str, result: bool) -> None:
    assert evaluate_condition(parse_condition(text), CONTEXT) is result


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "__input__.missing >= 3",
            "'>=' needs two numbers or two strings, but __input__.missing is null "
            "and 3 is a number",
        ),
        (
            "__input__.mode < 3",
            "'<' needs two numbers or two strings, but __input__.mode is a string "
            "and 3 is a number",
        ),
        (
            "true > false",
            "'>' needs two numbers or two strings, but true is a boolean and false is a boolean",
        ),
        (
            "__input__.tags <= __input__.tags",
            "'<=' needs two numbers or two strings, but __input__.tags is an array "
            "and __input__.tags is an array",
        ),
        (
            '"a" in __input__.missing',
            "'in' needs an array, a string or an object on its right, "
            "but __input__.missing is null",
        ),
        (
            "1 in __input__.meta",
            "'in' looks for a key (a string) in __input__.meta, but 1 is a number",
        ),
        (
            "null not in __input__.title",
            "'in' looks for a substring (a string) in __input__.title, but null is null",
        ),
        (
            "__input__.mode",
            "a condition must be true or false, but __input__.mode is a string",
        ),
        (
            "__input__.missing",
            "a condition must be true or false, but __input__.missing is null",
        ),
        ("1", "a condition must be true or false, but 1 is a number"),
        (
            "not __input__.meta",
            "'not' needs true or false, but __input__.meta is an object",
        ),
        ("__input__.flag and 1", "'and' needs true or false, but 1 is a number"),
        ('false or "x"', "'or' needs true or false, but \"x\" is a string"),
        (
            "nobody.status == 1",
            "the condition reads 'nobody', but only __input__, probe can be read",
        ),
    ],
)
def test_evaluation_errors(text: str, message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        evaluate_condition(parse_condition(text), CONTEXT)
    assert str(caught.value) == message


def test_and_or_short_circuit() -> None:
    # The right side would raise (a string is not a boolean, an unknown name).
    assert evaluate_condition(parse_condition("false and nobody.x"), {}) is False
    assert evaluate_condition(parse_condition("true or nobody.x"), {}) is True
    guarded = '__input__.tags != null and "x" in __input__.tags'
    assert evaluate_condition(parse_condition(guarded), {"__input__": {}}) is False


def test_python_objects_are_never_looked_into() -> None:
    class Sneaky:
        status = "succeeded"

    ast = parse_condition('step.status == "succeeded"')
    assert evaluate_condition(ast, {"step": Sneaky()}) is False  # finds nothing
    with pytest.raises(ConditionError, match="a Python Sneaky"):
        evaluate_condition(parse_condition("step == 1"), {"step": Sneaky()})
    with pytest.raises(ConditionError, match="a Python tuple"):
        evaluate_condition(parse_condition("1 in step"), {"step": (1, 2)})


def test_a_bad_ast_is_a_condition_error() -> None:
    with pytest.raises(ConditionError, match="not a condition AST node"):
        evaluate_condition({"op": "xor", "args": []}, {})
    with pytest.raises(ValueError, match="not a condition AST node"):
        format_condition({"op": "and", "args": [lit(True)]})
    with pytest.raises(ValueError, match="cannot start with the name"):
        format_condition(path("in"))


# --- properties -------------------------------------------------------------

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda name: name not in KEYWORDS
)
steps = st.lists(
    st.one_of(
        st.one_of(names, st.sampled_from(sorted(KEYWORDS)), st.text(max_size=6)).map(
            lambda key: {"key": key}
        ),
        st.integers(-(10**20), 10**20).map(lambda index: {"index": index}),
    ),
    max_size=3,
)
literals = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
).map(lit)
paths = st.builds(
    lambda name, parts: {"path": {"name": name, "steps": parts}}, names, steps
)
comparison_ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"])


def compound(
    children: st.SearchStrategy[dict[str, Any]],
) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        children.map(lambda child: op("not", child)),
        st.builds(
            lambda name, args: {"op": name, "args": args},
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=2, max_size=4),
        ),
        st.builds(
            lambda name, a, b: op(name, a, b), comparison_ops, children, children
        ),
    )


asts = st.recursive(st.one_of(literals, paths), compound, max_leaves=12)


@given(asts)
def test_format_then_parse_gives_the_ast_back(ast: dict[str, Any]) -> None:
    text = format_condition(ast)
    assert same(parse_condition(text), ast)
    assert format_condition(parse_condition(text)) == text


@given(asts)
def test_references_follow_the_ast(ast: dict[str, Any]) -> None:
    found = [(ref.name, ref.steps) for ref in locate_references(format_condition(ast))]
    assert found == references(ast)


boolean_asts = st.recursive(
    st.booleans().map(lit),
    lambda children: st.one_of(
        children.map(lambda child: op("not", child)),
        st.builds(
            lambda name, args: {"op": name, "args": args},
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=2, max_size=3),
        ),
        st.builds(
            lambda name, a, b: op(name, a, b),
            st.sampled_from(["==", "!="]),
            children,
            children,
        ),
    ),
    max_leaves=10,
)


def reference_value(ast: dict[str, Any]) -> bool:
    """Plain Python meaning of a boolean-only AST, to check precedence against."""
    if "literal" in ast:
        return bool(ast["literal"])
    values = [reference_value(arg) for arg in ast["args"]]
    return {
        "not": lambda: not values[0],
        "and": lambda: all(values),
        "or": lambda: any(values),
        "==": lambda: values[0] == values[1],
        "!=": lambda: values[0] != values[1],
    }[ast["op"]]()


@given(boolean_asts)
def test_the_text_means_what_the_ast_means(ast: dict[str, Any]) -> None:
    reparsed = parse_condition(format_condition(ast))
    assert evaluate_condition(reparsed, {}) is reference_value(ast)


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 5),
        st.floats(-5, 5),
        st.text(max_size=3),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=3), children, max_size=3),
    ),
    max_leaves=8,
)


@given(asts, st.data())
def test_evaluation_gives_a_boolean_or_a_condition_error(
    ast: dict[str, Any], data: st.DataObject
) -> None:
    context = {name: data.draw(json_values) for name, _ in references(ast)}
    try:
        result = evaluate_condition(ast, context)
    except ConditionError:
        return
    assert isinstance(result, bool)


@given(json_values)
def test_every_json_value_equals_itself(value: Any) -> None:
    floats_ok = not (isinstance(value, float) and math.isnan(value))
    context = {"v": value}
    assert evaluate_condition(parse_condition("v == v"), context) is floats_ok


condition_alphabet = st.sampled_from(
    [*"ab_.[]()\"'\\-=!<>&| \t\n01.eE", "and", "or", "not", "in", "true", "null", "ü"]
)


@given(st.one_of(st.text(), st.lists(condition_alphabet, max_size=30).map("".join)))
def test_any_text_parses_or_raises_a_syntax_error(text: str) -> None:
    try:
        ast = parse_condition(text)
    except ConditionSyntaxError as error:
        lines = text.split("\n")
        assert 1 <= error.line <= len(lines)
        assert 1 <= error.column <= len(lines[error.line - 1]) + 1
        assert error.message
    else:
        assert same(parse_condition(format_condition(ast)), ast)
