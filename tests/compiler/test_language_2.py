"""Plan language 2's step keys and workflow output: their diagnostics, each at
its place, and the IR each gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cpe.compiler import check_text, compile_file, compile_text
from cpe.runtime.ir import check_ir

ROOT = Path(__file__).parents[2]

HEAD = """\
name: L2
version: "1"
language: 2
input_spec:
  type: object
  additionalProperties: false
  properties:
    files: {type: array, items: {type: string}}
activities:
  - {name: A, version: "1", outputs_spec: {list: "$.list", one: "$.one"}}
steps:
  - {name: probe, activity: A}
"""
# HEAD has 12 lines: the first step written after it is on line 13.


def found(steps: str, head: str = HEAD) -> list[tuple[int, int, str]]:
    _, diagnostics = check_text(head + steps, "p.yml")
    return [(d.position.line, d.position.column, d.code) for d in diagnostics]


def messages(steps: str, head: str = HEAD) -> list[tuple[str, str, str | None]]:
    _, diagnostics = check_text(head + steps, "p.yml")
    return [(d.code, d.message, d.hint) for d in diagnostics]


def ir_of(steps: str, head: str = HEAD) -> dict[str, Any]:
    ir = compile_text(head + steps, "p.yml")
    check_ir(json.loads(json.dumps(ir)))  # the runtime accepts it as written
    return ir


# -- language gating --------------------------------------------------------

LANGUAGE_1 = """\
name: One
version: "1"
activities:
  - {name: A, version: "1"}
steps:
  - name: a
    activity: A
    retry: {max_attempts: 2}
    for_each: __input__.x
    as: n
    max_concurrency: 2
    tolerated_failures: 1
  - {name: w, activity: A, wait: 3, signal: s}
output: '{}'
"""


def test_every_new_key_needs_language_2() -> None:
    _, diagnostics = check_text(LANGUAGE_1, "p.yml")
    assert [(d.position.line, d.position.column, d.code) for d in diagnostics] == [
        (8, 5, "E116"),
        (9, 5, "E116"),
        (10, 5, "E116"),
        (11, 5, "E116"),
        (12, 5, "E116"),
        (13, 28, "E116"),
        (13, 37, "E116"),
        (14, 1, "E116"),
    ]
    assert diagnostics[0].message == (
        "'retry' belongs to plan language 2; this plan is language 1"
    )
    assert diagnostics[0].hint == "add 'language: 2' at the top of the plan"


ONE_STEP = 'name: One\nversion: "1"\nactivities: [{name: A, version: "1"}]\nsteps:\n'


def test_language_1_still_requires_an_activity() -> None:
    text = ONE_STEP + "  - {name: a}\n"
    _, diagnostics = check_text(text, "p.yml")
    assert [(d.position.line, d.code) for d in diagnostics] == [(5, "E111")]


def test_language_1_step_names_may_hold_brackets() -> None:
    text = ONE_STEP + '  - {name: "a[1]#2", activity: A}\n'
    assert check_text(text, "p.yml")[1] == []


# -- the kind of a step -----------------------------------------------------


def test_a_step_has_exactly_one_of_activity_wait_and_signal() -> None:
    steps = """\
  - name: none
  - {name: both, activity: A, wait: 3, signal: s}
"""
    assert found(steps) == [(13, 5, "E117"), (14, 31, "E117"), (14, 40, "E117")]
    assert messages(steps)[0][1] == "step none has none of activity, wait and signal"
    assert messages(steps)[1][1] == (
        "step both has both 'activity' and 'wait'; a step is one of activity, wait "
        "and signal"
    )


def test_a_wait_or_signal_step_cannot_have_what_an_activity_step_has() -> None:
    steps = """\
  - {name: w, wait: 3, retry: {}, input: '{}'}
  - {name: s, signal: go, for_each: probe.list, as: n, requires: [probe]}
