"""Each kind of change `cpec diff` reports: a small edit of the base plan, and
the exact changes, sentences and breaking marks it gives."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

import pytest

from cpe.compiler.diff import diff_ir
from tests.diff.plans import (
    Plan,
    activity,
    base_plan,
    compile_plan,
    diff_edit,
    rehashed,
    step,
    summary,
)

Expected = list[tuple[str, str, bool | None]]


def _add_step(plan: Plan) -> None:
    plan["steps"].append(
        {"name": "archive", "activity": "Notify", "requires": ["encode"]}
    )


def _remove_step(plan: Plan) -> None:
    plan["steps"].remove(step(plan, "notify"))


def _rename_leaf(plan: Plan) -> None:
    step(plan, "notify")["name"] = "report"


def _rename_root(plan: Plan) -> None:
    step(plan, "probe")["name"] = "inspect"
    for other in plan["steps"][1:]:
        other["requires"] = [
            "inspect" if r == "probe" else r for r in other["requires"]
        ]
        other["input"] = other["input"].replace("probe.", "inspect.")


def _two_lookalikes(plan: Plan) -> None:
    notify = step(plan, "notify")
    plan["steps"].remove(notify)
    plan["steps"] += [{**copy.deepcopy(notify), "name": n} for n in ("r1", "r2")]


def _rename_and_change_activity(plan: Plan) -> None:
    step(plan, "notify").update(name="report", activity="Encode")


def _set_requires(name: str, *requires: object) -> Callable[[Plan], None]:
    def edit(plan: Plan) -> None:
        step(plan, name)["requires"] = list(requires)

    return edit


def _edit_activity(name: str, **changes: object) -> Callable[[Plan], None]:
    def edit(plan: Plan) -> None:
        activity(plan, name).update(changes)

    return edit


def _require_dst(plan: Plan) -> None:
    plan["input_spec"]["required"].append("dst")


def _require_nothing(plan: Plan) -> None:
    plan["input_spec"]["required"] = []


def _redescribe(plan: Plan) -> None:
    plan["input_spec"]["properties"]["src"]["description"] = "where it comes from"


def _encode_needs_meta(plan: Plan) -> None:
    activity(plan, "Encode")["input_spec"]["required"] = ["meta"]


def _output(key: str, selector: str | None) -> Callable[[Plan], None]:
    def edit(plan: Plan) -> None:
        outputs = activity(plan, "Probe")["outputs_spec"]
        if selector is None:
            del outputs[key]
        else:
            outputs[key] = selector

    return edit


def _drop_size(plan: Plan) -> None:
    _output("size", None)(plan)
    step(plan, "notify")["input"] = '{"src": {{ __input__.src }}}'


def _reformat_template(plan: Plan) -> None:
    step(plan, "encode")["input"] = '{"meta": {{probe.meta}} }'


def _thumb_after_encode(plan: Plan) -> None:
    step(plan, "thumb").update(requires=["encode"], input='{"meta": {{ encode }}}')


def _swap_listing(plan: Plan) -> None:
    plan["steps"][1], plan["steps"][2] = plan["steps"][2], plan["steps"][1]


def _new_version_without_notify(plan: Plan) -> None:
    plan["version"] = "2"
    _remove_step(plan)


def _add_activity_and_step(plan: Plan) -> None:
    plan["activities"].append({"name": "Archive", "version": "1"})
    plan["steps"].append(
        {"name": "archive", "activity": "Archive", "requires": ["notify"]}
    )


def _remove_activity_and_step(plan: Plan) -> None:
    _remove_step(plan)
    plan["activities"].remove(activity(plan, "Notify"))


def _set_timeout(plan: Plan) -> None:
    plan["default_execution_start_to_close_timeout"] = 3600


def _drop_input(plan: Plan) -> None:
    del step(plan, "notify")["input"]


CASES: dict[str, tuple[Callable[[Plan], None], Expected]] = {
    "step-added": (
        _add_step,
        [
            (
                "step-added",
                "step archive added: runs Notify 1; requires encode to have succeeded",
                False,
            )
        ],
    ),
    "step-removed": (
        _remove_step,
        [("step-removed", "step notify removed (it ran Notify 1)", True)],
    ),
    "step-renamed": (
        _rename_leaf,
        [
            (
                "step-renamed",
                "step notify looks renamed to report: same activity, requirements "
                "and input",
                True,
            )
        ],
    ),
    "step-renamed-with-dependents": (
        _rename_root,
        [
            (
                "step-renamed",
                "step probe looks renamed to inspect: same activity, requirements "
                "and input",
                True,
            ),
            *[
                (
                    "template-text-changed",
                    f"step {name}'s input template text changed; it reads the same "
                    "values",
                    False,
                )
                for name in ("encode", "thumb", "notify")
            ],
        ],
    ),
    "ambiguous-rename-is-not-claimed": (
        _two_lookalikes,
        [
            (
                "step-added",
                "step r1 added: runs Notify 1; requires probe to have succeeded and "
                "encode to have completed",
                False,
            ),
            ("step-removed", "step notify removed (it ran Notify 1)", True),
            (
                "step-added",
                "step r2 added: runs Notify 1; requires probe to have succeeded and "
                "encode to have completed",
                False,
            ),
        ],
    ),
    "other-activity-is-not-a-rename": (
        _rename_and_change_activity,
        [
            (
                "step-added",
                "step report added: runs Encode 1; requires probe to have succeeded "
                "and encode to have completed",
                False,
            ),
            ("step-removed", "step notify removed (it ran Notify 1)", True),
        ],
    ),
    "requirement-added": (
        _set_requires("notify", "probe", ["encode", "completed"], "thumb"),
        [
            (
                "requirement-added",
                "step notify now requires thumb to have succeeded",
                False,
            ),
            ("ordering-changed", "step notify now runs after thumb", False),
        ],
    ),
    "requirement-removed-handler": (
        _set_requires("notify", "probe"),
        [
            (
                "requirement-removed",
                "step notify no longer requires encode (it required it to have "
                "completed)",
                True,
            ),
            (
                "ordering-changed",
                "step notify may now run before encode (no longer waiting for it)",
                False,
            ),
        ],
    ),
    "requirement-changed-still-handled": (
        _set_requires("notify", "probe", ["encode", "failed"]),
        [
            (
                "requirement-changed",
                "step notify now requires encode to have failed, no longer to have "
                "completed",
                False,
            )
        ],
    ),
    "requirement-changed-handler-lost": (
        _set_requires("notify", "probe", "encode"),
        [
            (
                "requirement-changed",
                "step notify now requires encode to have succeeded, no longer to have "
                "completed",
                True,
            )
        ],
    ),
    "requirements-reordered": (
        _set_requires("notify", ["encode", "completed"], "probe"),
        [
            (
                "requirements-reordered",
                "step notify lists the same requirements in another order",
                False,
            )
        ],
    ),
    "activity-version-changed": (
        _edit_activity("Encode", version="2"),
        [
            (
                "activity-version-changed",
                "activity Encode: version 1 → 2 (run by encode and thumb)",
                True,
            ),
            (
                "task-list-changed",
                "activity Encode: task list Encode-1 → Encode-2 (run by encode and "
                "thumb)",
                True,
            ),
        ],
    ),
    "task-list-changed": (
        _edit_activity("Encode", task_list="encoders"),
        [
            (
                "task-list-changed",
                "activity Encode: task list Encode-1 → encoders (run by encode and "
                "thumb)",
                True,
            )
        ],
    ),
    "activity-timeout-changed": (
        _edit_activity("Encode", start_to_close_timeout=600),
        [
            (
                "timeout-changed",
                "activity Encode: start_to_close_timeout 432000s → 600s (run by "
                "encode and thumb)",
                False,
            )
        ],
    ),
    "workflow-timeout-changed": (
        _set_timeout,
        [
            (
                "timeout-changed",
                "workflow Media: execution_start_to_close_timeout 518400s → 3600s",
                False,
            )
        ],
    ),
    "workflow-input-stricter": (
        _require_dst,
        [
            (
                "input-spec-changed",
                "workflow Media: input_spec is stricter: new required key `dst`",
                True,
            )
        ],
    ),
    "workflow-input-looser": (
        _require_nothing,
        [
            (
                "input-spec-changed",
                "workflow Media: input_spec is looser: `src` no longer required",
                False,
            )
        ],
    ),
    "workflow-input-descriptions-only": (
        _redescribe,
        [
            (
                "input-spec-changed",
                "workflow Media: input_spec changed without effect on validation "
                "(descriptions or formats only)",
                False,
            )
        ],
    ),
    "activity-input-stricter": (
        _encode_needs_meta,
        [
            (
                "input-spec-changed",
                "activity Encode: input_spec is stricter: new required key `meta` "
                "(run by encode and thumb)",
                True,
            )
        ],
    ),
    "output-added": (
        _output("duration", "$.duration"),
        [
            (
                "output-added",
                "activity Probe: output `duration` added ($.duration)",
                True,
            )
        ],
    ),
    "output-added-whole-result": (
        _output("everything", "$"),
        [("output-added", "activity Probe: output `everything` added ($)", False)],
    ),
    "output-removed-and-its-reader-rebound": (
        _drop_size,
        [
            (
                "output-removed",
                "activity Probe: output `size` removed; in the old plan notify (as "
                "probe.size) read it",
                False,
            ),
            (
                "input-rebound",
                "step notify's input now reads __input__.src and no longer reads "
                "probe.size",
                False,
            ),
        ],
    ),
    "output-selector-changed": (
        _output("size", "$.stats.size"),
        [
            (
                "output-selector-changed",
                "activity Probe: output `size` selector $.size → $.stats.size",
                True,
            )
        ],
    ),
    "output-selector-respelled": (
        _output("size", '$["size"]'),
        [
            (
                "output-selector-changed",
                'activity Probe: output `size` selector $.size → $["size"]',
                False,
            )
        ],
    ),
    "outputs-spec-removed": (
        _edit_activity("Probe", outputs_spec=None),
        [
            (
                "outputs-spec-changed",
                "activity Probe: no longer declares outputs (it declared `meta` and "
                "`size`): later steps see the whole result",
                True,
            )
        ],
    ),
    "template-text-changed": (
        _reformat_template,
        [
            (
                "template-text-changed",
                "step encode's input template text changed; it reads the same values",
                False,
            )
        ],
    ),
    "input-rebound-and-reordered": (
        _thumb_after_encode,
        [
            (
                "requirement-removed",
                "step thumb no longer requires probe (it required it to have "
                "succeeded)",
                False,
            ),
            (
                "requirement-added",
                "step thumb now requires encode to have succeeded",
                False,
            ),
            (
                "input-rebound",
                "step thumb's input now reads encode and no longer reads probe.meta",
                False,
            ),
            ("ordering-changed", "step thumb now runs after encode", False),
        ],
    ),
    "input-removed": (
        _drop_input,
        [("input-removed", "step notify no longer sends an input", False)],
    ),
    "step-activity-changed": (
        lambda plan: step(plan, "thumb").update(activity="Notify"),
        [
            (
                "step-activity-changed",
                "step thumb runs Notify 1 instead of Encode 1",
                True,
            )
        ],
    ),
    "order-changed": (
        _swap_listing,
        [
            (
                "order-changed",
                "workflow Media: the same dependencies in another topological order",
                False,
            )
        ],
    ),
    "workflow-type-changed": (
        _new_version_without_notify,
        [
            (
                "workflow-type-changed",
                "workflow type Media 1 becomes Media 2: a different workflow type",
                False,
            ),
            (
                "task-list-changed",
                "workflow Media: decision task list Media-1 → Media-2",
                False,
            ),
            # Running executions keep the old IR, so removing a step breaks none.
            ("step-removed", "step notify removed (it ran Notify 1)", False),
        ],
    ),
    "activity-added": (
        _add_activity_and_step,
        [
            ("activity-added", "activity Archive 1 added (run by archive)", True),
            (
                "step-added",
                "step archive added: runs Archive 1; requires notify to have succeeded",
                False,
            ),
        ],
    ),
    "activity-removed": (
        _remove_activity_and_step,
        [
            ("activity-removed", "activity Notify 1 removed", False),
            ("step-removed", "step notify removed (it ran Notify 1)", True),
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_change_kind(case: str) -> None:
    edit, expected = CASES[case]
    assert summary(diff_edit(edit)) == expected


def test_the_same_plan_has_no_change() -> None:
    diff = diff_ir(compile_plan(base_plan()), compile_plan(base_plan()))
    assert diff.identical
    assert diff.changes == ()
    assert diff.old == diff.new


def test_equal_hashes_are_trusted_without_comparing() -> None:
    # The hash covers every other key; the differ must not look further.
    old = compile_plan(base_plan())
    new = {**old, "steps": {}}
    assert diff_ir(old, new).identical


def test_activity_changes_name_every_step_that_runs_it() -> None:
    diff = diff_edit(_edit_activity("Encode", version="2"))
    assert [c.steps for c in diff.changes] == [("encode", "thumb")] * 2
    assert "workers for Encode 2 must poll Encode-2" in diff.changes[0].note


def test_a_removed_output_names_its_old_readers() -> None:
    removed = diff_edit(_drop_size).changes[0]
    assert removed.steps == ("notify",)
    assert removed.before == {"selector": "$.size", "steps": [{"key": "size"}]}


def test_breaking_changes_say_why() -> None:
    removed = diff_edit(_remove_step).changes[0]
    assert removed.note == (
        "a running execution that already scheduled notify fails at its next "
        "decision: its history names a step the new IR does not have"
    )
    lost = diff_edit(_set_requires("notify", "probe")).changes[0]
    assert lost.note == (
        "nothing handles a failure of encode any more: a running execution where "
        "encode failed fails at its next decision instead of running notify"
    )
    stricter = diff_edit(_require_dst).changes[0]
    assert "at every decision" in stricter.note


def test_a_new_workflow_type_keeps_running_executions_on_the_old_ir() -> None:
    changes = diff_edit(_new_version_without_notify).changes
    assert changes[0].before == {"name": "Media", "version": "1"}
    assert changes[0].after == {"name": "Media", "version": "2"}
    assert changes[0].note.startswith("running executions of Media 1 keep their old IR")
    assert changes[2].note.startswith("running executions keep the old IR")


def _hand_edited(edit: Callable[[dict[str, object]], None]) -> list[tuple[str, str]]:
    old = compile_plan(base_plan())
    new = json.loads(json.dumps(old))
    edit(new)
    return [(c.kind, c.message) for c in diff_ir(old, rehashed(new)).changes]


def test_unknown_step_keys_are_compared_value_by_value() -> None:
    def edit(ir: dict[str, object]) -> None:
        steps = ir["steps"]
        assert isinstance(steps, dict)
        steps["encode"]["priority"] = "high"
        steps["thumb"]["retries"] = {"max": 3}
        steps["notify"]["input"]["for_each"] = "__input__.sizes"

    assert _hand_edited(edit) == [
        ("step-key-changed", 'step encode: key `priority` added: "high"'),
        ("step-key-changed", 'step thumb: key `retries` added: {"max": 3}'),
        (
            "step-key-changed",
            'step notify: key `input.for_each` added: "__input__.sizes"',
        ),
    ]


def test_unknown_keys_changed_and_removed() -> None:
    old = compile_plan(base_plan())
    with_when = json.loads(json.dumps(old))
    with_when["steps"]["encode"]["priority"] = "a"
    changed = json.loads(json.dumps(with_when))
    changed["steps"]["encode"]["priority"] = "b"
    messages = [
        c.message for c in diff_ir(rehashed(with_when), rehashed(changed)).changes
    ]
    assert messages == ['step encode: key `priority` changed from "a" to "b"']
    removed = diff_ir(rehashed(with_when), old).changes
    assert [(c.message, c.breaking) for c in removed] == [
        ('step encode: key `priority` removed (was "a")', None)
    ]


def test_unknown_workflow_activity_and_ir_keys() -> None:
    def edit(ir: dict[str, object]) -> None:
        ir["plan_language"] = 2
        ir["workflow"]["child_policy"] = "ABANDON"  # type: ignore[index]
        ir["activities"]["Probe"]["retry"] = 2  # type: ignore[index]

    assert _hand_edited(edit) == [
        (
            "workflow-key-changed",
            'workflow Media: key `child_policy` changed from "TERMINATE" to "ABANDON"',
        ),
        ("ir-key-changed", "IR key `plan_language` changed from 1 to 2"),
        ("activity-key-changed", "activity Probe: key `retry` added: 2"),
    ]


def test_changes_are_ordered_workflow_activities_then_steps() -> None:
    def edit(plan: Plan) -> None:
        _set_requires("notify", "probe", ["encode", "failed"])(plan)
        _edit_activity("Notify", version="2")(plan)
        _edit_activity("Probe", version="2")(plan)
        _require_dst(plan)
        step(plan, "probe")["input"] = '{"src": {{__input__.src}}}'

    subjects = [c.subject.label for c in diff_edit(edit).changes]
    assert subjects == [
        "workflow Media",
        "activity Probe",
        "activity Probe",
        "activity Notify",
        "activity Notify",
        "step probe",
        "step notify",
    ]


def test_steps_that_only_follow_an_ordering_change_are_reported_with_it() -> None:
    def publish(plan: Plan) -> None:
        plan["steps"].append(
            {"name": "publish", "activity": "Notify", "requires": ["notify"]}
        )

    old = base_plan()
    publish(old)
    new = base_plan()
    publish(new)
    _set_requires("notify", "probe")(new)
    changes = diff_ir(compile_plan(old), compile_plan(new)).changes
    assert [(c.kind, c.message, c.steps) for c in changes] == [
        (
            "requirement-removed",
            "step notify no longer requires encode (it required it to have completed)",
            (),
        ),
        (
            "ordering-changed",
            "step notify may now run before encode (no longer waiting for it); "
            "1 step after it changes with it",
            ("publish",),
        ),
    ]
    assert changes[1].before == ["probe", "encode"]
    assert changes[1].after == ["probe"]


def test_a_step_inserted_between_two_makes_the_later_wait_for_it() -> None:
    def edit(plan: Plan) -> None:
        plan["steps"].insert(
            1, {"name": "check", "activity": "Notify", "requires": ["probe"]}
        )
        step(plan, "encode")["requires"] = ["probe", "check"]

    assert summary(diff_edit(edit)) == [
        (
            "step-added",
            "step check added: runs Notify 1; requires probe to have succeeded",
            False,
        ),
        (
            "requirement-added",
            "step encode now requires check to have succeeded",
            False,
        ),
    ]


def test_conditions_are_compared_by_meaning() -> None:
    from cpe.compiler import compile_text
    from cpe.compiler.diff import diff_ir

    def plan(condition: str) -> dict[str, object]:
        return compile_text(
            "name: C\nversion: '1'\nlanguage: 2\nactivities: [{name: A, version: '1'}]\n"
            f"steps:\n  - {{name: s, activity: A, when: '{condition}'}}\n"
        )

    changed = diff_ir(plan("__input__.x > 3"), plan("__input__.x > 4")).changes
    assert [(c.kind, c.message) for c in changed] == [
        ("condition-changed", "step s's condition __input__.x > 3 → __input__.x > 4")
    ]
    same = diff_ir(plan("__input__.x > 3"), plan("__input__.x  >  3")).changes
    assert [(c.kind, c.breaking) for c in same] == [("condition-text-changed", False)]
