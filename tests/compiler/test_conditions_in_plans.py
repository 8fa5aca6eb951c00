"""Conditions (`when:`, plan language 2) as the compiler checks them."""

from __future__ import annotations

from cpe.compiler import check_text

PLAN = """\
name: W
version: "1"
language: 2
input_spec:
  type: object
  properties:
    mode: {type: string}
activities:
  - {name: A, version: "1", outputs_spec: {ok: "$.ok"}}
steps:
  - {name: probe, activity: A}
  - name: next
    activity: A
    requires: [probe]
    when: CONDITION
"""


def diagnostics(
    condition: str, plan: str = PLAN
) -> list[tuple[int, int, str, str, str | None]]:
    _, found = check_text(plan.replace("CONDITION", condition), "p.yml")
    return [
        (d.position.line, d.position.column, d.code, d.message, d.hint) for d in found
    ]


def test_a_valid_condition_compiles_into_the_ir() -> None:
    ir, found = check_text(
        PLAN.replace("CONDITION", 'probe.status == "succeeded" and probe.ok != null'),
        "p.yml",
    )
    assert found == []
    assert ir is not None
    when = ir["steps"]["next"]["when"]
    assert when["text"] == 'probe.status == "succeeded" and probe.ok != null'
    assert when["ast"]["op"] == "and"
    assert when["references"] == [
        {"kind": "step", "path": ["ok"], "step": "probe"},
        {"kind": "step", "path": ["status"], "step": "probe"},
    ]


def test_a_syntax_error_points_inside_the_condition() -> None:
    assert diagnostics('__input__.mode = "hd"') == [
        (
            15,
            26,
            "E142",
            "step next's condition does not parse: '=' is not an operator: write '==' to "
            "compare",
            None,
        )
    ]


def test_unknown_names_unrequired_steps_and_undeclared_outputs() -> None:
    plan = PLAN.replace(
        "  - {name: probe, activity: A}\n",
        "  - {name: probe, activity: A}\n  - {name: other, activity: A}\n",
    )
    found = diagnostics("probe.nope or other.ok or ghost or True", plan)
    assert [
        (line, column, code, message) for line, column, code, message, _ in found
    ] == [
        (
            16,
            11,
            "E145",
            "step next's condition uses probe.nope, but activity A declares no "
            "output 'nope' (its outputs: ok)",
        ),
        (
            16,
            25,
            "E144",
            "step next's condition uses step other, which it does not require",
        ),
        (
            16,
            37,
            "E143",
            "step next's condition uses 'ghost', which is neither __input__ nor a step",
        ),
        (
            16,
            46,
            "E143",
            "step next's condition uses 'True', which is neither __input__ nor a step",
        ),
    ]
    assert found[-1][4] == "write true"


def test_input_paths_are_checked_against_the_input_spec() -> None:
    found = diagnostics('__input__.mdoe == "hd"')
    assert [(code, hint) for _, _, code, _, hint in found] == [
        ("W136", "did you mean 'mode'?")
    ]


def test_when_needs_plan_language_2() -> None:
    found = diagnostics("true", PLAN.replace("language: 2\n", ""))
    assert found == [
        (
            14,
            5,
            "E116",
            "'when' belongs to plan language 2; this plan is language 1",
            "add 'language: 2' at the top of the plan",
        )
    ]


def codes(condition: str, plan: str = PLAN) -> list[tuple[str, str]]:
    return [(code, message) for _, _, code, message, _ in diagnostics(condition, plan)]


def test_values_that_are_never_true_or_false() -> None:
    assert codes("1") == [
        ("E146", "step next's condition can never be evaluated: 1 is not true or false")
    ]
    assert codes("'\"a\" < 1'") == [
        (
            "E146",
            "step next's condition can never be evaluated: '<' needs two numbers or two "
            'strings, but "a" is a string and 1 is a number',
        )
    ]


def test_statuses_that_do_not_exist_or_cannot_be_ordered() -> None:
    found = diagnostics('probe.status == "succeded"')
    assert [(code, hint) for _, _, code, _, hint in found] == [
        ("E147", "did you mean 'succeeded'?")
    ]
    assert codes("probe.status > 3")[0][0] == "E147"


def test_conditions_that_can_never_hold_are_warned_about() -> None:
    assert codes("false") == [
        ("W154", "step next can never run: its condition is false")
    ]
    assert codes('probe.status == "failed"') == [
        (
            "W154",
            "step next can never run: its condition asks probe to be failed, but its "
            "requires need succeeded",
        )
    ]


def test_an_output_called_status_is_hidden_in_conditions() -> None:
    plan = PLAN.replace(
        'outputs_spec: {ok: "$.ok"}', 'outputs_spec: {ok: "$.ok", status: "$.s"}'
    )
    assert codes("probe.ok != null", plan)[0][0] == "W148"


def test_a_for_loop_may_use_loop_to_write_a_json_list() -> None:
    plan = PLAN.replace(
        "    when: CONDITION\n",
        "    input: |\n"
        "      [{% for x in __input__.mode %}{{ x }}{% if not loop.last %},"
        "{% endif %}{% endfor %}]\n",
    )
    assert diagnostics("", plan) == []