"""
    assert found(steps) == [(13, 24, "E119"), (13, 35, "E119"), (14, 27, "E119")]
    assert messages(steps)[0][1] == (
        "step w is a wait step, which runs no activity, so it cannot have 'retry'"
    )


def test_reserved_characters_in_step_names() -> None:
    steps = '  - {name: "x[1]", activity: A}\n  - {name: "y#2", activity: A}\n'
    assert found(steps) == [(13, 12, "E118"), (14, 12, "E118")]
    assert messages(steps)[1][1] == (
        "step name 'y#2' holds '#', which plan language 2 keeps for activity ids "
        "(step[item]#attempt)"
    )


# -- retry ------------------------------------------------------------------


def test_retry_values_out_of_range() -> None:
    steps = """\
  - name: r
    activity: A
    retry:
      max_attempts: 0
      interval: 1.5
      backoff_rate: 0.5
      max_interval: 123456789
      jitter: 1
      outcomes: [faild, timed_out]
      extra: 1
"""
    assert found(steps) == [
        (16, 21, "E160"),
        (17, 17, "E160"),
        (18, 21, "E160"),
        (19, 21, "E160"),
        (20, 15, "E160"),
        (21, 18, "E161"),
        (22, 7, "E110"),
    ]
    by_code = {code: (message, hint) for code, message, hint in messages(steps)}
    assert by_code["E161"] == (
        "step r's retry lists the outcome 'faild', which no attempt ends with",
        "did you mean 'failed'?",
    )


def test_retry_with_no_outcomes_and_a_short_max_interval() -> None:
    steps = """\
  - name: r
    activity: A
    retry: {outcomes: [], interval: 10, max_interval: 5}
"""
    assert found(steps) == [(15, 23, "E161"), (15, 55, "W160")]


def test_retry_must_be_a_mapping() -> None:
    assert found("  - {name: r, activity: A, retry: 3}\n") == [(13, 35, "E112")]


def test_retry_fills_in_every_default() -> None:
    ir = ir_of("  - {name: r, activity: A, retry: {max_attempts: 5}}\n")
    assert ir["steps"]["r"]["retry"] == {
        "max_attempts": 5,
        "interval": 1,
        "backoff_rate": 2,
        "max_interval": 3600,
        "jitter": False,
        "outcomes": ["failed", "timed_out"],
    }


def test_retry_as_written() -> None:
    steps = """\
  - name: r
    activity: A
    retry: {max_attempts: 4, interval: "30", backoff_rate: 1.5, max_interval: 600,
            jitter: true, outcomes: [timed_out]}
"""
    assert ir_of(steps)["steps"]["r"]["retry"] == {
        "max_attempts": 4,
        "interval": 30,
        "backoff_rate": 1.5,
        "max_interval": 600,
        "jitter": True,
        "outcomes": ["timed_out"],
    }


# -- for_each ---------------------------------------------------------------


def test_fan_out_keys_go_together() -> None:
    steps = """\
  - {name: f1, activity: A, for_each: probe.list, requires: [probe]}
  - {name: f2, activity: A, as: n, max_concurrency: 2, tolerated_failures: 1}
"""
    assert found(steps) == [
        (13, 29, "E163"),
        (14, 29, "E163"),
        (14, 36, "E163"),
        (14, 56, "E163"),
    ]
    assert messages(steps)[1][1] == (
        "step f2 has 'as' but no for_each; it belongs to a fan-out step"
    )


@pytest.mark.parametrize(
    ("item", "column", "why"),
    [
        ("1n", 54, "is not a name"),
        ("if", 54, "already means something in a template"),
        ("__input__", 54, "already means something in a template"),
        ("probe", 54, "is also the name of a step"),
    ],
)
def test_bad_item_names(item: str, column: int, why: str) -> None:
    steps = f"  - {{name: f, activity: A, for_each: probe.list, as: {item}, requires: [probe]}}\n"
    assert found(steps) == [(13, column, "E162")]
    assert why in messages(steps)[0][1]


def test_counts_out_of_range() -> None:
    steps = """\
  - name: f
    activity: A
    requires: [probe]
    for_each: probe.list
    as: n
    max_concurrency: 0
    tolerated_failures: -1
