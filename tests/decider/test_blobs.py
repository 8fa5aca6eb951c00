"""Texts too long for SWF travel as blob references, read back before outputs_spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cpe.runtime.blobs import BlobError, LocalBlobStore, S3BlobStore, digest_of
from cpe.runtime.decider import decide, decide_state
from cpe.runtime.history import Folder
from tests.decider.helpers import only
from tests.decider.ir_factory import plan_ir, with_output
from tests.history_builder import HistoryBuilder

STEPS = """
  - name: square
    activity: Square
  - name: report
    activity: Report
    requires: [square]
    input: '{"v": {{ square.value }}}'
"""


def ir_of() -> dict[str, Any]:
    ir = plan_ir(STEPS)
    ir["steps"]["report"]["input"]["references"] = [
        {"kind": "step", "step": "square", "path": ["value"]}
    ]
    return ir


def squared(ir: dict[str, Any], result: Any) -> HistoryBuilder:
    history = HistoryBuilder().started({})
    history.apply(decide(ir, history.events)).decision_task()
    return history.completed_raw("square", result)


def test_the_local_store_is_content_addressed_and_checks_what_it_reads(
    tmp_path: Path,
) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    reference = store.put("some text")
    assert json.loads(reference) == {"cpe_blob": digest_of("some text")}
    assert store.put("some text") == reference  # a replay writes it again
    assert len(list((tmp_path / "blobs").iterdir())) == 1
    assert store.get(reference) == "some text"
    next((tmp_path / "blobs").iterdir()).write_text("changed")
    with pytest.raises(BlobError, match="damaged"):
        store.get(reference)
    with pytest.raises(BlobError, match="not a blob reference"):
        store.get('{"cpe_blob": "sha256:../../etc"}')


def test_a_result_kept_as_a_blob_is_read_before_outputs_spec(tmp_path: Path) -> None:
    ir = ir_of()
    store = LocalBlobStore(tmp_path)
    reference = store.put(json.dumps({"value": 49, "bulk": "x" * 40_000}))
    history = squared(ir, reference)
    report = only(decide(ir, history.events, blobs=store), "ScheduleActivityTask")
    assert json.loads(report["input"]) == {"v": 49}
    folder = Folder(ir, blobs=store)
    folder.fold(history.events)
    assert decide_state(ir, folder.snapshot(), blobs=store) == decide(
        ir, history.events, blobs=store
    )


def test_a_blob_result_without_a_store_fails_the_step_saying_so(
    tmp_path: Path,
) -> None:
    ir = ir_of()
    history = squared(ir, LocalBlobStore(tmp_path).put('{"value": 1}'))
    failure = only(decide(ir, history.events), "FailWorkflowExecution")
    assert "blob store" in failure["reason"]
    missing = squared(ir, '{"cpe_blob": "sha256:' + "0" * 64 + '"}')
    failure = only(
        decide(ir, missing.events, blobs=LocalBlobStore(tmp_path)),
        "FailWorkflowExecution",
    )
    assert "cannot be read" in failure["reason"]


def test_a_long_step_input_is_sent_by_reference(tmp_path: Path) -> None:
    ir = ir_of()
    history = squared(ir, json.dumps({"value": "y" * 40_000}))
    failure = only(decide(ir, history.events), "FailWorkflowExecution")
    assert "SWF carries at most 32768" in failure["reason"]
    store = LocalBlobStore(tmp_path)
    report = only(decide(ir, history.events, blobs=store), "ScheduleActivityTask")
    assert json.loads(store.get(report["input"])) == {"v": "y" * 40_000}


def test_a_long_workflow_output_is_sent_by_reference(tmp_path: Path) -> None:
    ir = with_output(
        plan_ir("  - name: only\n    activity: Probe\n"),
        "{{ only }}",
        [{"kind": "step", "step": "only", "path": []}],
    )
    history = HistoryBuilder().started({})
    history.apply(decide(ir, history.events)).decision_task()
    history.completed("only", ["z" * 40_000])
    failure = only(decide(ir, history.events), "FailWorkflowExecution")
    assert failure["reason"].startswith("the workflow output is 40004 characters")
    store = LocalBlobStore(tmp_path)
    result = only(decide(ir, history.events, blobs=store), "CompleteWorkflowExecution")
    assert json.loads(store.get(result["result"])) == ["z" * 40_000]


@mock_aws
def test_the_s3_store_keeps_blobs_under_its_prefix() -> None:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="cpe-test")
    store = S3BlobStore(client, "cpe-test", prefix="runs/")
    reference = store.put("ü" * 50_000)
    assert store.put("ü" * 50_000) == reference
    assert store.get(reference) == "ü" * 50_000
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="cpe-test")["Contents"]]
    assert keys == ["runs/" + digest_of("ü" * 50_000).removeprefix("sha256:")]
    with pytest.raises(BlobError, match="cannot be read"):
        store.get('{"cpe_blob": "sha256:' + "1" * 64 + '"}')
