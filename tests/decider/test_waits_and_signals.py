"""Wait steps (a durable timer) and signal steps (a signal, with an optional timeout)."""

from __future__ import annotations

import json
from typing import Any

from cpe.runtime.decider import decide
from tests.decider.helpers import only, summary
from tests.decider.ir_factory import as_signal, as_wait, plan_ir, with_output
from tests.history_builder import HistoryBuilder

STEPS = """
  - name: first
    activity: Probe
  - name: gate
    activity: Probe
    requires: [first]
  - name: report
    activity: Report
    requires: [gate]
"""


def first_done(ir: dict[str, Any]) -> HistoryBuilder:
    history = HistoryBuilder().started({})
    history.apply(decide(ir, history.events)).decision_task()
    return history.completed("first", {"x": 1})


def test_a_wait_step_starts_a_timer_named_after_it_and_succeeds_when_it_fires() -> None:
    ir = as_wait(plan_ir(STEPS), "gate", 30)
    history = first_done(ir)
    timer = only(decide(ir, history.events), "StartTimer")
    assert (timer["timerId"], timer["startToFireTimeout"]) == ("gate", "30")
    history.apply(decide(ir, history.events))
    assert decide(ir, history.events) == []
    history.timer_fired("gate")
    assert summary(decide(ir, history.events)) == [("ScheduleActivityTask", "report")]


def signal_ir(timeout: int | None = None) -> dict[str, Any]:
    ir = as_signal(plan_ir(STEPS), "gate", "approve", timeout)
    ir["steps"]["report"]["input"] = {
        "template": '{"approval": {{ gate }}}',
        "references": [{"kind": "step", "step": "gate", "path": []}],
    }
    return ir


def test_a_signal_step_waits_without_decisions_until_its_signal_comes() -> None:
    ir = signal_ir()
    history = first_done(ir)
    assert decide(ir, history.events) == []
    history.signaled("other")
    assert decide(ir, history.events) == []
    history.signaled("approve", '{"by": "ana"}')
    report = only(decide(ir, history.events), "ScheduleActivityTask")
    assert json.loads(report["input"]) == {"approval": {"by": "ana"}}


def test_a_signal_that_came_before_the_step_was_ready_counts() -> None:
    ir = signal_ir(timeout=60)
    history = HistoryBuilder().started({})
    history.apply(decide(ir, history.events)).decision_task()
    history.signaled("approve", "yes, go")  # not JSON: the text itself
    assert decide(ir, history.events) == []  # first is still running
    history.completed("first", {})
    report = only(decide(ir, history.events), "ScheduleActivityTask")
    assert json.loads(report["input"]) == {"approval": "yes, go"}


def test_a_signal_step_with_a_timeout_times_out_when_its_timer_fires_first() -> None:
    ir = signal_ir(timeout=3600)
    history = first_done(ir)
    timer = only(decide(ir, history.events), "StartTimer")
    assert (timer["timerId"], timer["startToFireTimeout"]) == (
        "gate@timeout",
        "3600",
    )
    history.apply(decide(ir, history.events)).timer_fired("gate@timeout")
    history.signaled("approve")  # too late
    failure = only(decide(ir, history.events), "FailWorkflowExecution")
    assert failure["reason"] == (
        "step gate failed: no signal approve came within 3600 s"
    )


def test_a_signal_in_time_succeeds_and_cancels_the_timeout_timer() -> None:
    ir = signal_ir(timeout=3600)
    history = first_done(ir)
    history.apply(decide(ir, history.events)).decision_task()
    history.signaled("approve", "1")
    assert summary(decide(ir, history.events)) == [
        ("ScheduleActivityTask", "report"),
        ("CancelTimer", "gate@timeout"),
    ]


def test_a_timed_out_signal_step_can_be_handled_by_a_later_step() -> None:
    ir = signal_ir(timeout=5)
    ir["steps"]["report"]["requires"] = [{"step": "gate", "status": "failed"}]
    ir["steps"]["report"]["input"] = None
    history = first_done(ir)
    history.apply(decide(ir, history.events)).timer_fired("gate@timeout")
    assert summary(decide(ir, history.events)) == [("ScheduleActivityTask", "report")]


def test_the_workflow_output_is_rendered_into_the_result() -> None:
    ir = with_output(
        as_wait(plan_ir(STEPS), "gate", 1),
        '{"x": {{ first.x }}, "waited": {{ gate }}, "in": {{ __input__ }}}',
        [{"kind": "step", "step": "first", "path": ["x"]}],
    )
    history = first_done(ir)
    history.apply(decide(ir, history.events)).timer_fired("gate")
    history.apply(decide(ir, history.events)).decision_task()
    history.completed("report", None)
    result = only(decide(ir, history.events), "CompleteWorkflowExecution")
    assert json.loads(result["result"]) == {"x": 1, "waited": None, "in": {}}


def test_an_output_that_cannot_be_rendered_fails_the_workflow_naming_why() -> None:
    ir = with_output(
        as_wait(plan_ir(STEPS), "gate", 1),
        '{"y": {{ first.y }}}',
        [{"kind": "step", "step": "first", "path": ["y"]}],
    )
    history = first_done(ir)
    history.apply(decide(ir, history.events)).timer_fired("gate")
    history.apply(decide(ir, history.events)).decision_task()
    history.completed("report", None)
    failure = only(decide(ir, history.events), "FailWorkflowExecution")
    assert failure["reason"] == (
        "the workflow output uses first.y, which its output does not have"
    )


def test_an_output_that_is_not_json_fails_the_workflow() -> None:
    ir = with_output(plan_ir("  - name: only\n    activity: Probe\n"), "not json")
    history = HistoryBuilder().started({})
    history.apply(decide(ir, history.events)).decision_task()
    history.completed("only", 1)
    failure = only(decide(ir, history.events), "FailWorkflowExecution")
    assert failure["reason"].startswith("the workflow output as rendered is not JSON")


def test_timer_events_the_plan_cannot_explain_fail_the_workflow() -> None:
    ir = as_wait(plan_ir(STEPS), "gate", 30)
    stranger = first_done(ir).timer_started("gate", control='{"timer": "mine"}')
    failure = only(decide(ir, stranger.events), "FailWorkflowExecution")
    assert "TimerStarted" in failure["reason"]
    assert "gate" in failure["reason"]
    unknown = first_done(ir)
    unknown.add("TimerFired", timerId="nobody", startedEventId=2)
    failure = only(decide(ir, unknown.events), "FailWorkflowExecution")
    assert "TimerFired" in failure["reason"] and "nobody" in failure["reason"]


def test_a_last_signal_step_cancels_its_timer_and_completes_in_one_answer() -> None:
    ir = as_signal(plan_ir("  - name: gate\n    activity: Probe\n"), "gate", "go", 60)
    history = HistoryBuilder().started({})
    history.apply(decide(ir, history.events)).decision_task()
    history.signaled("go", "[1]")
    decisions = decide(ir, history.events)
    assert summary(decisions) == [
        ("CancelTimer", "gate@timeout"),
        ("CompleteWorkflowExecution", None),
    ]
    assert json.loads(
        decisions[1]["completeWorkflowExecutionDecisionAttributes"]["result"]
    ) == {"gate": [1]}