"""
    assert found(steps) == [(18, 22, "E164"), (19, 25, "E164")]


@pytest.mark.parametrize(
    ("path", "requires", "expected"),
    [
        # The end of the text: where the missing value should be.
        ("probe.list ==", "[probe]", [(13, 50, "E165")]),
        ("'\"text\"'", "[probe]", [(13, 38, "E165")]),
        ("prob.list", "[probe]", [(13, 38, "E166")]),
        ("probe.list", "[]", [(13, 38, "E167")]),
        ("probe.list", "[[probe, failed]]", [(13, 38, "E168")]),
        ("probe.list", "[[probe, skipped]]", [(13, 38, "E168")]),
        ("probe.list", "[[probe, completed]]", [(13, 38, "W168")]),
        ("probe.lst", "[probe]", [(13, 38, "E169")]),
        ("__input__.filez", "[]", [(13, 38, "E136")]),
    ],
)
def test_for_each_paths(
    path: str, requires: str, expected: list[tuple[int, int, str]]
) -> None:
    steps = (
        f"  - {{name: f, activity: A, for_each: {path}, as: n, requires: {requires}}}\n"
    )
    assert found(steps) == expected


def test_for_each_hints() -> None:
    by_code = {
        code: (message, hint)
        for steps in (
            "  - {name: f, activity: A, for_each: prob.list, as: n}\n",
            "  - {name: f, activity: A, for_each: probe.lst, as: n, requires: [probe]}\n",
        )
        for code, message, hint in messages(steps)
    }
    assert by_code["E166"] == (
        "step f's for_each uses 'prob', which is neither __input__ nor a step",
        "did you mean 'probe'?",
    )
    assert by_code["E169"] == (
        "step f's for_each uses probe.lst, but activity A declares no output 'lst' "
        "(its outputs: list, one)",
        "did you mean 'list'?",
    )


def test_an_input_path_the_open_spec_does_not_describe_is_a_warning() -> None:
    head = HEAD.replace("  additionalProperties: false\n", "")
    steps = "  - {name: f, activity: A, for_each: __input__.other, as: n}\n"
    assert found(steps, head) == [(12, 38, "W136")]


def test_the_item_outside_its_step_is_an_unknown_name() -> None:
    steps = """\
  - {name: f, activity: A, for_each: probe.list, as: n, requires: [probe], input: '{"n": {{ n }}}'}
  - {name: g, activity: A, requires: [f], input: '{"n": {{ n }}}'}
"""
    assert found(steps) == [(14, 60, "E132")]
    assert messages(steps)[0][2] == (
        "'n' is the item of the fan-out step f; it exists only in that step's input"
    )


def test_for_each_ir() -> None:
    steps = """\
  - name: square
    activity: A
    requires: [probe]
    for_each: probe.list
    as: n
    max_concurrency: 10
    input: '{"n": {{ n }}, "first": {{ n.a[0] }}, "all": {{ probe.one }}}'
  - {name: files, activity: A, for_each: '__input__.files', as: f, tolerated_failures: 2}
"""
    steps_ir = ir_of(steps)["steps"]
    assert steps_ir["square"]["for_each"] == {
        "text": "probe.list",
        "path": {"name": "probe", "steps": [{"key": "list"}]},
        "as": "n",
        "max_concurrency": 10,
        "tolerated_failures": 0,
    }
    assert steps_ir["square"]["input"]["references"] == [
        {"kind": "item", "path": ["a", 0]},
        {"kind": "item", "path": []},
        {"kind": "step", "step": "probe", "path": ["one"]},
    ]
    assert steps_ir["files"]["for_each"] == {
        "text": "__input__.files",
        "path": {"name": "__input__", "steps": [{"key": "files"}]},
        "as": "f",
        "max_concurrency": None,
        "tolerated_failures": 2,
    }
    assert steps_ir["files"]["input"] is None


def test_a_later_step_sees_a_fan_out_output_as_lists() -> None:
    # Rendered with placeholders, `{{ square.one }}` is a list, so writing it
    # where a list belongs renders to JSON and nothing is reported.
    steps = """\
  - {name: square, activity: A, requires: [probe], for_each: probe.list, as: n}
  - {name: after, activity: A, requires: [square], input: '{"all": {{ square.one }}}'}
