"""Properties of `decide` over generated histories: it never raises, it is pure."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cpe.compiler import compile_file
from cpe.runtime.decider import decide
from cpe.runtime.history import EVENT_HANDLING
from tests.history_builder import HistoryBuilder

IR = compile_file(Path(__file__).parent.parent / "fixtures" / "plans" / "diamond.yml")
STEPS = ["probe", "left", "right", "join", "on_failure", "nobody"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Plausible histories, mutated now and then into implausible ones."""
    builder = HistoryBuilder(("Diamond", "1"))
    builder.started(draw(st.sampled_from([{"n": 1}, {"n": "x"}, None, {}])))
    for _ in range(draw(st.integers(0, 12))):
        step = draw(st.sampled_from(STEPS))
        action = draw(
            st.sampled_from(
                ["schedule", "complete", "fail", "time_out", "cancel", "raw"]
            )
        )
        if action == "schedule":
            builder.scheduled(step)
        elif step in builder._scheduled and action == "complete":
            builder.completed(step, draw(json_values))
        elif step in builder._scheduled and action == "fail":
            builder.failed(step)
        elif step in builder._scheduled and action == "time_out":
            builder.timed_out(step)
        elif action == "cancel":
            builder.cancel_requested()
        else:
            event_type = draw(st.sampled_from(sorted(EVENT_HANDLING)))
            builder.add(
                event_type,
                **draw(
                    st.dictionaries(
                        st.sampled_from(
                            [
                                "activityId",
                                "scheduledEventId",
                                "result",
                                "input",
                                "cause",
                            ]
                        ),
                        json_values,
                        max_size=3,
                    )
                ),
            )
    return builder.events


@settings(max_examples=300, deadline=None)
@given(histories())
def test_decide_never_raises_and_gives_valid_decisions(
    events: list[dict[str, Any]],
) -> None:
    decisions = decide(IR, events)
    assert isinstance(decisions, list)
    for decision in decisions:
        kind = decision["decisionType"]
        attributes = decision[kind[0].lower() + kind[1:] + "DecisionAttributes"]
        if kind == "FailWorkflowExecution":
            assert 0 < len(attributes["reason"]) <= 256
        json.dumps(decision)  # what RespondDecisionTaskCompleted sends is JSON


@settings(max_examples=100, deadline=None)
@given(histories())
def test_decide_is_pure(events: list[dict[str, Any]]) -> None:
    before = copy.deepcopy(events)
    first = decide(IR, events)
    assert events == before  # the history is not altered
    assert decide(IR, copy.deepcopy(events)) == first
