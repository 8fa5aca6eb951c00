"""A worker with a blob store reads inputs sent by reference and keeps long results."""

from __future__ import annotations

import json
from pathlib import Path

from cpe.runtime.blobs import LocalBlobStore

from .fakes import FakeActivitySwf, activity_task
from .test_activity_worker import make_worker, only_respond


def test_an_input_by_reference_is_read_and_a_long_result_kept(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    reference = store.put(json.dumps({"text": "y" * 40_000}))
    swf = FakeActivitySwf([activity_task(input=reference)])
    assert make_worker(swf, blobs=store).poll_once("echo-1") is True
    method, call = only_respond(swf)
    assert method == "completed"
    assert json.loads(store.get(call["result"])) == {"echo": {"text": "y" * 40_000}}


def test_without_a_store_a_reference_fails_the_task_saying_why(tmp_path: Path) -> None:
    reference = LocalBlobStore(tmp_path).put('{"x": 1}')
    swf = FakeActivitySwf([activity_task(input=reference)])
    make_worker(swf).poll_once("echo-1")
    method, call = only_respond(swf)
    assert method == "failed"
    assert "blob store" in call["reason"]
