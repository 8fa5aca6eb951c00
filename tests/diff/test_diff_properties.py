"""Properties of `diff_ir` over generated plans and generated edits of them:
a plan against itself has no change, and a diff is empty exactly when the
content hashes are equal (no difference in the IR goes unreported)."""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cpe.compiler import check_text
from cpe.compiler.diff import PlanDiff, diff_ir

STATUSES = ("succeeded", "failed", "completed")
Spec = dict[str, Any]


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    """Steps s0..sN-1, step i requiring some steps j < i (a DAG)."""
    count = draw(st.integers(1, 7))
    steps = []
    for i in range(count):
        requires = [
            [f"s{j}", draw(st.sampled_from(STATUSES))]
            for j in range(i)
            if draw(st.booleans())
        ]
        activity = draw(st.sampled_from(["A", "B"]))
        steps.append({"name": f"s{i}", "activity": activity, "requires": requires})
    return {
        "version": draw(st.sampled_from(["1", "2"])),
        "required": draw(st.lists(st.sampled_from(["x", "y"]), unique=True)),
        "activities": [
            {"name": "A", "version": "1"},
            {"name": "B", "version": draw(st.sampled_from(["1", "2"]))},
        ],
        "steps": steps,
    }


def plan_text(spec: Spec) -> str:
    steps = []
    for step in spec["steps"]:
        entry: dict[str, Any] = {"name": step["name"], "activity": step["activity"]}
        if step["requires"]:
            entry["requires"] = step["requires"]
        # Only a step required to succeed has an output to read.
        names = sorted({r[0] for r in step["requires"] if r[1] == "succeeded"})
        fields = ['"x": {{ __input__.x }}', *(f'"{n}": {{{{ {n} }}}}' for n in names)]
        entry["input"] = "{" + ", ".join(fields) + "}"
        steps.append(entry)
    plan = {
        "name": "Generated",
        "version": spec["version"],
        "input_spec": {"type": "object", "required": spec["required"]},
        "activities": spec["activities"],
        "steps": steps,
    }
    return yaml.safe_dump(plan, sort_keys=False)


def compiled(spec: Spec) -> dict[str, Any]:
    ir, _ = check_text(plan_text(spec), "gen.yml")
    # Some requirement mixes are rightly refused (a step that can never run).
    assume(ir is not None)
    assert ir is not None
    return ir


def _rename(spec: Spec, data: st.DataObject) -> None:
    old = data.draw(st.sampled_from([s["name"] for s in spec["steps"]]))
    for step in spec["steps"]:
        if step["name"] == old:
            step["name"] = "renamed"
        for requirement in step["requires"]:
            if requirement[0] == old:
                requirement[0] = "renamed"


def _edit_requirement(spec: Spec, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(spec["steps"]) - 1))
    step = spec["steps"][index]
    if step["requires"] and data.draw(st.booleans()):
        del step["requires"][data.draw(st.integers(0, len(step["requires"]) - 1))]
    elif step["requires"] and data.draw(st.booleans()):
        step["requires"][0][1] = data.draw(st.sampled_from(STATUSES))
    elif index > 0:
        other = f"s{data.draw(st.integers(0, index - 1))}"
        if all(r[0] != other for r in step["requires"]):
            step["requires"].append([other, "succeeded"])


def _edit_activity(spec: Spec, data: st.DataObject) -> None:
    activity = data.draw(st.sampled_from(spec["activities"]))
    key = data.draw(st.sampled_from(["version", "start_to_close_timeout", "task_list"]))
    activity[key] = data.draw(st.sampled_from(["1", "9", "60"]))


def _reorder(spec: Spec, data: st.DataObject) -> None:
    # Listing changes may or may not change the IR (its order, never the
    # activities, which the IR keys by name).
    spec["steps"] = data.draw(st.permutations(spec["steps"]))
    spec["activities"] = data.draw(st.permutations(spec["activities"]))


def _edit_workflow(spec: Spec, data: st.DataObject) -> None:
    spec["version"] = data.draw(st.sampled_from(["1", "2", "3"]))
    spec["required"] = data.draw(st.lists(st.sampled_from(["x", "y"]), unique=True))


def _swap_activity(spec: Spec, data: st.DataObject) -> None:
    step = data.draw(st.sampled_from(spec["steps"]))
    step["activity"] = "B" if step["activity"] == "A" else "A"


EDITS = [
    _rename,
    _edit_requirement,
    _edit_activity,
    _reorder,
    _edit_workflow,
    _swap_activity,
]


def edited(spec: Spec, data: st.DataObject) -> Spec:
    new = copy.deepcopy(spec)
    for edit in data.draw(st.lists(st.sampled_from(EDITS), max_size=3)):
        edit(new, data)
    return new


def check_forms(diff: PlanDiff) -> None:
    text = json.dumps(diff.as_json())
    assert PlanDiff.from_json(json.loads(text)) == diff
    assert diff.render_text().endswith("\n")


@settings(max_examples=150, deadline=None)
@given(specs())
def test_a_plan_against_itself_has_no_change(spec: Spec) -> None:
    ir = compiled(spec)
    again = compiled(copy.deepcopy(spec))
    assert diff_ir(ir, ir).identical
    assert diff_ir(ir, again).identical


@settings(max_examples=300, deadline=None)
@given(specs(), st.data())
def test_a_diff_is_empty_exactly_when_the_hashes_are_equal(
    spec: Spec, data: st.DataObject
) -> None:
    old, new = compiled(spec), compiled(edited(spec, data))
    forward, backward = diff_ir(old, new), diff_ir(new, old)
    equal = old["content_hash"] == new["content_hash"]
    assert forward.identical == equal
    assert backward.identical == equal
    if not equal:
        # The hash decided nothing: comparing content finds the difference.
        assert all(c.kind != "ir-changed" for c in forward.changes), forward.changes
    check_forms(forward)
    check_forms(backward)


@settings(max_examples=100, deadline=None)
@given(specs(), specs())
def test_any_two_plans(first: Spec, second: Spec) -> None:
    old, new = compiled(first), compiled(second)
    diff = diff_ir(old, new)
    assert diff.identical == (old["content_hash"] == new["content_hash"])
    check_forms(diff)
