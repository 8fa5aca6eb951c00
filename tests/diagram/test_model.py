"""The diagram model: one node per step, start and end, an edge per requirement."""

from __future__ import annotations

from cpe.compiler.diagram_model import END_ID, START_ID, build, step_annotations
from tests.diagram.helpers import (
    TRICKY_NAMES,
    compile_plan,
    fixture_ir,
    plan_with_steps,
    transcode_ir,
)


def test_transcode_has_a_node_per_step_in_ir_order_between_start_and_end() -> None:
    ir = transcode_ir()
    diagram = build(ir)
    assert [n.id for n in diagram.nodes] == [START_ID, "s0", "s1", "s2", "s3", END_ID]
    assert [n.title for n in diagram.nodes[1:-1]] == ir["order"]
    assert diagram.nodes[1].lines == ("ValidateAsset v2",)
    assert diagram.title == "Transcode 2.0"
    assert not diagram.overlay


def test_edges_follow_requires_with_the_start_and_the_end() -> None:
    diagram = build(transcode_ir())
    assert [(e.tail, e.head, e.label) for e in diagram.edges] == [
        (START_ID, "s0", None),
        ("s0", "s1", None),
        ("s0", "s2", None),
        ("s0", "s3", None),  # WriteManifestStep also names ValidateAssetStep
        ("s1", "s3", None),
        ("s2", "s3", None),
        ("s3", END_ID, None),
    ]


def test_only_a_status_other_than_succeeded_labels_an_edge() -> None:
    ir = fixture_ir("diamond.yml")
    ids = {name: f"s{i}" for i, name in enumerate(ir["order"])}
    labelled = {(e.tail, e.head): e.label for e in build(ir).edges}
    assert labelled[(ids["left"], ids["on_failure"])] == "failed"
    assert labelled[(ids["probe"], ids["right"])] is None  # [probe, succeeded]
    # Every step nothing requires leads to the end, in order.
    ends = [e.tail for e in build(ir).edges if e.head == END_ID]
    assert ends == [ids["join"], ids["on_failure"]]


def test_ids_never_depend_on_names() -> None:
    names = TRICKY_NAMES
    ir = compile_plan(plan_with_steps(names, {names[1]: [names[0]]}))
    diagram = build(ir)
    assert [n.id for n in diagram.nodes[1:-1]] == [f"s{i}" for i in range(len(names))]
    assert [n.title for n in diagram.nodes[1:-1]] == names


def test_annotations_are_the_activity_for_ir_version_1() -> None:
    ir = transcode_ir()
    assert step_annotations(ir, "MakeThumbnailStep") == ["MakeThumbnail v1"]


def test_the_same_ir_gives_the_same_model() -> None:
    assert build(transcode_ir()) == build(transcode_ir())
