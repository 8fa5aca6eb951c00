"""Every event type of SWF's model is handled or ignored on purpose, in one table."""

from __future__ import annotations

import botocore.session
import pytest

from cpe.runtime.decider import decide
from cpe.runtime.history import EVENT_HANDLING
from tests.decider.ir_factory import as_wait, plan_ir
from tests.history_builder import HistoryBuilder


def test_the_table_names_exactly_the_event_types_of_botocores_model() -> None:
    model = botocore.session.get_session().get_service_model("swf")
    assert set(EVENT_HANDLING) == set(model.shape_for("EventType").enum)


def test_every_entry_says_what_is_done_and_why() -> None:
    for event_type, handling in EVENT_HANDLING.items():
        assert handling in {
            "step",
            "timer",
            "signal",
            "closed",
            "workflow input",
            "cancel the workflow",
        } or (
            handling.startswith("ignore: ") and len(handling) > len("ignore: ") + 10
        ), event_type


HANDLED = sorted(
    event_type
    for event_type, handling in EVENT_HANDLING.items()
    if handling in {"step", "timer", "signal"}
)


@pytest.mark.parametrize("event_type", HANDLED)
def test_a_malformed_event_fails_the_workflow_naming_it(event_type: str) -> None:
    ir = as_wait(plan_ir("  - name: pause\n    activity: Probe\n"), "pause", 5)
    history = HistoryBuilder().started({})
    history.add(event_type, activityId=["not", "text"], timerId=7)
    decisions = decide(ir, history.events)
    assert [d["decisionType"] for d in decisions] == ["FailWorkflowExecution"]
    reason = decisions[0]["failWorkflowExecutionDecisionAttributes"]["reason"]
    assert f"event 4 ({event_type})" in reason


def test_an_unknown_event_type_fails_the_workflow_naming_it() -> None:
    ir = plan_ir("  - name: only\n    activity: Probe\n")
    history = HistoryBuilder().started({})
    history.add("WorkflowExecutionDreamed", dream="sheep")
    decisions = decide(ir, history.events)
    reason = decisions[0]["failWorkflowExecutionDecisionAttributes"]["reason"]
    assert "event 4 has an unknown type 'WorkflowExecutionDreamed'" in reason
