"""Retries of plan language 2: durable timers, backoff, jitter, outcomes, limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cpe.runtime.decider import decide
from cpe.runtime.retries import retry_delay
from tests.decider.helpers import only, summary
from tests.decider.ir_factory import RETRY_DEFAULTS, plan_ir, with_retry
from tests.history_builder import HistoryBuilder

STEPS = """
  - name: probe
    activity: Probe
    input: '{"n": {{ __input__.n }}}'
  - name: report
    activity: Report
    requires: [probe]
"""


def ir_with(**retry: Any) -> dict[str, Any]:
    return with_retry(plan_ir(STEPS), "probe", **retry)


def failed_once(ir: dict[str, Any]) -> HistoryBuilder:
    history = HistoryBuilder().started({"n": 2})
    history.apply(decide(ir, history.events)).decision_task()
    return history.failed("probe", reason="flaky")


def test_a_failed_attempt_starts_a_timer_and_leaves_the_step_open() -> None:
    ir = ir_with(interval=5)
    history = failed_once(ir)
    timer = only(decide(ir, history.events), "StartTimer")
    assert timer["timerId"] == "probe#2"
    assert timer["startToFireTimeout"] == "5"
    assert json.loads(timer["control"]) == {
        "timer": "retry",
        "step": "probe",
        "item": None,
        "attempt": 2,
    }


def test_the_fired_timer_schedules_the_next_attempt_with_the_same_input() -> None:
    ir = ir_with()
    history = failed_once(ir)
    history.apply(decide(ir, history.events))
    assert decide(ir, history.events) == []  # the timer is open: nothing to do
    history.timer_fired("probe#2")
    attributes = only(decide(ir, history.events), "ScheduleActivityTask")
    assert attributes["activityId"] == "probe#2"
    assert json.loads(attributes["input"]) == {"n": 2}


def test_a_later_attempt_that_succeeds_lets_the_workflow_go_on() -> None:
    ir = ir_with()
    history = failed_once(ir)
    history.apply(decide(ir, history.events)).timer_fired("probe#2")
    history.apply(decide(ir, history.events)).decision_task()
    history.completed("probe#2", {"ok": True})
    assert summary(decide(ir, history.events)) == [("ScheduleActivityTask", "report")]


def waits(ir: dict[str, Any], failures: int) -> list[int]:
    """The timer seconds after each of `failures` failed attempts."""
    history = HistoryBuilder().started({"n": 2})
    history.apply(decide(ir, history.events)).decision_task()
    seconds: list[int] = []
    for attempt in range(1, failures + 1):
        activity_id = "probe" if attempt == 1 else f"probe#{attempt}"
        history.failed(activity_id)
        decisions = decide(ir, history.events)
        timer = only(decisions, "StartTimer")
        seconds.append(int(timer["startToFireTimeout"]))
        history.apply(decisions).timer_fired(timer["timerId"])
        history.apply(decide(ir, history.events)).decision_task()
    return seconds


def test_the_wait_grows_by_the_backoff_rate_up_to_max_interval() -> None:
    ir = ir_with(max_attempts=6, interval=2, backoff_rate=3, max_interval=40)
    assert waits(ir, 5) == [2, 6, 18, 40, 40]


def test_jitter_draws_within_half_to_all_of_the_wait_and_replays_alike() -> None:
    ir = ir_with(max_attempts=5, interval=100, backoff_rate=1, jitter=True)
    first = waits(ir, 4)
    assert first == waits(ir, 4)
    assert all(50 <= seconds <= 100 for seconds in first)
    assert len(set(first)) > 1  # seeded by the attempt and the closing event


def test_jitter_depends_on_the_seed_only() -> None:
    retry = {**RETRY_DEFAULTS, "interval": 1000, "jitter": True}
    drawn = {
        retry_delay(retry, step="s", item=None, failed_attempt=1, closing_event_id=i)
        for i in range(50)
    }
    assert len(drawn) > 10
    assert all(500 <= seconds <= 1000 for seconds in drawn)
    again = retry_delay(
        retry, step="s", item=None, failed_attempt=1, closing_event_id=7
    )
    assert again == retry_delay(
        retry, step="s", item=None, failed_attempt=1, closing_event_id=7
    )


def test_the_last_attempts_failure_fails_the_workflow_with_its_reason() -> None:
    ir = ir_with(max_attempts=2, interval=0)
    history = failed_once(ir)
    history.apply(decide(ir, history.events)).timer_fired("probe#2")
    history.apply(decide(ir, history.events)).decision_task()
    history.failed("probe#2", reason="still broken", details="trace 2")
    failure = only(decide(ir, history.events), "FailWorkflowExecution")
    assert failure["reason"] == "step probe failed after 2 attempts: still broken"
    assert "trace 2" in failure["details"]


def test_outcomes_not_listed_are_not_retried() -> None:
    ir = ir_with(outcomes=["timed_out"])
    failure = only(decide(ir, failed_once(ir).events), "FailWorkflowExecution")
    assert failure["reason"] == "step probe failed: flaky"


def test_a_time_out_is_retried_when_listed() -> None:
    ir = ir_with(outcomes=["timed_out"])
    history = HistoryBuilder().started({"n": 2})
    history.apply(decide(ir, history.events)).decision_task()
    history.timed_out("probe")
    assert summary(decide(ir, history.events)) == [("StartTimer", "probe#2")]


def test_schedule_activity_task_failed_is_never_retried() -> None:
    ir = ir_with()
    history = HistoryBuilder().started({"n": 2}).schedule_failed("probe")
    failure = only(decide(ir, history.events), "FailWorkflowExecution")
    assert "could not be scheduled" in failure["reason"]


def test_a_retry_timer_that_cannot_start_fails_the_step() -> None:
    ir = ir_with()
    history = failed_once(ir).start_timer_failed("probe#2")
    failure = only(decide(ir, history.events), "FailWorkflowExecution")
    assert "probe#2 could not be started" in failure["reason"]


@pytest.mark.parametrize("attempt", ["probe#4", "probe[1]"])
def test_an_activity_id_the_plan_cannot_give_fails_the_workflow(attempt: str) -> None:
    ir = ir_with()
    history = HistoryBuilder().started({"n": 2}).scheduled(attempt)
    failure = only(decide(ir, history.events), "FailWorkflowExecution")
    assert "the history cannot be replayed" in failure["reason"]
    assert attempt in failure["reason"]


def test_a_long_reason_of_the_last_attempt_is_shortened() -> None:
    ir = ir_with(max_attempts=1)
    history = HistoryBuilder().started({"n": 2})
    history.apply(decide(ir, history.events)).decision_task()
    history.failed("probe", reason="x" * 5000, details="d" * 100_000)
    failure = only(decide(ir, history.events), "FailWorkflowExecution")
    assert len(failure["reason"]) <= 256
    assert len(failure["details"]) <= 32_768
