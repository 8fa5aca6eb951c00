"""Binding, render and whole-plan checks: each mistake, its exact message, its place."""

from __future__ import annotations

import textwrap

from cpe.compiler import check_text


def diagnostics(text: str) -> list[tuple[int, int, str, str, str | None]]:
    _, found = check_text(textwrap.dedent(text), "p.yml")
    return [
        (d.position.line, d.position.column, d.code, d.message, d.hint) for d in found
    ]


HEAD = """\
name: W
version: "1"
input_spec:
  type: object
  additionalProperties: false
  properties:
    file: {type: string}
    opts: {type: object, properties: {size: {type: integer}}}
activities:
  - name: A
    version: "1"
    outputs_spec: {home-address: "$.a", size: "$.s"}
steps:
  - name: probe
    activity: A
    input: '{"f": {{ __input__.file }}}'
"""


def with_step(template: str, requires: str = "[probe]") -> str:
    return (
        HEAD
        + f"  - name: next\n    activity: A\n    requires: {requires}\n    input: |\n"
        + (textwrap.indent(template, "      "))
    )


def test_a_dashed_key_is_explained_with_the_bracket_form() -> None:
    found = diagnostics(with_step('{"w": {{ probe.home-address }}}\n'))
    assert found == [
        (
            21,
            16,
            "E135",
            "step next's input writes {{ probe.home-address }}, which Jinja reads as a "
            "subtraction, not as a key with a dash",
            'write {{ probe["home-address"] }}',
        )
    ]


def test_the_bracket_form_of_a_dashed_key_compiles() -> None:
    assert diagnostics(with_step('{"w": {{ probe["home-address"] }}}\n')) == []


def test_arithmetic_with_spaces_is_not_a_dashed_key() -> None:
    found = diagnostics(with_step('{"w": {{ probe.size - 1 }}}\n'))
    assert found == []


def test_an_input_path_the_closed_schema_lacks_is_an_error() -> None:
    found = diagnostics(with_step('{"w": {{ __input__.flie }}}\n'))
    assert found == [
        (
            21,
            16,
            "E136",
            "step next's input uses __input__.flie, which the plan's input_spec does not "
            "describe (it allows no other keys)",
            "did you mean 'file'?",
        )
    ]


def test_an_input_path_an_open_schema_lacks_is_a_warning() -> None:
    found = diagnostics(with_step('{"w": {{ __input__.opts.sise }}}\n'))
    assert found == [
        (
            21,
            16,
            "W136",
            "step next's input uses __input__.opts.sise, which the plan's input_spec "
            "does not describe",
            "did you mean 'size'?",
        )
    ]


def test_an_unsafe_filter_is_refused() -> None:
    found = diagnostics(with_step('{"w": {{ probe.size | attr("x") }}}\n'))
    assert [
        (line, column, code, message) for line, column, code, message, _ in found
    ] == [
        (
            21,
            29,
            "E137",
            "step next's input uses the filter or test 'attr', which "
            "templates do not allow",
        )
    ]


def test_a_quoted_placeholder_does_not_render_to_json() -> None:
    found = diagnostics(with_step('{\n  "w": "{{ probe.size }}"\n}\n'))
    assert found == [
        (
            22,
            9,
            "E138",
            "step next's input does not render to JSON: Expecting ',' delimiter",
            "every {{ value }} is written as JSON already: do not quote it, and "
            "separate entries with commas",
        )
    ]


def test_a_missing_comma_is_found_at_the_end_of_the_line_that_lacks_it() -> None:
    found = diagnostics(with_step('{\n  "a": {{ probe.size }}\n  "b": 2\n}\n'))
    # `        "a": {{ probe.size }}` ends at column 29; the comma goes after it.
    assert [(line, column, code) for line, column, code, _, _ in found] == [
        (22, 30, "E138")
    ]


def test_a_duplicate_key_in_the_rendered_json_is_a_warning() -> None:
    found = diagnostics(with_step('{\n  "a": {{ probe.size }},\n  "a": 2\n}\n'))
    assert found == [
        (
            23,
            9,
            "W139",
            'step next\'s input has the key "a" twice; JSON keeps only the last',
            None,
        )
    ]


def test_an_oversized_literal_payload_is_an_error() -> None:
    found = diagnostics(with_step('{"blob": "' + "x" * 33_000 + '"}\n'))
    assert [(code, message.split(";")[0]) for _, _, code, message, _ in found] == [
        ("E155", "step next's input is at least 33013 characters once rendered")
    ]


PLAN_CHECKS = """\
name: W
version: "1"
activities:
  - name: A
    version: "1"
    heartbeat_timeout: 600
    start_to_close_timeout: 300
    outputs_spec: {x: "$.x", y: "$.y"}
  - name: B
    version: "1"
    outputs_spec: {unread: "$.u"}
  - name: Unused
    version: "1"
steps:
  - {name: a, activity: A}
  - {name: b, activity: B, requires: [a], input: '{"x": {{ a.x }}}'}
  - {name: c, activity: A, requires: [[a, failed], b]}
"""


def test_whole_plan_checks() -> None:
    assert diagnostics(PLAN_CHECKS) == [
        (
            6,
            24,
            "W152",
            "activity A: heartbeat_timeout (600 s) is longer than start_to_close_timeout "
            "(300 s); the heartbeat timeout can never fire before the task times out",
            None,
        ),
        (
            11,
            28,
            "W151",
            "output 'unread' of activity B is read by no step",
            "remove it, or read it in the step that needs it",
        ),
        (
            12,
            5,
            "W150",
            "activity Unused is declared but no step runs it",
            "remove it, or add the step that should run it",
        ),
        (
            17,
            5,
            "W154",
            "step c can never run: it needs a to have both failed and succeeded",
            "check the statuses in its requires and in the requires of the steps it "
            "requires",
        ),
    ]


def test_warnings_do_not_stop_the_ir() -> None:
    ir, _ = check_text(PLAN_CHECKS, "p.yml")
    assert ir is not None


def test_an_unclosed_brace_points_at_the_last_line() -> None:
    found = diagnostics(with_step('{\n  "a": {{ probe.size }}\n'))
    assert [(line, code, message) for line, _, code, message, _ in found] == [
        (
            22,
            "E138",
            "step next's input does not render to JSON: Expecting ',' delimiter",
        )
    ]
