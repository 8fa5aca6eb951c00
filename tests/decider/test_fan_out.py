"""Fan-out steps: one task per item, caps on open tasks, gathered output."""

from __future__ import annotations

import json
from typing import Any

from cpe.runtime.decider import ANSWER_BYTES, decide, decide_state
from cpe.runtime.history import Folder
from tests.decider.helpers import attributes_of, only, summary
from tests.decider.ir_factory import plan_ir, with_for_each, with_retry
from tests.history_builder import HistoryBuilder

STEPS = """
  - name: probe
    activity: Probe
  - name: square
    activity: Square
    requires: [probe]
  - name: report
    activity: Report
    requires: [[square, completed]]
    input: '{"values": {{ square.value }}}'
"""


def fan_out_ir(**settings: Any) -> dict[str, Any]:
    ir = plan_ir(STEPS)
    ir["steps"]["report"]["input"]["references"] = [
        {"kind": "step", "step": "square", "path": ["value"]}
    ]
    return with_for_each(
        ir,
        "square",
        source="probe",
        path=[{"key": "numbers"}],
        as_name="n",
        template='{"n": {{ n }}}',
        **settings,
    )


def probed(ir: dict[str, Any], numbers: Any) -> HistoryBuilder:
    history = HistoryBuilder().started({})
    history.apply(decide(ir, history.events)).decision_task()
    return history.completed("probe", {"numbers": numbers})


def scheduled_ids(decisions: list[dict[str, Any]]) -> list[str]:
    return [
        attributes_of(d)["activityId"]
        for d in decisions
        if d["decisionType"] == "ScheduleActivityTask"
    ]


def test_each_item_is_a_task_with_the_item_in_its_input() -> None:
    ir = fan_out_ir()
    decisions = decide(ir, probed(ir, [1, 2, 3]).events)
    assert scheduled_ids(decisions) == ["square[0]", "square[1]", "square[2]"]
    inputs = [json.loads(attributes_of(d)["input"]) for d in decisions]
    assert inputs == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_the_output_is_in_item_order_whatever_the_order_items_end_in() -> None:
    ir = fan_out_ir()
    history = probed(ir, [1, 2, 3])
    history.apply(decide(ir, history.events))
    for index in (2, 0, 1):
        history.completed(f"square[{index}]", {"value": [1, 2, 3][index] ** 2})
    report = only(decide(ir, history.events), "ScheduleActivityTask")
    assert report["activityId"] == "report"
    assert json.loads(report["input"]) == {"values": [1, 4, 9]}


def test_max_concurrency_bounds_the_open_items() -> None:
    ir = fan_out_ir(max_concurrency=2)
    history = probed(ir, list(range(5)))
    first = decide(ir, history.events)
    assert scheduled_ids(first) == ["square[0]", "square[1]"]
    history.apply(first)
    assert decide(ir, history.events) == []
    history.completed("square[1]", {"value": 1})
    assert scheduled_ids(decide(ir, history.events)) == ["square[2]"]


def test_no_more_than_a_thousand_activities_are_open_in_an_execution() -> None:
    ir = fan_out_ir()
    history = probed(ir, list(range(1500)))
    first = decide(ir, history.events)
    assert len(scheduled_ids(first)) == 1000
    history.apply(first)
    assert decide(ir, history.events) == []
    history.completed("square[7]", {"value": 49})
    assert scheduled_ids(decide(ir, history.events)) == ["square[1000]"]


def test_tolerated_failures_leave_null_in_the_output() -> None:
    ir = fan_out_ir(tolerated_failures=1)
    history = probed(ir, [1, 2, 3])
    history.apply(decide(ir, history.events))
    history.completed("square[0]", {"value": 1}).failed("square[1]")
    history.completed("square[2]", {"value": 9})
    report = only(decide(ir, history.events), "ScheduleActivityTask")
    assert json.loads(report["input"]) == {"values": [1, None, 9]}


