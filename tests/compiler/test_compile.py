"""The compiler on good and broken plans: every problem, where it is, in one run."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from cpe.compiler import CompileError, check_text, compile_file, compile_text
from cpe.compiler.ir import dumps
from cpe.runtime.ir import IRError, check_ir

COMPAT = Path(__file__).parents[1] / "compat"
EXAMPLE = Path(__file__).parents[2] / "plans" / "transcode" / "plan.yml"

GOOD = """\
name: Good
version: 1.10
activities:
  - name: Probe
    version: 1.0
    outputs_spec:
      meta: "$.format"
  - name: Encode
    version: "2"
steps:
  - name: probe
    activity: Probe
    input: |
      {"file": {{ __input__.file }}}
  - name: encode
    activity: Encode
    requires:
      - [probe, succeeded]
    input: |
      {"meta": {{ probe.meta }}}
"""


def problems(text: str) -> list[tuple[int, int, str]]:
    _, diagnostics = check_text(textwrap.dedent(text), "plan.yml")
    return [(d.position.line, d.position.column, d.code) for d in diagnostics]


def messages(text: str) -> list[str]:
    _, diagnostics = check_text(textwrap.dedent(text), "plan.yml")
    return [d.render() for d in diagnostics]


def test_versions_keep_the_text_they_were_written_with() -> None:
    ir = compile_text(GOOD)
    assert ir["workflow"]["version"] == "1.10"
    assert ir["activities"]["Probe"]["version"] == "1.0"
    assert ir["activities"]["Encode"]["version"] == "2"


def test_defaults_are_the_original_cpe_values() -> None:
    ir = compile_text(GOOD)
    probe = ir["activities"]["Probe"]
    assert probe["task_list"] == "Probe-1.0"
    assert (
        probe["heartbeat_timeout"],
        probe["schedule_to_start_timeout"],
        probe["schedule_to_close_timeout"],
        probe["start_to_close_timeout"],
    ) == ("60", "43200", "518400", "432000")
    workflow = ir["workflow"]
    assert workflow["task_list"] == "Good-1.10"
    assert workflow["child_policy"] == "TERMINATE"
    assert workflow["execution_start_to_close_timeout"].isdigit()


def test_ir_holds_requirements_references_selectors_and_order() -> None:
    ir = compile_text(GOOD)
    assert ir["ir_version"] == 1
    assert ir["order"] == ["probe", "encode"]
    encode = ir["steps"]["encode"]
    assert encode["requires"] == [{"step": "probe", "status": "succeeded"}]
    assert encode["input"]["references"] == [
        {"kind": "step", "path": ["meta"], "step": "probe"}
    ]
    assert ir["activities"]["Probe"]["outputs_spec"] == {
        "meta": {"selector": "$.format", "steps": [{"key": "format"}]}
    }
    assert ir["content_hash"].startswith("sha256:")
    check_ir(ir)


def test_compat_plan_compiles_to_the_same_bytes_twice() -> None:
    first = dumps(compile_file(COMPAT / "ct_plan.yml"))
    second = dumps(compile_file(COMPAT / "ct_plan.yml"))
    assert first == second
    ir = json.loads(first)
    assert ir["order"] == ["ValidateAssetStep", "TranscodeAssetStep"]
    assert ir["workflow"]["name"] == "Transcode"
    assert ir["workflow"]["version"] == "1.0"


def test_the_example_plan_compiles() -> None:
    ir = compile_file(EXAMPLE)
    assert len(ir["steps"]) >= 3


def test_an_edited_ir_is_refused() -> None:
    ir = compile_text(GOOD)
    ir["steps"]["probe"]["activity"] = "Encode"
    with pytest.raises(IRError, match="content hash"):
        check_ir(ir)


def test_duplicate_keys_are_errors() -> None:
    assert problems(GOOD.replace("name: Good\n", "name: Good\nname: Again\n")) == [
        (2, 1, "E101")
    ]


def test_unknown_keys_get_a_did_you_mean() -> None:
    text = GOOD.replace("    activity: Encode", "    activty: Encode")
    rendered = messages(text)
    assert any(
        "unknown key 'activty' in step encode" in m and "did you mean 'activity'" in m
        for m in rendered
    )
    assert problems(text) == [(15, 5, "E111"), (16, 5, "E110")]


BROKEN = """\
name: Broken
version: 1
activities:
  - name: Probe
    version: 1
  - name: Probe
    version: 2
