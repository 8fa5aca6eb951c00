"""The decider on recorded-style histories: what it schedules, skips, completes, fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cpe.compiler import compile_file, compile_text
from cpe.runtime.decider import decide
from tests.history_builder import HistoryBuilder

FIXTURES = Path(__file__).parent.parent / "fixtures"
COMPAT = Path(__file__).parents[1] / "compat"


@pytest.fixture(scope="module")
def diamond() -> dict[str, Any]:
    return compile_file(FIXTURES / "plans" / "diamond.yml")


def kinds(decisions: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for decision in decisions:
        kind = decision["decisionType"]
        attributes = decision[kind[0].lower() + kind[1:] + "DecisionAttributes"]
        out.append((kind, attributes.get("activityId")))
    return out


def only(decisions: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    assert len(decisions) == 1, decisions
    assert decisions[0]["decisionType"] == kind, decisions
    attributes: dict[str, Any] = decisions[0][
        kind[0].lower() + kind[1:] + "DecisionAttributes"
    ]
    return attributes


def test_start_schedules_the_first_step_with_rendered_input(
    diamond: dict[str, Any],
) -> None:
    history = HistoryBuilder(("Diamond", "1")).started({"n": 3})
    attributes = only(decide(diamond, history.events), "ScheduleActivityTask")
    assert attributes["activityId"] == "probe"
    assert attributes["activityType"] == {"name": "Probe", "version": "1"}
    assert attributes["taskList"] == {"name": "Probe-1"}
    assert json.loads(attributes["input"]) == {"n": 3}
    assert attributes["heartbeatTimeout"] == "60"
    assert attributes["scheduleToStartTimeout"] == "43200"
    assert attributes["scheduleToCloseTimeout"] == "518400"
    assert attributes["startToCloseTimeout"] == "432000"


def test_outputs_spec_shapes_what_later_steps_see(diamond: dict[str, Any]) -> None:
    history = HistoryBuilder(("Diamond", "1")).started({"n": 3})
    history.scheduled("probe").completed("probe", {"size": 42, "other": 1})
    decisions = decide(diamond, history.events)
    assert kinds(decisions) == [
        ("ScheduleActivityTask", "left"),
        ("ScheduleActivityTask", "right"),
    ]
    left = decisions[0]["scheduleActivityTaskDecisionAttributes"]
    assert json.loads(left["input"]) == {"size": 42, "side": "left"}
    assert left["taskList"] == {"name": "work-list"}
    assert left["heartbeatTimeout"] == "30"


def test_nothing_to_do_while_steps_run(diamond: dict[str, Any]) -> None:
    history = HistoryBuilder(("Diamond", "1")).started({"n": 3})
    history.scheduled("probe").activity_started("probe").decision_task()
    assert decide(diamond, history.events) == []


def run_to_join(left_fails: bool) -> HistoryBuilder:
    history = HistoryBuilder(("Diamond", "1")).started({"n": 3})
    history.scheduled("probe").completed("probe", {"size": 1})
    history.scheduled("left").scheduled("right")
    if left_fails:
        history.failed("left", reason="disk full")
    else:
        history.completed("left", {"ok": True})
    history.completed("right", {"ok": True})
    return history


def test_join_waits_for_both_then_the_workflow_completes(
    diamond: dict[str, Any],
) -> None:
    history = run_to_join(left_fails=False)
    assert kinds(decide(diamond, history.events)) == [("ScheduleActivityTask", "join")]
    history.scheduled("join").completed("join", {"reported": True})
    # on_failure is skipped (left succeeded), and skipped counts as closed.
    result = json.loads(
        only(decide(diamond, history.events), "CompleteWorkflowExecution")["result"]
    )
    assert list(result) == ["probe", "left", "right", "join"]
    assert result["probe"] == {"size": 1, "whole": {"size": 1}}


def test_a_handled_failure_runs_the_handler_and_skips_the_join(
    diamond: dict[str, Any],
) -> None:
    history = run_to_join(left_fails=True)
    assert kinds(decide(diamond, history.events)) == [
        ("ScheduleActivityTask", "on_failure")
    ]
    history.scheduled("on_failure").completed("on_failure", {})
    result = json.loads(
        only(decide(diamond, history.events), "CompleteWorkflowExecution")["result"]
    )
    assert "join" not in result and "on_failure" in result


def test_an_unhandled_failure_fails_the_workflow_naming_the_step(
    diamond: dict[str, Any],
) -> None:
    history = HistoryBuilder(("Diamond", "1")).started({"n": 3})
    history.scheduled("probe").failed(
        "probe", reason="no such file", details="Traceback..."
    )
    attributes = only(decide(diamond, history.events), "FailWorkflowExecution")
    assert attributes["reason"] == "step probe failed: no such file"
    assert "Traceback..." in attributes["details"]


@pytest.mark.parametrize(
    ("close", "reason"),
    [
        (
            lambda h: h.timed_out("probe", "HEARTBEAT"),
            "step probe failed: timed out (HEARTBEAT)",
        ),
        (lambda h: h.canceled("probe"), "step probe failed: canceled"),
    ],
)
def test_timeouts_and_cancellations_of_a_step_are_failures(
    diamond: dict[str, Any], close: Any, reason: str
) -> None:
    history = HistoryBuilder(("Diamond", "1")).started({"n": 3}).scheduled("probe")
    close(history)
    assert (
        only(decide(diamond, history.events), "FailWorkflowExecution")["reason"]
        == reason
    )


def test_a_schedule_failure_fails_the_workflow_with_its_cause(
    diamond: dict[str, Any],
) -> None:
    history = HistoryBuilder(("Diamond", "1")).started({"n": 3})
    history.schedule_failed("probe", "ACTIVITY_TYPE_DEPRECATED")
    reason = only(decide(diamond, history.events), "FailWorkflowExecution")["reason"]
    assert (
        reason == "step probe failed: could not be scheduled: ACTIVITY_TYPE_DEPRECATED"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{not json", "the workflow input is not JSON"),
        (
            '{"n": "three"}',
            "the workflow input does not match the plan's input_spec: at /n:",
        ),
        ("{}", "'n' is a required property"),
    ],
)
def test_bad_workflow_input_fails_with_a_clear_reason(
    diamond: dict[str, Any], raw: str, expected: str
) -> None:
    history = HistoryBuilder(("Diamond", "1")).started(raw=raw)
    assert (
        expected
        in only(decide(diamond, history.events), "FailWorkflowExecution")["reason"]
    )


def test_a_step_input_not_matching_the_activity_input_spec_fails(
    diamond: dict[str, Any],
) -> None:
    history = HistoryBuilder(("Diamond", "1")).started({"n": 3})
    history.scheduled("probe").completed("probe", {"size": None, "x": 1})
    # "size" is present (as null) so the selector finds it; Work requires it,
    # with any type, so this passes; a missing key fails at the selector instead.
    history2 = HistoryBuilder(("Diamond", "1")).started({"n": 3})
    history2.scheduled("probe").completed("probe", {"x": 1})
    reason = only(decide(diamond, history2.events), "FailWorkflowExecution")["reason"]
    assert reason.startswith("step probe failed: output 'size' ($.size) found nothing")
    assert kinds(decide(diamond, history.events))[0] == ("ScheduleActivityTask", "left")


def test_cancel_request_cancels_running_activities_then_the_workflow(
    diamond: dict[str, Any],
) -> None:
    history = HistoryBuilder(("Diamond", "1")).started({"n": 3})
    history.scheduled("probe").activity_started("probe").cancel_requested()
    assert kinds(decide(diamond, history.events)) == [
        ("RequestCancelActivityTask", "probe")
    ]
    history.cancel_activity_requested("probe").decision_task()
    assert decide(diamond, history.events) == []
    history.canceled("probe")
    assert kinds(decide(diamond, history.events)) == [("CancelWorkflowExecution", None)]


def test_a_closed_execution_needs_no_decision(diamond: dict[str, Any]) -> None:
    history = HistoryBuilder(("Diamond", "1")).started({"n": 3})
    history.add("WorkflowExecutionTerminated", reason="x", childPolicy="TERMINATE")
    assert decide(diamond, history.events) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda e: e.append({"eventId": 99, "eventType": "NoSuchEvent"}),
            "unknown type",
        ),
        (lambda e: e.pop(0), "no WorkflowExecutionStarted"),
        (lambda e: e[-1].clear(), "numeric eventId"),
        (
            lambda e: e.append(
                {
                    "eventId": 99,
                    "eventType": "ActivityTaskCompleted",
                    "activityTaskCompletedEventAttributes": {"scheduledEventId": 1234},
                }
            ),
            "no ActivityTaskScheduled event has id 1234",
        ),
        (
            lambda e: e.append({"eventId": 99, "eventType": "ActivityTaskFailed"}),
            "has no activityTaskFailedEventAttributes",
        ),
    ],
)
def test_a_bad_history_fails_the_workflow_instead_of_raising(
    diamond: dict[str, Any], mutate: Any, expected: str
) -> None:
    history = HistoryBuilder(("Diamond", "1")).started({"n": 3})
    mutate(history.events)
    reason = only(decide(diamond, history.events), "FailWorkflowExecution")["reason"]
    assert reason.startswith("the history cannot be replayed")
    assert expected in reason


def test_events_in_reverse_order_give_the_same_decisions(
    diamond: dict[str, Any],
) -> None:
    history = run_to_join(left_fails=False)
    assert decide(diamond, list(reversed(history.events))) == decide(
        diamond, history.events
    )


def test_compat_plan_runs_validate_then_transcode() -> None:
    ir = compile_file(COMPAT / "ct_plan.yml")
    job = json.loads((COMPAT / "input_video1.json").read_text())
    job["client"] = json.loads((COMPAT / "clientConfigSample.json").read_text())
    history = HistoryBuilder().started(job)
    attributes = only(decide(ir, history.events), "ScheduleActivityTask")
    assert json.loads(attributes["input"]) == job
    metadata = {"format": {"duration": 3.0}, "streams": []}
    history.scheduled("ValidateAssetStep").completed("ValidateAssetStep", metadata)
    attributes = only(decide(ir, history.events), "ScheduleActivityTask")
    assert json.loads(attributes["input"]) == {
        "client": job["client"],
        "input_asset": job["input_asset"],
        "input_asset_metadata": metadata,
        "output_asset": job["output_asset"],
    }


def test_reading_the_output_of_a_failed_completed_requirement_is_explained() -> None:
    ir = compile_text(
        "name: C\nversion: '1'\nactivities: [{name: A, version: '1'}]\nsteps:\n"
        "  - {name: first, activity: A}\n"
        "  - {name: after, activity: A, requires: [[first, completed]],"
        " input: '{\"x\": {{ first.x }}}'}\n"
    )
    history = HistoryBuilder(("C", "1")).started({})
    history.scheduled("first").failed("first")
    reason = only(decide(ir, history.events), "FailWorkflowExecution")["reason"]
    assert (
        reason
        == "step after's input uses the output of first, but first failed and left no output"
    )


@pytest.fixture(scope="module")
def conditional() -> dict[str, Any]:
    return compile_file(FIXTURES / "plans" / "conditional.yml")


def test_a_false_condition_skips_the_step(conditional: dict[str, Any]) -> None:
    history = HistoryBuilder(("Conditional", "1")).started(
        {"mode": "sd", "height": 480}
    )
    history.scheduled("start").completed("start", {"mode": "sd"})
    assert kinds(decide(conditional, history.events)) == [
        ("ScheduleActivityTask", "after_start_succeeded")
    ]
    history.scheduled("after_start_succeeded").completed(
        "after_start_succeeded", {"mode": "x"}
    )
    result = json.loads(
        only(decide(conditional, history.events), "CompleteWorkflowExecution")["result"]
    )
    assert "hd_only" not in result


def test_a_true_condition_runs_the_step(conditional: dict[str, Any]) -> None:
    history = HistoryBuilder(("Conditional", "1")).started(
        {"mode": "hd", "height": 1080}
    )
    history.scheduled("start").completed("start", {"mode": "hd"})
    assert kinds(decide(conditional, history.events)) == [
        ("ScheduleActivityTask", "hd_only"),
        ("ScheduleActivityTask", "after_start_succeeded"),
    ]


def test_a_condition_sees_the_status_of_a_failed_requirement(
    conditional: dict[str, Any],
) -> None:
    history = HistoryBuilder(("Conditional", "1")).started(
        {"mode": "hd", "height": 1080}
    )
    history.scheduled("start").failed("start")
    # hd_only is skipped by its requirement; the other by its condition; start's
    # failure is handled (a `completed` requirement), so the workflow completes.
    result = only(decide(conditional, history.events), "CompleteWorkflowExecution")
    assert json.loads(result["result"]) == {}


def test_a_condition_that_cannot_be_evaluated_fails_the_workflow() -> None:
    ir = compile_text(
        "name: C\nversion: '1'\nlanguage: 2\nactivities: [{name: A, version: '1'}]\n"
        "steps:\n  - {name: s, activity: A, when: '__input__.size > 3'}\n"
    )
    history = HistoryBuilder(("C", "1")).started({"size": "big"})
    reason = only(decide(ir, history.events), "FailWorkflowExecution")["reason"]
    assert reason.startswith(
        "step s's condition (__input__.size > 3) cannot be evaluated: "
    )
    assert "'>' needs two numbers or two strings" in reason


def test_language_1_plans_compile_to_ir_without_when() -> None:
    ir = compile_file(COMPAT / "ct_plan.yml")
    assert all("when" not in step for step in ir["steps"].values())
    ir = compile_file(FIXTURES / "plans" / "conditional.yml")
    assert ir["plan_language"] == 2
    assert ir["steps"]["hd_only"]["when"]["references"] == [
        {"kind": "input", "path": ["height"]},
        {"kind": "input", "path": ["mode"]},
    ]


def test_selectors_with_indexes_and_wildcards_shape_outputs() -> None:
    ir = compile_text(
        "name: S\nversion: '1'\nactivities:\n"
        "  - name: A\n    version: '1'\n"
        "    outputs_spec: {sizes: '$.items[*].size', last: '$.items[-1].name',"
        " odd: '$[\"odd key\"]'}\n"
        "steps:\n  - {name: first, activity: A}\n"
        "  - {name: after, activity: A, requires: [first],"
        ' input: \'{"s": {{ first.sizes }}, "l": {{ first.last }}, "o": {{ first.odd }}}\'}\n'
    )
    history = HistoryBuilder(("S", "1")).started({})
    result = {
        "items": [{"size": 1, "name": "a"}, {"size": 2, "name": "b"}],
        "odd key": True,
    }
    history.scheduled("first").completed("first", result)
    attributes = only(decide(ir, history.events), "ScheduleActivityTask")
    assert json.loads(attributes["input"]) == {"s": [1, 2], "l": "b", "o": True}


def test_a_template_reading_a_missing_part_of_the_input_names_it() -> None:
    ir = compile_file(COMPAT / "ct_plan.yml")
    job = json.loads((COMPAT / "input_video1.json").read_text())  # no "client"
    history = HistoryBuilder().started(job)
    history.scheduled("ValidateAssetStep").completed(
        "ValidateAssetStep", {"format": {}}
    )
    reason = only(decide(ir, history.events), "FailWorkflowExecution")["reason"]
    assert reason == (
        "step TranscodeAssetStep's input uses __input__.client, which the workflow "
        "input does not have"
    )


def test_an_optional_input_guarded_by_default_is_not_an_error() -> None:
    ir = compile_text(
        "name: O\nversion: '1'\nactivities: [{name: A, version: '1'}]\nsteps:\n"
        "  - {name: s, activity: A, input: '{\"x\": {{ __input__.opt | default(null) }}}'}\n"
    )
    history = HistoryBuilder(("O", "1")).started({})
    attributes = only(decide(ir, history.events), "ScheduleActivityTask")
    assert json.loads(attributes["input"]) == {"x": None}
