"""The compiler never crashes: any text gives diagnostics or an IR, never a traceback."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpe.compiler import check_text

ROOT = Path(__file__).parents[2]
SEEDS = [
    (ROOT / "tests" / "compat" / "ct_plan.yml").read_text(),
    (ROOT / "plans" / "transcode" / "plan.yml").read_text(),
    (ROOT / "tests" / "fixtures" / "plans" / "diamond.yml").read_text(),
]
PLAN_WORDS = [
    "name",
    "version",
    "steps",
    "activities",
    "requires",
    "input",
    "activity",
    "outputs_spec",
    "input_spec",
    "succeeded",
    "failed",
    "{{",
    "}}",
    "{%",
    "%}",
    "__input__",
    "$",
    "$.a",
    "-",
    ":",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "\n",
    "  ",
    "&a",
    "*a",
    "<<",
    "!!python/object",
    "~",
    "1.10",
    "NONE",
    "\t",
]


def assert_well_formed(text: str) -> None:
    ir, diagnostics = check_text(text, "fuzz.yml")
    lines = max(len(text.splitlines()), 1)
    for diagnostic in diagnostics:
        assert 1 <= diagnostic.position.line <= lines + 1, diagnostic.render()
        assert diagnostic.position.column >= 1
        assert diagnostic.message
        diagnostic.render()
        diagnostic.render_github()
    if ir is None:
        assert any(d.severity.value == "error" for d in diagnostics)


@st.composite
def mutated_plans(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "duplicate-line", "replace"]))
        if kind == "insert":
            text = (
                text[:at]
                + draw(st.sampled_from(PLAN_WORDS) | st.text(max_size=5))
                + text[at:]
            )
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 30)) :]
        elif kind == "duplicate-line":
            lines = text.splitlines(keepends=True)
            if lines:
                index = draw(st.integers(0, len(lines) - 1))
                lines.insert(index, lines[index])
                text = "".join(lines)
        else:
            end = at + draw(st.integers(1, 10))
            text = text[:at] + draw(st.sampled_from(PLAN_WORDS)) + text[end:]
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_plans())
def test_mutated_plans_give_diagnostics_not_crashes(text: str) -> None:
    assert_well_formed(text)


yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(PLAN_WORDS),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(PLAN_WORDS) | st.text(max_size=6), inner, max_size=5
        )
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(yaml_values)
def test_any_yaml_data_gives_diagnostics_not_crashes(data: object) -> None:
    assert_well_formed(yaml.safe_dump(data))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_diagnostics_not_crashes(text: str) -> None:
    assert_well_formed(text)
