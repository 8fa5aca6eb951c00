"""The progress lines of `cpec run` for retries, items, timers and signals."""

from __future__ import annotations

import io

from cpe.runtime.decider import decide
from cpe.runtime.progress import ProgressPrinter
from tests.decider.ir_factory import (
    as_signal,
    as_wait,
    plan_ir,
    with_for_each,
    with_retry,
)
from tests.history_builder import HistoryBuilder

STEPS = """
  - name: probe
    activity: Probe
  - name: square
    activity: Square
    requires: [probe]
  - name: pause
    activity: Probe
    requires: [square]
  - name: approval
    activity: Probe
    requires: [pause]
"""


def test_retries_items_timers_and_signals_have_lines() -> None:
    ir = with_retry(plan_ir(STEPS), "probe", interval=4)
    with_for_each(
        ir, "square", source="probe", path=[], as_name="n", template="{{ n }}"
    )
    as_wait(ir, "pause", 30)
    as_signal(ir, "approval", "approve", timeout=60)
    history = HistoryBuilder().started({})
    stream = io.StringIO()
    printer = ProgressPrinter(stream, ir)

    def step() -> None:
        history.apply(decide(ir, history.events)).decision_task()
        printer.show(history.events)

    step()
    history.failed("probe", reason="flaky")
    step()
    history.timer_fired("probe#2")
    step()
    history.completed("probe#2", [2, 3])
    step()
    history.completed("square[0]", {"value": 4}).completed("square[1]", {"value": 9})
    step()
    history.timer_fired("pause")
    step()
    history.signaled("approve", "ok")
    step()
    lines = [line.split() for line in stream.getvalue().splitlines()]
    said = [" ".join(words) for words in lines]
    assert "probe failed: flaky; will retry (attempt 2 of 3)" in said
    assert "probe#2 retry in 4 s" in said
    assert "probe#2 scheduled (Probe 1)" in said
    assert "square[1] scheduled (Square 1)" in said
    assert "square 2 items; succeeded" in said
    assert "pause waiting 30 s" in said
    assert "pause waited; succeeded" in said
    assert "approval waiting for a signal, at most 60 s" in said
    assert "signal approve came in" in said
    assert "approval signal approve; succeeded" in said
