"""Diagrams of plan language 2: wait and signal steps, fan-out with its item
and cap, retries, the workflow's output, and attempts counted per step."""

from __future__ import annotations

from typing import Any

from cpe.compiler.diagram_dot import to_dot
from cpe.compiler.diagram_mermaid import to_mermaid
from cpe.compiler.diagram_model import END_ID, build, step_annotations
from cpe.compiler.diagram_overlay import attempts
from tests.diagram.helpers import fixture_ir, mermaid_decode, parse_mermaid


def test_each_feature_is_written_on_its_node() -> None:
    ir = fixture_ir("language2.yml")
    lines = {name: step_annotations(ir, name) for name in ir["order"]}
    assert lines == {
        "probe": ["Echo 1", "retry: up to 3 attempts"],
        "square": ["Echo 1", "for each n in probe.numbers · at most 2 at once"],
        "each_input": [
            "Echo 1",
            "for each number in __input__.numbers",
            "retry: up to 2 attempts",
        ],
        "pause": ["wait 1 s"],
        "approval": ["signal approve · timeout 3600 s"],
        "report": ["Echo 1"],
    }


def test_the_end_node_shows_the_output() -> None:
    diagram = build(fixture_ir("language2.yml"))
    end = diagram.nodes[-1]
    assert end.id == END_ID
    assert end.lines == ('output {"squares": {{ square.value }}, "appr...',)
    mermaid = parse_mermaid(to_mermaid(diagram))
    assert mermaid_decode(mermaid.nodes[END_ID]) == ["end", end.lines[0]]
    assert f"{END_ID} [" in to_dot(diagram)
    assert "doubleoctagon" in to_dot(diagram)


def test_a_plan_without_output_keeps_its_round_end() -> None:
    dot = to_dot(build(fixture_ir("diamond.yml")))
    assert "doublecircle" in dot
    assert "doubleoctagon" not in dot


def test_wait_and_signal_tooltips_say_what_they_wait_for() -> None:
    nodes = {node.title: node for node in build(fixture_ir("language2.yml")).nodes}
    assert nodes["pause"].tooltip == "step pause: wait 1 s"
    assert nodes["probe"].tooltip == "step probe: task list Echo-1"


def test_tolerated_failures_are_shown() -> None:
    ir: dict[str, Any] = fixture_ir("language2.yml")
    ir["steps"]["square"]["for_each"]["tolerated_failures"] = 2
    assert step_annotations(ir, "square")[1].endswith("· tolerates 2 failed")


def _scheduled(activity_id: str) -> dict[str, Any]:
    return {
        "eventType": "ActivityTaskScheduled",
        "activityTaskScheduledEventAttributes": {"activityId": activity_id},
    }


def test_attempts_are_counted_per_step() -> None:
    ids = ["probe", "probe#2", "probe#3", "sq[0]", "sq[1]", "sq[1]#2", "once"]
    assert attempts(
        [_scheduled(i) for i in ids], frozenset({"probe", "sq", "once"})
    ) == {
        "probe": 3,
        "sq": 2,
        "once": 1,
    }


def test_a_language_1_name_that_looks_like_an_attempt_is_read_whole() -> None:
    events = [_scheduled("a#2"), _scheduled("a#2")]
    assert attempts(events, frozenset({"a#2"})) == {"a#2": 2}