steps:
  - name: a
    activity: Prob
    requires: [c]
  - name: b
    activity: Probe
    requires:
      - [a, succeded]
      - ghost
  - name: c
    activity: Probe
    requires: [b]
    input: |
      {"x": {{ a.out }},
       "y": {{ nobody.z }}}
  - name: a
    activity: Probe
"""


def test_every_problem_of_a_plan_is_reported_in_one_run() -> None:
    assert problems(BROKEN) == [
        (6, 5, "E121"),  # activity Probe declared twice
        (10, 15, "E120"),  # unknown activity, did you mean Probe
        (11, 16, "E125"),  # the cycle a -> c -> b -> a
        (15, 13, "E124"),  # unknown status
        (16, 9, "E123"),  # unknown step in requires
        (21, 16, "E131"),  # c uses a without requiring it
        (22, 16, "E132"),  # unknown name
        (23, 5, "E122"),  # duplicate step
    ]
    assert any("a requires c requires b requires a" in m for m in messages(BROKEN))


def test_a_cycle_is_named_with_its_whole_path() -> None:
    text = """\
    name: Loop
    version: "1"
    activities: [{name: A, version: "1"}]
    steps:
      - {name: one, activity: A, requires: [three]}
      - {name: two, activity: A, requires: [one]}
      - {name: three, activity: A, requires: [two]}
    """
    rendered = messages(text)
    assert any("one requires three requires two requires one" in m for m in rendered)


def test_a_template_needs_the_step_it_uses_to_be_required() -> None:
    text = GOOD.replace("    requires:\n      - [probe, succeeded]\n", "")
    rendered = messages(text)
    assert any("uses step probe, which it does not require" in m for m in rendered)


def test_an_output_key_the_activity_does_not_declare_is_an_error() -> None:
    text = GOOD.replace("probe.meta", "probe.metadata")
    rendered = messages(text)
    assert any(
        "declares no output 'metadata'" in m and "did you mean 'meta'" in m
        for m in rendered
    )


def test_template_syntax_errors_point_at_the_template_line() -> None:
    text = GOOD.replace(
        '{"meta": {{ probe.meta }}}', '{"meta": {{ probe.meta }}\n      {% if %}'
    )
    assert (21, 7, "E130") in problems(text)


def test_bad_selector_and_bad_schema_and_bad_timeout() -> None:
    text = GOOD.replace(
        'meta: "$.format"',
        'meta: "$.format."\n    heartbeat_timeout: -5\n    input_spec: {type: objekt}',
    )
    found = {code for _, _, code in problems(text)}
    assert {"E141", "E113", "E140"} <= found


def test_yaml_syntax_errors_have_a_position() -> None:
    assert problems("name: [unclosed\n") == [(2, 1, "E100")]


def test_a_plan_that_is_not_a_mapping() -> None:
    assert problems("- just\n- a list\n") == [(1, 1, "E112")]


def test_python_tags_are_refused_not_constructed() -> None:
    text = GOOD.replace("name: Good", "name: !!python/object/apply:os.system [echo]")
    assert any(code in ("E102", "E112") for _, _, code in problems(text))


def test_swf_rejects_names_with_colons() -> None:
    assert (1, 7, "E115") in problems(GOOD.replace("name: Good", "name: 'a:b'"))


def test_compile_error_lists_every_diagnostic() -> None:
    with pytest.raises(CompileError) as caught:
        compile_text(BROKEN, "broken.yml")
    assert len(caught.value.diagnostics) >= 8
    assert all(d.path == "broken.yml" for d in caught.value.diagnostics)


def test_hand_built_ir_with_a_fresh_hash_is_still_checked() -> None:
    from cpe.runtime.ir import content_hash

    def rehashed(ir: dict[str, object]) -> dict[str, object]:
        body = {k: v for k, v in ir.items() if k != "content_hash"}
        return {**body, "content_hash": content_hash(body)}

    ir = compile_text(GOOD)
    del ir["steps"]["encode"]  # type: ignore[attr-defined]
    with pytest.raises(IRError, match="order does not list exactly its steps"):
        check_ir(rehashed(ir))
    with pytest.raises(IRError, match="'plan_language' is a required property"):
        check_ir(rehashed({"ir_version": 1}))
    ir = compile_text(GOOD)
    ir["activities"]["Probe"]["heartbeat_timeout"] = "123456789"  # type: ignore[index]
    with pytest.raises(IRError, match="heartbeat_timeout"):
        check_ir(rehashed(ir))
