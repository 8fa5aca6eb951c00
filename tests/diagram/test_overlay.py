"""Folding a history into what the diagram shows: states, attempts, the close."""

from __future__ import annotations

import pytest

from cpe.compiler.diagram_model import END_ID, build
from cpe.compiler.diagram_overlay import overlay_from_history
from cpe.runtime.history import HistoryError, StepStatus
from tests.diagram.helpers import fixture_ir, transcode_in_flight, transcode_ir
from tests.history_builder import HistoryBuilder


def test_in_flight_history_gives_each_step_its_state() -> None:
    overlay = overlay_from_history(transcode_ir(), transcode_in_flight().events)
    assert overlay.status == {
        "ValidateAssetStep": StepStatus.SUCCEEDED,
        "TranscodeAssetStep": StepStatus.STARTED,
        "MakeThumbnailStep": StepStatus.SUCCEEDED,
        "WriteManifestStep": StepStatus.PENDING,
    }
    assert overlay.attempts == {
        "ValidateAssetStep": 1,
        "TranscodeAssetStep": 1,
        "MakeThumbnailStep": 1,
    }
    assert overlay.closed_by is None


def test_nodes_carry_look_and_status_line() -> None:
    ir = transcode_ir()
    diagram = build(ir, overlay_from_history(ir, transcode_in_flight().events))
    by_title = {n.title: n for n in diagram.nodes}
    assert by_title["TranscodeAssetStep"].look == "running"
    assert by_title["TranscodeAssetStep"].status == "▶ running · 1 attempt"
    assert by_title["WriteManifestStep"].status == "○ pending"
    assert by_title["end"].look == "pending"
    assert diagram.overlay


def test_attempts_count_every_scheduling_of_a_step() -> None:
    # Language 1 schedules a step once; a retry would schedule it again.
    history = HistoryBuilder(("Transcode", "2.0")).started({})
    history.scheduled("ValidateAssetStep").timed_out("ValidateAssetStep")
    history.scheduled("ValidateAssetStep")
    overlay = overlay_from_history(transcode_ir(), history.events)
    assert overlay.attempts == {"ValidateAssetStep": 2}
    assert overlay.status["ValidateAssetStep"] is StepStatus.SCHEDULED
    node = build(transcode_ir(), overlay).nodes[1]
    assert node.status == "⋯ scheduled · 2 attempts"


def test_skipped_steps_are_derived_as_the_decider_does() -> None:
    ir = fixture_ir("diamond.yml")
    history = HistoryBuilder(("Diamond", "1")).started({"n": 1})
    history.scheduled("probe").completed("probe", {"size": 3})
    history.scheduled("left").scheduled("right")
    history.failed("left", reason="disk full").completed("right")
    overlay = overlay_from_history(ir, history.events)
    assert overlay.status["join"] is StepStatus.SKIPPED
    assert overlay.reasons["join"] == "left is failed, not succeeded"
    assert overlay.status["on_failure"] is StepStatus.PENDING
    assert overlay.reasons["left"] == "disk full"


@pytest.mark.parametrize(
    ("closing", "look", "word"),
    [
        ("WorkflowExecutionCompleted", "succeeded", "completed"),
        ("WorkflowExecutionFailed", "failed", "failed"),
        ("WorkflowExecutionTimedOut", "timed_out", "timed out"),
        ("WorkflowExecutionCanceled", "canceled", "canceled"),
        ("WorkflowExecutionTerminated", "failed", "terminated"),
    ],
)
def test_a_closed_workflow_marks_the_end(closing: str, look: str, word: str) -> None:
    history = transcode_in_flight()
    history.add(closing)
    ir = transcode_ir()
    overlay = overlay_from_history(ir, history.events)
    assert overlay.closed_by == closing
    end = build(ir, overlay).nodes[-1]
    assert end.id == END_ID
    assert end.look == look
    assert end.status is not None and end.status.endswith(word)


def test_events_newest_first_are_put_in_order() -> None:
    events = transcode_in_flight().events
    ir = transcode_ir()
    assert overlay_from_history(ir, events[::-1]) == overlay_from_history(ir, events)


def test_a_history_of_another_plan_is_a_history_error() -> None:
    history = HistoryBuilder().started({}).scheduled("NoSuchStep")
    with pytest.raises(HistoryError, match="NoSuchStep"):
        overlay_from_history(transcode_ir(), history.events)
