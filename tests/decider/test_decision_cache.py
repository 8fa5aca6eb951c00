"""When the decision poller trusts its cached state, and when it replays instead."""

from __future__ import annotations

import copy
import itertools
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cpe.compiler import compile_file
from cpe.runtime.decider import decide, decide_state
from cpe.runtime.decision_cache import CachedExecution, DecisionCache
from cpe.runtime.decision_poller import DecisionPoller
from cpe.runtime.history import Folder, StepStatus
from cpe.runtime.swf_errors import RetryPolicy

from .swf_simulator import SimulatedSwf, Simulator

FAST = RetryPolicy(base=0.001, cap=0.005, respond_attempts=3)
IR = compile_file(Path(__file__).parents[1] / "fixtures" / "plans" / "diamond.yml")
KEY = ("wf-1", "run-1")


class GappySwf(SimulatedSwf):
    """Leaves one event out of the pages it serves."""

    hidden_event_id = 0

    def _page(
        self, reading: Any, offset: int, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        page = super()._page(reading, offset, kwargs)
        page["events"] = [
            e for e in page["events"] if e["eventId"] != self.hidden_event_id
        ]
        return page


class UnorderedSwf(SimulatedSwf):
    """Serves the history oldest first whatever reverseOrder says."""

    def poll_for_decision_task(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.pop("reverseOrder", None)
        return super().poll_for_decision_task(**kwargs)


def new_simulator() -> Simulator:
    return Simulator({"name": "Diamond", "version": "1"}, json.dumps({"n": 3}))


def poller_for(swf: Any, ir: dict[str, Any] = IR, **options: Any) -> DecisionPoller:
    options.setdefault("page_size", 2)
    return DecisionPoller(
        swf,
        domain="d",
        task_list="decisions",
        ir_for_type=lambda name, version: ir,
        retry=FAST,
        **options,
    )


def answer(poller: DecisionPoller, simulator: Simulator) -> None:
    assert simulator.decision_task is not None
    assert poller.poll_once() is True


def probe_done(swf: SimulatedSwf, poller: DecisionPoller) -> None:
    """Start the workflow, let probe succeed, and answer both tasks."""
    simulator = swf.simulator
    answer(poller, simulator)
    simulator.complete_activity("probe", '{"size": 5}')
    answer(poller, simulator)


def assert_answers_match_a_full_replay(swf: SimulatedSwf) -> None:
    for started_id, decisions in swf.answers:
        assert decisions == decide(IR, swf.simulator.history(started_id))


def test_an_incremental_decision_reads_only_the_newest_pages() -> None:
    cached, uncached = SimulatedSwf(new_simulator()), SimulatedSwf(new_simulator())
    with_cache, without_cache = poller_for(cached), poller_for(uncached, cache_size=0)
    probe_done(cached, with_cache)
    probe_done(uncached, without_cache)
    for swf in (cached, uncached):
        swf.page_requests = 0
        swf.simulator.complete_activity("left", '{"ok": 1}')
    answer(with_cache, cached.simulator)
    answer(without_cache, uncached.simulator)
    assert cached.answers == uncached.answers
    assert with_cache.cache.outcomes["incremental"] == 2
    assert without_cache.cache.outcomes == Counter({"replay: no cached state": 3})
    # The cache holds events 1-9; the last task has 16. Newest first, in
    # pages of two, 16-15 comes with the task and three more pages reach 9;
    # the whole history takes seven more pages.
    assert (cached.page_requests, uncached.page_requests) == (3, 7)


def test_another_plan_for_the_same_execution_replays() -> None:
    swf = SimulatedSwf(new_simulator())
    poller = poller_for(swf)
    probe_done(swf, poller)
    entry = poller.cache.take(KEY)
    assert entry is not None
    poller.cache.put(KEY, CachedExecution("sha256:other", entry.folder))
    swf.simulator.complete_activity("left", "{}")
    answer(poller, swf.simulator)
    assert (
        poller.cache.outcomes["replay: the cached state was folded with another plan"]
        == 1
    )
    assert_answers_match_a_full_replay(swf)
    assert poller.cache.take(KEY).ir_hash == IR["content_hash"]  # type: ignore[union-attr]


def test_new_events_that_do_not_fold_drop_the_state_and_replay() -> None:
    swf = SimulatedSwf(new_simulator())
    poller = poller_for(swf)
    probe_done(swf, poller)
    entry = poller.cache.take(KEY)
    assert entry is not None
    # A state that no longer fits the history: left is open already, so the
    # history scheduling it again cannot be folded into it.
    left = entry.folder.state.steps["left"]
    left.status, left.scheduled_event_id = StepStatus.STARTED, 1
    poller.cache.put(KEY, entry)
    swf.simulator.complete_activity("left", "{}")
    answer(poller, swf.simulator)
    assert poller.cache.outcomes["replay: folding the new events failed"] == 1
    assert_answers_match_a_full_replay(swf)
    replacement = poller.cache.take(KEY)
    assert replacement is not None and replacement.folder is not entry.folder


def test_a_missing_event_after_the_cached_state_replays() -> None:
    swf = GappySwf(new_simulator())
    poller = poller_for(swf)
    probe_done(swf, poller)
    simulator = swf.simulator
    simulator.complete_activity("left", "{}")
    swf.hidden_event_id = len(simulator.events) - 1  # the ActivityTaskCompleted
    answer(poller, simulator)
    assert (
        poller.cache.outcomes[
            "replay: the events after the cached state are not all there"
        ]
        == 1
    )
    started_id, decisions = swf.answers[-1]
    shown = [
        e for e in simulator.history(started_id) if e["eventId"] != swf.hidden_event_id
    ]
    assert decisions == decide(IR, shown)


def test_a_history_shorter_than_the_cached_state_replays() -> None:
    cache = DecisionCache()
    longer = SimulatedSwf(new_simulator())
    probe_done(longer, poller_for(longer, cache=cache))
    shorter = SimulatedSwf(new_simulator())  # the same ids, a younger history
    poller = poller_for(shorter, cache=cache)
    answer(poller, shorter.simulator)
    assert (
        cache.outcomes["replay: the events after the cached state are not all there"]
        == 1
    )
    assert_answers_match_a_full_replay(shorter)


def test_a_server_that_ignores_reverse_order_still_gets_the_same_answers() -> None:
    swf = UnorderedSwf(new_simulator())
    poller = poller_for(swf)
    probe_done(swf, poller)
    swf.simulator.complete_activity("left", "{}")
    answer(poller, swf.simulator)
    assert_answers_match_a_full_replay(swf)


def test_a_page_that_cannot_be_read_keeps_the_cached_state(
    caplog: pytest.LogCaptureFixture,
) -> None:
    swf = SimulatedSwf(new_simulator())
    poller = poller_for(swf, page_size=1)
    probe_done(swf, poller)
    swf.simulator.complete_activity("left", "{}")
    fetch = swf.poll_for_decision_task

    def failing_pages(**kwargs: Any) -> dict[str, Any]:
        if kwargs.get("nextPageToken"):
            raise OSError("connection reset")
        return fetch(**kwargs)

    swf.poll_for_decision_task = failing_pages  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="cpe.runtime.decision_poller"):
        answer(poller, swf.simulator)
    assert any("abandoned" in record.getMessage() for record in caplog.records)
    assert KEY in poller.cache  # nothing was folded, so the state is still good


def test_a_closing_answer_forgets_the_execution() -> None:
    swf = SimulatedSwf(new_simulator())
    poller = poller_for(swf)
    answer(poller, swf.simulator)
    assert KEY in poller.cache
    swf.simulator.fail_activity("probe")
    answer(poller, swf.simulator)
    assert swf.simulator.closed is not None
    assert KEY not in poller.cache


def test_a_decide_without_decide_state_gets_every_event_in_order() -> None:
    seen: list[list[int]] = []

    def decide_events(
        ir: dict[str, Any], events: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        seen.append([event["eventId"] for event in events])
        return decide(ir, events)

    swf = SimulatedSwf(new_simulator())
    poller = poller_for(swf, decide=decide_events)
    probe_done(swf, poller)
    assert seen == [[1, 2, 3], list(range(1, 10))]
    assert len(poller.cache) == 0


def test_the_cache_forgets_the_least_recently_used_execution() -> None:
    cache = DecisionCache(2)
    entries = [CachedExecution("h", Folder(IR)) for _ in range(3)]
    cache.put(("a", "1"), entries[0])
    cache.put(("b", "1"), entries[1])
    assert cache.take(("a", "1")) is entries[0]
    cache.put(("a", "1"), entries[0])  # a is now the most recent
    cache.put(("c", "1"), entries[2])
    assert ("b", "1") not in cache and len(cache) == 2
    assert DecisionCache(0).take(("a", "1")) is None
    with pytest.raises(ValueError):
        DecisionCache(-1)


def test_a_slow_decision_is_logged_with_its_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    swf = SimulatedSwf(new_simulator())  # the decision task timeout is 60 s
    ticks = itertools.count(step=40.0)
    poller = poller_for(swf, clock=lambda: next(ticks))
    fast = poller_for(SimulatedSwf(new_simulator()), clock=lambda: 0.0)
    with caplog.at_level(logging.WARNING, logger="cpe.runtime.decision_poller"):
        answer(fast, fast._swf.simulator)  # type: ignore[attr-defined]
        assert not caplog.records
        answer(poller, swf.simulator)
    (record,) = caplog.records
    assert record.getMessage().startswith(
        "the decision task of workflow wf-1 took 40.0 s, more than half of its "
        "start-to-close timeout of 60 s"
    )


def test_deciding_on_a_snapshot_leaves_the_folded_state_alone() -> None:
    swf = SimulatedSwf(new_simulator())
    poller = poller_for(swf)
    probe_done(swf, poller)
    swf.simulator.fail_activity("left")
    swf.simulator.complete_activity("right", "{}")
    folder = Folder(IR)
    folder.fold(swf.simulator.history())
    before = copy.deepcopy(folder.state)
    snapshot = folder.snapshot()
    decide_state(IR, snapshot)  # skips join, schedules on_failure
    assert snapshot.steps["join"].status is StepStatus.SKIPPED
    snapshot.cancel_requested = True
    assert folder.state == before
    # Steps are shared, and what deciding derives goes on a copy.
    assert snapshot.steps["probe"] is folder.state.steps["probe"]
    assert snapshot.steps["join"] is not folder.state.steps["join"]
    assert folder.state.steps["join"].status is StepStatus.PENDING


class BadIdSwf(SimulatedSwf):
    """Serves one event with an id that is not a number."""

    bad_event_id = 0

    def _page(
        self, reading: Any, offset: int, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        page = super()._page(reading, offset, kwargs)
        page["events"] = [
            {**e, "eventId": "x"} if e["eventId"] == self.bad_event_id else e
            for e in page["events"]
        ]
        return page


def test_an_event_without_a_numeric_id_fails_the_workflow_as_decide_does() -> None:
    swf = BadIdSwf(new_simulator())
    poller = poller_for(swf)
    probe_done(swf, poller)
    swf.simulator.complete_activity("left", "{}")
    swf.bad_event_id = len(swf.simulator.events)  # the newest event
    answer(poller, swf.simulator)
    (decision,) = swf.answers[-1][1]
    assert decision["decisionType"] == "FailWorkflowExecution"
    reason = decision["failWorkflowExecutionDecisionAttributes"]["reason"]
    assert (
        reason == "the history cannot be replayed: every event needs a numeric eventId"
    )
    assert KEY not in poller.cache