"""
    assert found(steps) == []


# -- wait and signal --------------------------------------------------------


def test_wait_and_signal_ir() -> None:
    steps = """\
  - {name: pause, wait: 30, requires: [probe]}
  - {name: approval, signal: approve, requires: [pause]}
  - {name: timed, signal: {name: approve, timeout: 3600}}
  - {name: untimed, signal: {name: other, timeout: null}}
"""
    steps_ir = ir_of(steps)["steps"]
    assert steps_ir["pause"] == {
        "name": "pause",
        "activity": None,
        "requires": [{"step": "probe", "status": "succeeded"}],
        "input": None,
        "wait": {"seconds": 30},
    }
    assert steps_ir["approval"]["signal"] == {"name": "approve", "timeout": None}
    assert steps_ir["approval"]["activity"] is None
    assert steps_ir["timed"]["signal"] == {"name": "approve", "timeout": 3600}
    assert steps_ir["untimed"]["signal"] == {"name": "other", "timeout": None}


def test_wait_and_signal_values() -> None:
    steps = """\
  - {name: w, wait: -1}
  - {name: w2, wait: soon}
  - {name: s, signal: "a:b"}
  - {name: s2, signal: {name: ok, timeout: x, other: 1}}
  - {name: s3, signal: {timeout: 5}}
"""
    assert found(steps) == [
        (13, 21, "E170"),
        (14, 22, "E170"),
        (15, 23, "E115"),
        (16, 44, "E170"),
        (16, 47, "E110"),
        (17, 24, "E111"),
    ]


def test_a_signal_timer_id_too_long_for_swf() -> None:
    name = "s" * 250
    steps = f"  - {{name: {name}, signal: {{name: go, timeout: 5}}}}\n"
    assert found(steps) == [(13, 272, "E115")]


# -- the workflow's output --------------------------------------------------


def test_output_ir() -> None:
    text = (
        HEAD
        + """\
  - {name: other, activity: A, requires: [probe]}
output: |
  {"list": {{ probe.list }}, "files": {{ __input__.files }}, "other": {{ other }}}
"""
    )
    ir = ir_of("", text)
    assert ir["workflow"]["output"] == {
        "template": '{"list": {{ probe.list }}, "files": {{ __input__.files }}, '
        '"other": {{ other }}}\n',
        "references": [
            {"kind": "input", "path": ["files"]},
            {"kind": "step", "step": "probe", "path": ["list"]},
            {"kind": "step", "step": "other", "path": []},
        ],
    }


def test_no_output_key_without_output() -> None:
    assert "output" not in ir_of("")["workflow"]


def test_output_mistakes() -> None:
    text = (
        HEAD
        + """\
output: |
  {"a": {{ nope }},
   "b": {{ probe.lisst }},
   "c": {{ __input__.filez }},
   "d": {{ probe | evil }}}
"""
    )
    assert found("", text) == [
        (14, 12, "E132"),
        (15, 12, "E133"),
        (16, 12, "E136"),
        (17, 20, "E137"),
    ]


def test_output_that_does_not_parse_or_render() -> None:
    assert found("", HEAD + 'output: "{{ probe "\n') == [(13, 10, "E130")]
    assert found("", HEAD + 'output: |\n  {"a": {{ probe }}\n   "b": 1}\n') == [
        (14, 20, "E138")
    ]


def test_output_must_be_a_template_text() -> None:
    assert found("", HEAD + "output: {a: 1}\n") == [(13, 9, "E112")]


def test_output_warns_about_steps_that_may_not_succeed() -> None:
    text = (
        HEAD
        + """\
  - {name: maybe, activity: A, when: 'probe.one == 1', requires: [probe]}
  - {name: rescue, activity: A, requires: [[maybe, failed]]}
  - {name: after, activity: A, requires: [maybe]}
  - {name: sure, activity: A, requires: [probe]}
