"""The text and JSON forms of a diff."""

from __future__ import annotations

import json

from cpe.compiler.diff import PlanDiff, diff_ir
from tests.diff.plans import Plan, activity, base_plan, compile_plan, diff_edit, step


def _mixed(plan: Plan) -> None:
    step(plan, "notify")["requires"] = ["probe"]
    activity(plan, "Encode")["input_spec"] = {"type": "array"}
    plan["default_task_start_to_close_timeout"] = 60


def test_text_is_grouped_by_subject_and_marks_breaking_changes() -> None:
    diff = diff_edit(_mixed)
    assert diff.render_text() == "\n".join(
        [
            "Media 1 (same workflow type: running executions replay it): 4 changes, "
            "1 breaking, 1 may break",
            f"  old {diff.old.content_hash}",
            f"  new {diff.new.content_hash}",
            "",
            "workflow Media",
            "  - workflow Media: task_start_to_close_timeout 300s → 60s  "
            "[timeout-changed]",
            "",
            "activity Encode",
            '  ? activity Encode: input_spec changed: `type` at the root: "object" → '
            '"array" (run by encode and thumb)  [input-spec-changed]',
            "      the new schema may reject data the old one accepted; the decider "
            "checks a step's input against it before scheduling, so a running "
            "execution fails at a step it has not scheduled yet when that step's "
            "input fails the new schema",
            "",
            "step notify",
            "  ! step notify no longer requires encode (it required it to have "
            "completed)  [requirement-removed]",
            "      nothing handles a failure of encode any more: a running execution "
            "where encode failed fails at its next decision instead of running notify",
            "  - step notify may now run before encode (no longer waiting for it)  "
            "[ordering-changed]",
            "",
            "! breaks running executions   ? may break them   - does not",
            "",
        ]
    )


def test_text_of_a_new_workflow_type_names_both() -> None:
    def edit(plan: Plan) -> None:
        plan["version"] = "2"

    first_line = diff_edit(edit).render_text().splitlines()[0]
    assert first_line == "Media 1 → Media 2: 2 changes"


def test_text_of_identical_plans() -> None:
    ir = compile_plan(base_plan())
    assert diff_ir(ir, ir).render_text() == (
        f"no behavioural change: Media 1 is identical ({ir['content_hash']})\n"
    )


def test_text_is_stable() -> None:
    assert diff_edit(_mixed).render_text() == diff_edit(_mixed).render_text()


def test_json_round_trips() -> None:
    diff = diff_edit(_mixed)
    data = json.loads(json.dumps(diff.as_json()))
    assert data == diff.as_json()
    assert PlanDiff.from_json(data) == diff


def test_json_summary_and_change_shape() -> None:
    data = diff_edit(_mixed).as_json()
    assert data["identical"] is False
    assert data["summary"] == {"changes": 4, "breaking": 1, "maybe_breaking": 1}
    assert data["old"]["name"] == "Media" and data["old"]["version"] == "1"
    assert data["changes"][0] == {
        "kind": "timeout-changed",
        "subject": {"kind": "workflow", "name": "Media"},
        "key": "task_start_to_close_timeout",
        "message": "workflow Media: task_start_to_close_timeout 300s → 60s",
        "before": "300",
        "after": "60",
        "breaking": False,
        "note": "applies to executions started from now on; SWF keeps the defaults "
        "registered with the workflow type, so under the same name and version it "
        "takes effect only where a start request names its own timeout",
        "steps": [],
    }


def test_json_of_identical_plans() -> None:
    ir = compile_plan(base_plan())
    data = diff_ir(ir, ir).as_json()
    assert data["identical"] is True
    assert data["changes"] == []
    assert data["summary"] == {"changes": 0, "breaking": 0, "maybe_breaking": 0}
