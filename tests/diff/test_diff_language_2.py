"""`cpec diff` on the keys of plan language 2: retry, fan-out, wait, signal
and the workflow output, each with its sentence and breaking mark."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings

from cpe.compiler import compile_text
from cpe.compiler.diff import PlanDiff, diff_ir
from tests.compiler.test_language_2_never_crashes import valid_plans
from tests.diff.plans import Plan, base_plan, compile_plan, step, summary

Expected = list[tuple[str, str, bool | None]]


def language_2() -> Plan:
    plan = base_plan()
    plan["language"] = 2
    plan["activities"][0]["outputs_spec"]["files"] = "$.files"
    step(plan, "probe")["retry"] = {"max_attempts": 3}
    step(plan, "thumb").update(
        {
            "for_each": "probe.files",
            "as": "file",
            "max_concurrency": 2,
            "input": '{"meta": {{ file }}}',
        }
    )
    plan["steps"].insert(2, {"name": "pause", "requires": ["probe"], "wait": 30})
    plan["steps"].insert(3, {"name": "approval", "requires": ["pause"], "signal": "ok"})
    plan["output"] = '{"size": {{ probe.size }}}'
    return plan


def diff_of(edit: Callable[[Plan], None]) -> Expected:
    new = language_2()
    edit(new)
    return summary(diff_ir(compile_plan(language_2()), compile_plan(new)))


def _set(name: str, key: str, value: object) -> Callable[[Plan], None]:
    return lambda plan: step(plan, name).update({key: value})


def _drop(name: str, key: str) -> Callable[[Plan], None]:
    return lambda plan: step(plan, name).pop(key)


def _output(plan: Plan) -> None:
    plan["output"] = '{"s": {{ probe.size }}}'


def _no_output(plan: Plan) -> None:
    del plan["output"]


def _no_fan_out(plan: Plan) -> None:
    thumb = step(plan, "thumb")
    for key in ("for_each", "as", "max_concurrency"):
        del thumb[key]
    thumb["input"] = '{"meta": {{ probe.meta }}}'


def _wait_to_signal(plan: Plan) -> None:
    pause = step(plan, "pause")
    del pause["wait"]
    pause["signal"] = "go"


CASES: dict[str, tuple[Callable[[Plan], None], Expected]] = {
    "retry values": (
        _set("probe", "retry", {"max_attempts": 5, "interval": 10}),
        [
            (
                "retry-changed",
                "step probe's retry: interval 1 → 10, max_attempts 3 → 5",
                False,
            )
        ],
    ),
    "retry removed": (
        _drop("probe", "retry"),
        [
            (
                "retry-changed",
                "step probe no longer retries (it made up to 3 attempts)",
                None,
            )
        ],
    ),
    "retry added": (
        _set("encode", "retry", {"max_attempts": 2}),
        [("retry-changed", "step encode now retries: up to 2 attempts", False)],
    ),
    "fan-out cap": (
        _set("thumb", "max_concurrency", 8),
        [("fan-out-changed", "step thumb's for_each.max_concurrency 2 → 8", False)],
    ),
    "fan-out tolerance raised": (
        _set("thumb", "tolerated_failures", 3),
        [("fan-out-changed", "step thumb's for_each.tolerated_failures 0 → 3", False)],
    ),
    "fan-out path": (
        _set("thumb", "for_each", "probe.meta"),
        [
            (
                "fan-out-changed",
                'step thumb\'s for_each.path "probe.files" → "probe.meta"',
                None,
            )
        ],
    ),
    "fan-out removed": (
        _no_fan_out,
        [
            (
                "fan-out-changed",
                "step thumb no longer fans out (it ran once per item of probe.files)",
                True,
            ),
            (
                "input-rebound",
                "step thumb's input now reads probe.meta instead of (the item)",
                None,
            ),
        ],
    ),
    "wait": (
        _set("pause", "wait", 60),
        [("wait-changed", "step pause waits 60 s instead of 30 s", False)],
    ),
    "signal name": (
        _set("approval", "signal", "approve"),
        [
            (
                "signal-changed",
                "step approval waits for signal approve instead of ok",
                None,
            )
        ],
    ),
    "signal timeout added": (
        _set("approval", "signal", {"name": "ok", "timeout": 60}),
        [("signal-changed", "step approval's signal timeout none → 60 s", False)],
    ),
    "wait becomes signal": (
        _wait_to_signal,
        [
            (
                "step-kind-changed",
                "step pause waits for signal go instead of: waits 30 s",
                True,
            )
        ],
    ),
    "output changed": (
        _output,
        [("output-changed", "workflow Media's output template changed", False)],
    ),
    "output removed": (
        _no_output,
        [("output-changed", "workflow Media no longer has an output template", False)],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_language_2_changes(case: str) -> None:
    edit, expected = CASES[case]
    found = diff_of(edit)
    # Rebinding sentences belong to diff_inputs; only their kind is pinned here.
    assert [(k, m, b) for k, m, b in found if k != "input-rebound"] == [
        e for e in expected if e[0] != "input-rebound"
    ]
    assert {k for k, _, _ in found} == {k for k, _, _ in expected}


def test_an_added_wait_step_says_what_it_waits_for() -> None:
    def add(plan: Plan) -> None:
        plan["steps"].append({"name": "later", "wait": 5, "requires": ["encode"]})

    assert diff_of(add) == [
        (
            "step-added",
            "step later added: waits 5 s; requires encode to have succeeded",
            False,
        )
    ]


def test_a_removed_signal_step_says_what_it_waited_for() -> None:
    def remove(plan: Plan) -> None:
        plan["steps"].remove(step(plan, "approval"))

    (kind, message, _), *_ = diff_of(remove)
    assert (kind, message) == (
        "step-removed",
        "step approval removed (it waited for signal ok)",
    )


def test_no_change_is_reported_as_unknown_keys() -> None:
    everything = [
        _set("probe", "retry", {"max_attempts": 9}),
        _set("thumb", "max_concurrency", 9),
        _set("pause", "wait", 9),
        _set("approval", "signal", "x"),
        _output,
    ]

    def edit(plan: Plan) -> None:
        for change in everything:
            change(plan)

    kinds = {kind for kind, _, _ in diff_of(edit)}
    assert "step-key-changed" not in kinds
    assert "workflow-key-changed" not in kinds


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_plans(), valid_plans())
def test_any_two_language_2_plans_diff_by_meaning(first: str, second: str) -> None:
    old = compile_text(first, "old.yml")
    new = compile_text(second, "new.yml")
    diff = diff_ir(old, new)
    assert diff.identical == (old["content_hash"] == new["content_hash"])
    kinds = {change.kind for change in diff.changes}
    # Every key of language 2 has a comparison of its own.
    assert not kinds & {"step-key-changed", "workflow-key-changed", "ir-changed"}
    assert PlanDiff.from_json(json.loads(json.dumps(diff.as_json()))) == diff
    diff.render_text()
