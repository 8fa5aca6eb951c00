"""Properties of the decider over random histories of a plan using every
language-2 feature: it never raises, replays alike, and only gives decisions
that SWF's model accepts."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
from botocore.model import Shape
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpe.runtime.decider import decide, decide_state
from cpe.runtime.history import EVENT_HANDLING, Folder
from tests.decider.helpers import attributes_of
from tests.decider.ir_factory import (
    as_signal,
    as_wait,
    plan_ir,
    with_for_each,
    with_output,
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
    requires: [probe]
  - name: approval
    activity: Probe
  - name: report
    activity: Report
    requires: [[square, completed], pause, [approval, completed]]
"""


def _ir() -> dict[str, Any]:
    ir = plan_ir(STEPS)
    with_retry(ir, "probe", max_attempts=3, interval=2, jitter=True)
    with_for_each(
        ir,
        "square",
        source="probe",
        path=[{"key": "numbers"}],
        as_name="n",
        template='{"n": {{ n }}}',
        max_concurrency=2,
        tolerated_failures=1,
    )
    with_retry(ir, "square", max_attempts=2, outcomes=["timed_out"])
    as_wait(ir, "pause", 5)
    as_signal(ir, "approval", "approve", timeout=60)
    return with_output(
        ir,
        '{"squares": {{ square.value }}, "approval": {{ approval | default(null) }}}',
        [{"kind": "step", "step": "square", "path": ["value"]}],
    )


IR = _ir()
MODEL = botocore.session.get_session().get_service_model("swf")
RESPOND = MODEL.operation_model("RespondDecisionTaskCompleted").input_shape
CLOSING = {
    "CompleteWorkflowExecution",
    "FailWorkflowExecution",
    "CancelWorkflowExecution",
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["numbers", "value", "x"]), inner, max_size=2)
    ),
    max_leaves=6,
)


# Mostly what a run does; a cancel request or a senseless event now and then.
ACTIONS = (
    ["decide"] * 16 + ["close"] * 12 + ["fire"] * 4 + ["signal"] * 2 + ["cancel", "raw"]
)

results = (
    st.fixed_dictionaries({"numbers": st.lists(st.integers(0, 5), max_size=4)})
    | st.fixed_dictionaries({"value": st.integers(0, 9)})
    | json_values
)


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Histories grown by answering with the decider's own decisions, with
    activities, timers, signals and cancel requests coming at random between,
    and now and then an event that makes no sense."""
    builder = HistoryBuilder()
    builder.started(draw(st.sampled_from([{}, None, {"n": 1}])))
    open_tasks: list[str] = []
    open_timers: list[str] = []
    for _ in range(draw(st.integers(0, 14))):
        action = draw(
            st.sampled_from(
                [
                    "decide",
                    "decide",
                    "close",
                    "close",
                    "fire",
                    "signal",
                    "cancel",
                    "raw",
                ]
            )
        )
        if action == "decide":
            decisions = decide(IR, builder.events)
            if any(d["decisionType"] in CLOSING for d in decisions):
                break
            builder.apply(decisions).decision_task()
            for decision in decisions:
                attributes = attributes_of(decision)
                if decision["decisionType"] == "ScheduleActivityTask":
                    open_tasks.append(attributes["activityId"])
                elif decision["decisionType"] == "StartTimer":
                    open_timers.append(attributes["timerId"])
                elif decision["decisionType"] == "CancelTimer":
                    open_timers.remove(attributes["timerId"])
        elif action == "close" and open_tasks:
            task = open_tasks.pop(draw(st.integers(0, len(open_tasks) - 1)))
            how = draw(
                st.sampled_from(["completed", "failed", "timed_out", "canceled"])
            )
            if how == "completed":
                builder.completed(task, draw(results))
            else:
                getattr(builder, how)(task)
        elif action == "fire" and open_timers:
            builder.timer_fired(open_timers.pop(0))
        elif action == "signal":
            builder.signaled(
                draw(st.sampled_from(["approve", "other"])),
                draw(st.none() | st.sampled_from(['{"ok": 1}', "text", ""])),
            )
        elif action == "cancel":
            builder.cancel_requested()
        elif action == "raw":
            builder.add(
                draw(st.sampled_from(sorted(EVENT_HANDLING))),
                **draw(
                    st.dictionaries(
                        st.sampled_from(
                            ["activityId", "timerId", "scheduledEventId", "control"]
                        ),
                        json_values,
                        max_size=3,
                    )
                ),
            )
    return builder.events


def _too_long(value: Any, shape: Shape, where: str) -> list[str]:
    """Values longer than the `max` of SWF's model (the validator checks only min)."""
    problems: list[str] = []
    limit = shape.metadata.get("max")
    if isinstance(value, str) and limit is not None and len(value) > limit:
        problems.append(f"{where} is {len(value)} long, more than {limit}")
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                problems += _too_long(value[name], member, f"{where}.{name}")
    if shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            problems += _too_long(item, shape.member, f"{where}[{index}]")
    return problems


def assert_swf_accepts(decisions: list[dict[str, Any]]) -> None:
    request = {"taskToken": "token", "decisions": decisions}
    report = ParamValidator().validate(request, RESPOND)
    assert not report.has_errors(), report.generate_report()
    assert _too_long(request, RESPOND, "request") == []
    closing = [i for i, d in enumerate(decisions) if d["decisionType"] in CLOSING]
    assert closing in ([], [len(decisions) - 1]), decisions
    open_ids = [
        attributes_of(d)["activityId"]
        for d in decisions
        if d["decisionType"] == "ScheduleActivityTask"
    ]
    assert len(open_ids) == len(set(open_ids))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_decide_never_raises_and_swf_accepts_its_decisions(
    events: list[dict[str, Any]],
) -> None:
    decisions = decide(IR, events)
    assert_swf_accepts(decisions)
    json.dumps(decisions)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.integers(0, 60))
def test_folding_in_batches_and_replaying_give_the_same_decisions(
    events: list[dict[str, Any]], cut: int
) -> None:
    whole = decide(IR, events)
    assert decide(IR, events) == whole
    folder = Folder(IR)
    try:
        folder.fold(events[:cut])
        folder.fold(events[cut:])
    except Exception:  # the whole history does not fold: decide failed it
        assert [d["decisionType"] for d in whole] == ["FailWorkflowExecution"]
        return
    assert decide_state(IR, folder.snapshot()) == whole


def test_never_more_items_open_than_max_concurrency() -> None:
    builder = HistoryBuilder().started({})
    builder.apply(decide(IR, builder.events)).decision_task()
    builder.completed("probe", {"numbers": list(range(7))})
    open_items: set[str] = set()
    for round_number in range(20):
        decisions = decide(IR, builder.events)
        if any(d["decisionType"] in CLOSING for d in decisions):
            break
        builder.apply(decisions).decision_task()
        for decision in decisions:
            if decision["decisionType"] == "ScheduleActivityTask":
                activity_id = attributes_of(decision)["activityId"]
                if activity_id.startswith("square"):
                    open_items.add(activity_id)
        assert len(open_items) <= 2
        if open_items:
            done = sorted(open_items)[0]
            open_items.remove(done)
            builder.completed(done, {"value": round_number})
