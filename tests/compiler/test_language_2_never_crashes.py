"""Plans of language 2 built from random pieces, right and wrong: the compiler
gives diagnostics or IR, never a traceback, and the IR it gives is IR the
runtime accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpe.compiler import check_text
from cpe.runtime.ir import check_ir
from tests.compiler.test_never_crashes import assert_well_formed

ROOT = Path(__file__).parents[2]
SEED = (ROOT / "tests" / "fixtures" / "plans" / "language2.yml").read_text()
NAMES = ["probe", "square", "pause", "approval", "n", "__input__", "a[1]", "x#2"]

numbers = st.one_of(
    st.integers(-2, 5),
    st.integers(10**8 - 2, 10**8 + 2),
    st.floats(allow_nan=False, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.sampled_from(["3", "x", "", "NONE"]),
)
paths = st.one_of(
    st.sampled_from(
        [
            "probe.numbers",
            "probe.value",
            "probe.nope",
            "__input__.numbers",
            "__input__.files[0]",
            "__input__",
            "square",
            "probe.numbers ==",
            "1",
            "not probe",
        ]
    ),
    st.text(max_size=12),
)
templates = st.one_of(
    st.sampled_from(
        [
            '{"value": {{ n }}, "numbers": []}',
            '{"value": {{ n.a[0] }}, "numbers": {{ probe.numbers }}}',
            '{"value": {{ item }}}',
            "{{ n ",
            '{"value": {{ square.value }}, "numbers": {{ __input__.numbers }}}',
            '{"a": {{ approval }} "b": 1}',
            "{% for x in n %}{{ x }}{% endfor %}",
        ]
    ),
    st.text(max_size=20),
)
retries = st.one_of(
    st.none(),
    numbers,
    st.fixed_dictionaries(
        {},
        optional={
            "max_attempts": numbers,
            "interval": numbers,
            "backoff_rate": numbers,
            "max_interval": numbers,
            "jitter": st.one_of(st.booleans(), numbers),
            "outcomes": st.lists(
                st.sampled_from(["failed", "timed_out", "faild", "x"]), max_size=3
            ),
            "other": numbers,
        },
    ),
)
signals = st.one_of(
    st.sampled_from([*NAMES, "approve", "a:b", ""]),
    st.fixed_dictionaries(
        {}, optional={"name": st.sampled_from(["approve", "a/b"]), "timeout": numbers}
    ),
    numbers,
)
requirements = st.lists(
    st.one_of(
        st.sampled_from(NAMES),
        st.tuples(
            st.sampled_from(NAMES),
            st.sampled_from(["succeeded", "failed", "skipped", "completed", "x"]),
        ).map(list),
    ),
    max_size=3,
)


@st.composite
def steps(draw: st.DrawFn, name: str) -> dict[str, Any]:
    step: dict[str, Any] = {"name": name}
    kinds = draw(st.sets(st.sampled_from(["activity", "wait", "signal"]), max_size=2))
    if "activity" in kinds or (not kinds and draw(st.booleans())):
        step["activity"] = draw(st.sampled_from(["Echo", "Missing"]))
    if "wait" in kinds:
        step["wait"] = draw(numbers)
    if "signal" in kinds:
        step["signal"] = draw(signals)
    optional = {
        "requires": requirements,
        "retry": retries,
        "for_each": paths,
        "as": st.sampled_from([*NAMES, "item", "1x", "if", "loop"]),
        "max_concurrency": numbers,
        "tolerated_failures": numbers,
        "input": templates,
        "when": st.sampled_from(['probe.status == "succeeded"', "n == 1", "true"]),
    }
    for key in draw(st.sets(st.sampled_from(sorted(optional)), max_size=5)):
        step[key] = draw(optional[key])
    return step


@st.composite
def plans(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5))
    plan: dict[str, Any] = {
        "name": "Fuzz",
        "version": "1",
        "language": draw(st.sampled_from([2, 2, 2, 1])),
        "input_spec": {
            "type": "object",
            "properties": {"numbers": {"type": "array", "items": {"type": "integer"}}},
        },
        "activities": [
            {
                "name": "Echo",
                "version": "1",
                "outputs_spec": {"numbers": "$.numbers", "value": "$.value"},
            }
        ],
        "steps": [draw(steps(name)) for name in names],
    }
    if draw(st.booleans()):
        plan["output"] = draw(templates)
    return yaml.safe_dump(plan, sort_keys=False)


def _compiles_or_reports(text: str) -> None:
    assert_well_formed(text)
    ir, _ = check_text(text, "fuzz.yml")
    if ir is not None:
        # What the compiler writes, the runtime reads back as valid IR.
        check_ir(json.loads(json.dumps(ir)))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_language_2_plans_compile_or_give_diagnostics(text: str) -> None:
    _compiles_or_reports(text)


@st.composite
def mutated_seed(draw: st.DrawFn) -> str:
    text = SEED
    words = [
        "retry",
        "for_each",
        "as",
        "wait",
        "signal",
        "output",
        "max_concurrency",
        "tolerated_failures",
        "timeout",
        "{{ n }}",
        "-1",
        "0",
        "[",
        "#",
        ":",
        "\n",
    ]
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        end = at + draw(st.integers(0, 8))
        text = text[:at] + draw(st.sampled_from(words)) + text[end:]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_seed())
def test_the_mutated_fixture_compiles_or_gives_diagnostics(text: str) -> None:
    _compiles_or_reports(text)


@st.composite
def valid_plans(draw: st.DrawFn) -> str:
    """Plans right by construction, mixing every feature: they must compile."""
    count = draw(st.integers(1, 6))
    built: list[dict[str, Any]] = []
    echo_steps: list[str] = []
    for index in range(count):
        name = f"s{index}"
        earlier = [step["name"] for step in built]
        required = draw(st.sets(st.sampled_from(earlier))) if earlier else set()
        step: dict[str, Any] = {"name": name}
        kind = draw(st.sampled_from(["activity", "activity", "wait", "signal"]))
        if kind == "wait":
            step["wait"] = draw(st.integers(0, 10**8 - 1))
        elif kind == "signal":
            step["signal"] = draw(
                st.sampled_from(["go", {"name": "go", "timeout": 60}, {"name": "x"}])
            )
        else:
            step["activity"] = "Echo"
            if draw(st.booleans()):
                step["retry"] = draw(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "max_attempts": st.integers(1, 10),
                            "interval": st.integers(0, 100),
                            "backoff_rate": st.floats(1, 10),
                            "max_interval": st.integers(100, 10**8 - 1),
                            "jitter": st.booleans(),
                            "outcomes": st.sampled_from(
                                [["failed"], ["timed_out"], ["failed", "timed_out"]]
                            ),
                        },
                    )
                )
            if draw(st.booleans()):
                source = draw(st.sampled_from(["__input__", *echo_steps]))
                if source != "__input__":
                    required.add(source)
                step["for_each"] = f"{source}.numbers"
                step["as"] = "item"
                if draw(st.booleans()):
                    step["max_concurrency"] = draw(st.integers(1, 1000))
                step["tolerated_failures"] = draw(st.integers(0, 5))
                step["input"] = '{"value": {{ item }}, "numbers": []}'
            else:
                step["input"] = '{"value": 1, "numbers": []}'
            echo_steps.append(name)
        if required:
            step["requires"] = sorted(required)
        built.append(step)
    plan: dict[str, Any] = {
        "name": "Valid",
        "version": "1",
        "language": 2,
        "input_spec": {
            "type": "object",
            "properties": {"numbers": {"type": "array", "items": {"type": "integer"}}},
        },
        "activities": [
            {
                "name": "Echo",
                "version": "1",
                "outputs_spec": {"numbers": "$.numbers", "value": "$.value"},
            }
        ],
        "steps": built,
    }
    if echo_steps and draw(st.booleans()):
        source = draw(st.sampled_from(echo_steps))
        plan["output"] = '{"v": {{ ' + source + ".value }}}"
    return yaml.safe_dump(plan, sort_keys=False)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_plans())
def test_right_language_2_plans_compile_to_ir_the_runtime_accepts(text: str) -> None:
    ir, diagnostics = check_text(text, "valid.yml")
    assert ir is not None, [d.render() for d in diagnostics]
    check_ir(json.loads(json.dumps(ir)))
