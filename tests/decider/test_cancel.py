"""A cancel request: every open activity and timer is canceled, then the workflow."""

from __future__ import annotations

from cpe.runtime.decider import decide
from tests.decider.helpers import summary
from tests.decider.ir_factory import as_wait, plan_ir, with_for_each, with_retry
from tests.history_builder import HistoryBuilder

STEPS = """
  - name: probe
    activity: Probe
  - name: pause
    activity: Probe
  - name: square
    activity: Square
    requires: [probe]
"""


def running_ir() -> dict[str, object]:
    ir = as_wait(plan_ir(STEPS), "pause", 600)
    with_for_each(
        ir,
        "square",
        source="probe",
        path=[],
        as_name="n",
        template='{"n": {{ n }}}',
    )
    return with_retry(ir, "square", interval=100)


def test_cancel_requests_every_open_activity_and_timer_then_waits() -> None:
    ir = running_ir()
    history = HistoryBuilder().started({})
    history.apply(decide(ir, history.events)).decision_task()
    history.completed("probe", [1, 2, 3])
    history.apply(decide(ir, history.events))
    history.failed("square[1]")  # now waiting on its retry timer
    history.apply(decide(ir, history.events)).cancel_requested()
    decisions = decide(ir, history.events)
    assert summary(decisions) == [
        ("RequestCancelActivityTask", "square[0]"),
        ("RequestCancelActivityTask", "square[2]"),
        ("CancelTimer", "pause"),
        ("CancelTimer", "square[1]#2"),
    ]
    history.apply(decisions).decision_task()
    assert decide(ir, history.events) == []  # the activities have not answered
    history.canceled("square[0]").completed("square[2]", {"value": 4})
    assert summary(decide(ir, history.events)) == [("CancelWorkflowExecution", None)]


def test_cancel_with_only_timers_open_closes_at_once() -> None:
    ir = as_wait(plan_ir("  - name: pause\n    activity: Probe\n"), "pause", 60)
    history = HistoryBuilder().started({})
    history.apply(decide(ir, history.events)).cancel_requested()
    assert summary(decide(ir, history.events)) == [
        ("CancelTimer", "pause"),
        ("CancelWorkflowExecution", None),
    ]