output: '{"m": {{ maybe }}, "r": {{ rescue }}, "a": {{ after }}, "s": {{ sure }}}'
"""
    )
    diagnostics = check_text(text, "p.yml")[1]
    assert [(d.position.line, d.position.column, d.code) for d in diagnostics] == [
        (17, 19, "W171"),
        (17, 37, "W171"),
        (17, 56, "W171"),
    ]
    assert diagnostics[0].message == (
        "the workflow's output uses the output of maybe, which has a condition and "
        "may be skipped; then the output has no value for it"
    )
    assert "failed or was skipped" in diagnostics[1].message
    assert "requires a step that may not succeed" in diagnostics[2].message


def test_output_reads_count_as_reads() -> None:
    # W151 (an output no step reads) is not reported for an output key the
    # workflow's output reads.
    head = HEAD.replace("activities:\n", 'activities:\n  - {name: B, version: "1"}\n')
    text = (
        head
        + """\
  - {name: last, activity: B, requires: [probe], input: '{"x": {{ probe.one }}}'}
output: '{"l": {{ probe.list }}}'
"""
    )
    assert found("", text) == []
    without = text.replace('{"l": {{ probe.list }}}', "{}")
    assert [code for _, _, code in found("", without)] == ["W151"]


# -- the fixture ------------------------------------------------------------


def test_the_language_2_fixture_compiles_cleanly() -> None:
    path = ROOT / "tests" / "fixtures" / "plans" / "language2.yml"
    ir, diagnostics = check_text(path.read_text(), str(path))
    assert diagnostics == []
    assert ir is not None
    steps = compile_file(path)["steps"]
    assert {name for name, step in steps.items() if "retry" in step} == {
        "probe",
        "each_input",
    }
    assert {name for name, step in steps.items() if "for_each" in step} == {
        "square",
        "each_input",
    }
    assert steps["pause"]["wait"] == {"seconds": 1}
    assert steps["approval"]["signal"] == {"name": "approve", "timeout": 3600}
    assert "output" in ir["workflow"]


def test_for_each_over_a_wait_step() -> None:
    steps = """\
  - {name: w, wait: 1}
  - {name: f, activity: A, requires: [w], for_each: w, as: x}
"""
    assert found(steps) == [(14, 53, "E169")]
    assert messages(steps)[0][1] == (
        "step f's for_each runs over the output of w, a wait step, whose output is "
        "always null"
    )


ITEMS_HEAD = HEAD.replace(
    "    files: {type: array, items: {type: string}}\n",
    "    files: {type: array, items: {type: object, additionalProperties: false,\n"
    "            properties: {path: {type: string}}}}\n",
)


def test_the_item_of_an_input_list_is_checked_against_its_items_schema() -> None:
    steps = (
        "  - {name: g, activity: A, for_each: __input__.files, as: x,\n"
        '     input: \'{"p": {{ x.path }}, "q": {{ x.pth }}}\'}\n'
    )
    assert found(steps, ITEMS_HEAD) == [(15, 42, "E136")]
    assert messages(steps, ITEMS_HEAD)[0][1:] == (
        "step g's input uses x.pth, which the plan's input_spec does not describe "
        "(it allows no other keys)",
        "did you mean 'path'?",
    )


def test_the_item_placeholder_has_the_items_shape() -> None:
    # The item is a string here: quoting it breaks the JSON as it would at run time.
    steps = """\
  - {name: g, activity: A, for_each: __input__.files, as: x, input: '{"p": "{{ x }}"}'}
"""
    assert [code for _, _, code in found(steps)] == ["E138"]


def test_the_activity_id_of_the_last_attempt_must_fit_swf() -> None:
    name = "s" * 255
    steps = f"  - {{name: {name}, activity: A, retry: {{max_attempts: 10}}}}\n"
    assert found(steps) == [(13, 12, "E115")]
    assert (
        "the activity id of an attempt would be 258 characters" in messages(steps)[0][1]
    )


def test_a_condition_cannot_read_the_item() -> None:
    steps = (
        "  - {name: f, activity: A, requires: [probe], for_each: probe.list, as: n,\n"
        "     when: 'n == 1'}\n"
    )
    assert found(steps) == [(14, 13, "E143")]
    assert messages(steps)[0][2] == (
        "a condition decides on the whole step, before any item: it cannot read the "
        "fan-out item"
    )