def test_more_failures_than_tolerated_fail_the_step() -> None:
    ir = fan_out_ir(tolerated_failures=1)
    ir["steps"]["report"]["requires"] = [{"step": "square", "status": "succeeded"}]
    history = probed(ir, [1, 2, 3])
    history.apply(decide(ir, history.events))
    history.failed("square[0]", reason="bad one").failed("square[2]")
    failure = only(decide(ir, history.events), "FailWorkflowExecution")
    assert failure["reason"].startswith("step square failed: 2 of 3 items failed")
    assert "item 0: bad one" in failure["reason"]


def test_an_empty_list_succeeds_at_once_with_an_empty_output() -> None:
    ir = fan_out_ir()
    report = only(decide(ir, probed(ir, []).events), "ScheduleActivityTask")
    assert json.loads(report["input"]) == {"values": []}


def test_a_path_that_gives_no_list_fails_the_workflow_in_the_plans_terms() -> None:
    ir = fan_out_ir()
    failure = only(decide(ir, probed(ir, {"a": 1}).events), "FailWorkflowExecution")
    assert failure["reason"] == (
        "step square runs for each item of probe.numbers, which is an object, "
        "not a list"
    )
    missing = only(decide(ir, probed(ir, None).events), "FailWorkflowExecution")
    assert "probe.numbers" in missing["reason"]


def test_the_workflow_input_can_give_the_items() -> None:
    ir = plan_ir(
        """
  - name: square
    activity: Square
"""
    )
    with_for_each(
        ir,
        "square",
        source="__input__",
        path=[{"key": "files"}],
        as_name="f",
        template='{"file": {{ f.name }}}',
        item_path=["name"],
    )
    history = HistoryBuilder().started({"files": [{"name": "a"}, {"name": "b"}]})
    decisions = decide(ir, history.events)
    assert [json.loads(attributes_of(d)["input"]) for d in decisions] == [
        {"file": "a"},
        {"file": "b"},
    ]
    bad = HistoryBuilder().started({"files": [{"nom": "a"}]})
    failure = only(decide(ir, bad.events), "FailWorkflowExecution")
    assert failure["reason"] == (
        "step square's input for item 0 uses f.name, which the item does not have"
    )


def test_each_item_is_retried_on_its_own() -> None:
    ir = with_retry(fan_out_ir(), "square", interval=3)
    history = probed(ir, [1, 2])
    history.apply(decide(ir, history.events))
    history.completed("square[0]", {"value": 1}).failed("square[1]")
    timer = only(decide(ir, history.events), "StartTimer")
    assert timer["timerId"] == "square[1]#2"
    history.apply(decide(ir, history.events)).timer_fired("square[1]#2")
    again = only(decide(ir, history.events), "ScheduleActivityTask")
    assert again["activityId"] == "square[1]#2"
    assert json.loads(again["input"]) == {"n": 2}
    history.apply(decide(ir, history.events)).decision_task()
    history.completed("square[1]#2", {"value": 4})
    report = only(decide(ir, history.events), "ScheduleActivityTask")
    assert json.loads(report["input"]) == {"values": [1, 4]}


def test_a_folded_state_gives_the_decisions_of_the_whole_history() -> None:
    ir = fan_out_ir(max_concurrency=3)
    history = probed(ir, list(range(6)))
    history.apply(decide(ir, history.events))
    history.completed("square[0]", {"value": 0})
    folder = Folder(ir)
    middle = len(history.events) // 2
    folder.fold(history.events[:middle])
    folder.fold(history.events[middle:])
    assert decide_state(ir, folder.snapshot()) == decide(ir, history.events)
    assert summary(decide(ir, history.events)) == [
        ("ScheduleActivityTask", "square[3]")
    ]


def test_one_answer_stays_within_swfs_request_size() -> None:
    ir = fan_out_ir()
    ir["steps"]["square"]["input"]["template"] = '{"pad": {{ n }}}'
    history = probed(ir, ["p" * 30_000 for _ in range(40)])
    first = decide(ir, history.events)
    assert 0 < len(first) < 40
    assert len(json.dumps(first).encode()) <= ANSWER_BYTES
    history.apply(first)
    history.completed("square[0]", {"value": 0})
    more = scheduled_ids(decide(ir, history.events))
    assert more[0] == f"square[{len(first)}]"
