"""The real DecisionPoller against a simulated SWF, through random interleavings.

Hypothesis drives one execution at a time: activities start, complete, fail
and time out, signals and cancel requests arrive, decision tasks time out or
see events arrive while the decider thinks, and deciders restart (losing their
cache). Two pollers with small, different page sizes take turns, so paging,
reverseOrder and a cache that is behind (the other poller decided meanwhile)
are all exercised. Two properties hold for every run:

(a) every answer equals what a from-scratch `decide` gives on the history of
    that decision task, whichever way (incremental or full replay) the
    poller took;
(b) the execution ends closed, as the plan implies: canceled after a cancel
    request, failed naming a step that failed unhandled, or completed with
    the outputs of the steps that succeeded when none did.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cpe.compiler import compile_file, compile_text
from cpe.grammar.selectors import SelectorMiss, evaluate
from cpe.runtime.activity_ids import parse_activity_id
from cpe.runtime.decider import decide
from cpe.runtime.decision_cache import DecisionCache
from cpe.runtime.decision_poller import DecisionPoller
from cpe.runtime.swf_errors import RetryPolicy

from .swf_simulator import ACTIVITY_TIMEOUTS, ActivityRecord, SimulatedSwf, Simulator

FIXTURES = Path(__file__).parents[1] / "fixtures" / "plans"
COMPAT = Path(__file__).parents[1] / "compat"
FAST = RetryPolicy(base=0.001, cap=0.005, respond_attempts=3)

CT_INPUT = {
    "client": {"name": "acme", "queues": {"input": "in", "output": "out"}},
    "input_asset": {"type": "VIDEO", "bucket": "b", "file": "/in.mp4"},
    "output_asset": {"type": "VIDEO", "bucket": "b", "file": "/out.mp4"},
}
CHAIN = "\n".join(
    [
        "name: Chain",
        'version: "1"',
        "activities:",
        "  - {name: Echo, version: '1', outputs_spec: {size: $.size}}",
        "steps:",
        "  - {name: s0, activity: Echo, input: '{\"n\": 0}'}",
        *(
            f"  - {{name: s{i}, activity: Echo, requires: [s{i - 1}],"
            f" input: '{{\"n\": {{{{ s{i - 1}.size }}}}}}'}}"
            for i in range(1, 10)
        ),
        "  - {name: mop_up, activity: Echo, requires: [[s4, failed]], input: '{}'}",
    ]
)
PLANS: dict[str, tuple[dict[str, Any], list[Any]]] = {
    "chain": (compile_text(CHAIN, "chain.yml"), [{}]),
    "engine": (
        compile_file(FIXTURES / "engine.yml"),
        [{"mode": "ok"}, {"mode": "fail"}],
    ),
    "diamond": (compile_file(FIXTURES / "diamond.yml"), [{"n": 3}]),
    "crash": (compile_file(FIXTURES / "crash.yml"), [{}]),
    "slow": (compile_file(FIXTURES / "slow.yml"), [{"seconds": 2}]),
    "compat": (compile_file(COMPAT / "ct_plan.yml"), [CT_INPUT]),
}

# Results every plan's selectors and templates can use, and a few that fail
# as results (no JSON, nothing for the selectors).
good_results = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(["ok", "fail", "hd", "sd"]),
        "size": st.integers(0, 10**6),
        "note": st.text(max_size=4),
    }
).map(json.dumps)
results = st.one_of(*[good_results] * 8, st.just("not json"), st.none())


def make_poller(
    swf: SimulatedSwf, ir: dict[str, Any], page_size: int
) -> DecisionPoller:
    workflow = ir["workflow"]

    def ir_for_type(name: str, version: str) -> dict[str, Any] | None:
        return (
            ir if (name, version) == (workflow["name"], workflow["version"]) else None
        )

    return DecisionPoller(
        swf,
        domain="d",
        task_list="decisions",
        ir_for_type=ir_for_type,
        identity=f"decider-{page_size}",
        retry=FAST,
        cache=DecisionCache(4),
        page_size=page_size,
    )


@dataclass
class Run:
    """One execution driven by hypothesis to its end."""

    ir: dict[str, Any]
    simulator: Simulator
    swf: SimulatedSwf
    pollers: list[DecisionPoller]
    page_sizes: list[int]
    outcomes: Counter[str]

    @classmethod
    def start(
        cls,
        data: st.DataObject,
        plans: dict[str, tuple[dict[str, Any], list[Any]]] = PLANS,
    ) -> Run:
        plan = data.draw(st.sampled_from(sorted(plans)), label="plan")
        ir, inputs = plans[plan]
        types = sorted((a["name"], a["version"]) for a in ir["activities"].values())
        unregistered = data.draw(
            st.one_of(st.just(set()), st.sets(st.sampled_from(types), max_size=1)),
            label="unregistered activity types",
        )
        workflow = ir["workflow"]
        simulator = Simulator(
            workflow_type={"name": workflow["name"], "version": workflow["version"]},
            workflow_input=json.dumps(data.draw(st.sampled_from(inputs))),
            unregistered=unregistered,
        )
        swf = SimulatedSwf(simulator)
        page_sizes = data.draw(st.lists(st.integers(1, 5), min_size=2, max_size=2))
        pollers = [make_poller(swf, ir, size) for size in page_sizes]
        return cls(ir, simulator, swf, pollers, page_sizes, Counter())

    # -- what can happen next ------------------------------------------------

    def outside_happenings(self) -> list[tuple[str, str]]:
        """(kind, subject) pairs of what may happen outside the decider now."""
        sim = self.simulator
        if sim.closed is not None:
            return []
        # Duplicates make the usual happenings likelier than the rare ones.
        possible: list[tuple[str, str]] = [("signal", "approve")]
        if not sim.cancel_requested and len(sim.events) % 3 == 0:
            possible.append(("request cancel", ""))
        for activity_id, activity in sorted(sim.activities.items()):
            if activity.started_id is None:
                possible += [("start", activity_id)] * 2
            possible += [("complete", activity_id)] * 6
            possible += [("fail", activity_id), ("time out", activity_id)]
            if activity.cancel_requested:
                possible.append(("cancel", activity_id))
        possible += [("fire", timer_id) for timer_id in sorted(sim.timers)]
        return possible

    def happen(self, data: st.DataObject, kind: str, subject: str) -> None:
        sim = self.simulator
        if kind == "signal":
            sim.signal(subject, data.draw(st.sampled_from([None, '{"ok": true}'])))
        elif kind == "request cancel":
            sim.request_cancel()
        elif kind == "start":
            sim.start_activity(subject)
        elif kind == "complete":
            sim.complete_activity(subject, data.draw(results, label="result"))
        elif kind == "fail":
            sim.fail_activity(subject)
        elif kind == "time out":
            sim.time_out_activity(
                subject, data.draw(st.sampled_from(ACTIVITY_TIMEOUTS))
            )
        elif kind == "cancel":
            sim.cancel_activity(subject)
        else:
            sim.fire_timer(subject)

    def decide_once(self, data: st.DataObject) -> None:
        """One decision task answered by a drawn poller, perhaps disturbed."""
        disturbance = data.draw(
            st.sampled_from(
                ["none", "none", "none", "events arrive", "task times out"]
            ),
            label="while deciding",
        )
        if disturbance == "events arrive":
            self.swf.before_respond = lambda: self._some_happening(data)
        elif disturbance == "task times out":
            self.swf.before_respond = self.simulator.time_out_decision_task
        which = data.draw(st.integers(0, 1), label="poller")
        assert self.pollers[which].poll_once() is True

    def _some_happening(self, data: st.DataObject) -> None:
        possible = self.outside_happenings()
        if possible:
            self.happen(data, *data.draw(st.sampled_from(possible)))

    def restart(self, data: st.DataObject) -> None:
        which = data.draw(st.integers(0, 1), label="restarted poller")
        self._tally(self.pollers[which])
        self.pollers[which] = make_poller(self.swf, self.ir, self.page_sizes[which])

    def random_phase(self, data: st.DataObject) -> None:
        for _ in range(data.draw(st.integers(0, 80), label="random actions")):
            sim = self.simulator
            if sim.closed is not None:
                return
            choices = [("happen", *h) for h in self.outside_happenings()]
            task = sim.decision_task
            if task is not None and task.started_id is None:
                choices += [("decide", "", "")] * 8  # deciding is the usual next step
            choices.append(("restart", "", ""))
            action, kind, subject = data.draw(st.sampled_from(choices))
            if action == "decide":
                self.decide_once(data)
            elif action == "restart":
                self.restart(data)
            else:
                self.happen(data, kind, subject)

    def drain(self) -> None:
        """Let every activity succeed (or acknowledge its cancel) until closed."""
        sim = self.simulator
        for _ in range(200):
            if sim.closed is not None:
                return
            task = sim.decision_task
            if task is not None and task.started_id is None:
                assert self.pollers[0].poll_once() is True
            elif sim.activities:
                activity_id, activity = next(iter(sim.activities.items()))
                if activity.cancel_requested:
                    sim.cancel_activity(activity_id)
                else:
                    sim.complete_activity(activity_id, '{"mode": "ok", "size": 1}')
            elif sim.timers:
                sim.fire_timer(next(iter(sim.timers)))
            else:
                raise AssertionError(f"the execution is stuck open: {sim.events[-3:]}")
        raise AssertionError("the execution did not close in 200 moves")

    def _tally(self, poller: DecisionPoller) -> None:
        self.outcomes.update(poller.cache.outcomes)

    def finish(self) -> Counter[str]:
        for poller in self.pollers:
            self._tally(poller)
        return self.outcomes


# -- what the plan implies ------------------------------------------------------


def shaped(ir: dict[str, Any], step: str, result: str | None) -> tuple[bool, Any]:
    """(succeeded, output) of a completed activity, as the plan reads its result."""
    try:
        data = None if result in (None, "") else json.loads(result)
    except json.JSONDecodeError:
        return False, None
    spec = ir["activities"][ir["steps"][step]["activity"]]["outputs_spec"]
    if spec is None:
        return True, data
    try:
        return True, {key: evaluate(s["steps"], data) for key, s in spec.items()}
    except SelectorMiss:
        return False, None


def final_statuses(
    ir: dict[str, Any], records: list[ActivityRecord]
) -> dict[str, tuple[str, Any]]:
    """Each step's (status, output) from how its activity ended; a step that
    never ran is skipped when a requirement ended the wrong way, else
    "not run".

    Language 1 only: an activity id is its step's name and a step runs once.
    Retries (`step#2`) and fan-out items (`step[3]`) of language 2 will need
    the ids parsed with cpe.runtime.activity_ids, and conditions evaluated.
    """
    last = {record.activity_id: record for record in records}
    statuses: dict[str, tuple[str, Any]] = {}
    for name in ir["order"]:
        record = last.get(name)
        if record is not None:
            if record.outcome == "completed":
                ok, output = shaped(ir, name, record.result)
                statuses[name] = ("succeeded", output) if ok else ("failed", None)
            else:
                statuses[name] = (record.outcome, None)
            continue
        required = [
            (statuses[r["step"]][0], r["status"]) for r in ir["steps"][name]["requires"]
        ]
        if any(status == "not run" for status, _ in required) or all(
            _meets(status, wanted) for status, wanted in required
        ):
            statuses[name] = ("not run", None)
        else:
            statuses[name] = ("skipped", None)
    return statuses


def _meets(status: str, wanted: str) -> bool:
    failure = status in ("failed", "timed_out", "canceled", "schedule_failed")
    if wanted == "completed":
        return status != "not run"
    if wanted == "failed":
        return failure
    return status == wanted


def check_the_end(ir: dict[str, Any], sim: Simulator) -> None:
    closed = sim.closed
    assert closed is not None
    kind = closed["decisionType"]
    if sim.cancel_requested:
        assert kind == "CancelWorkflowExecution", closed
        return
    statuses = final_statuses(ir, sim.records)
    handled = {
        r["step"]
        for step in ir["steps"].values()
        for r in step["requires"]
        if r["status"] in ("failed", "completed")
    }
    unhandled = [
        name
        for name, (status, _) in statuses.items()
        if status in ("failed", "timed_out", "canceled", "schedule_failed")
        and name not in handled
    ]
    if kind == "FailWorkflowExecution":
        # Named: a step that failed unhandled, or one whose input could not
        # be made from the outputs it was given (so it never ran).
        reason = closed["reason"]
        assert any(reason.startswith(f"step {n} failed") for n in unhandled) or any(
            reason.startswith(f"step {n}'s ")
            for n, (status, _) in statuses.items()
            if status == "not run"
        ), (closed, statuses)
        return
    assert not unhandled, (closed, statuses)
    assert kind == "CompleteWorkflowExecution", (closed, statuses)
    assert all(status != "not run" for status, _ in statuses.values()), statuses
    outputs = {
        name: output
        for name, (status, output) in statuses.items()
        if status == "succeeded"
    }
    assert json.loads(closed["result"]) == outputs


def check_every_answer(ir: dict[str, Any], swf: SimulatedSwf) -> None:
    assert swf.answers, "no decision task was answered"
    for started_id, decisions in swf.answers:
        history = swf.simulator.history(started_id)
        assert decisions == decide(ir, history), f"at the task started by {started_id}"


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_random_interleavings_decide_as_a_full_replay_and_end_as_the_plan_implies(
    data: st.DataObject,
) -> None:
    run = Run.start(data)
    run.random_phase(data)
    run.drain()
    check_every_answer(run.ir, run.swf)
    check_the_end(run.ir, run.simulator)
    for outcome in run.finish():
        event(outcome)
    event(f"{run.ir['workflow']['name']} ends {run.simulator.closed['decisionType']}")
    event(f"{len(run.swf.answers) // 5 * 5}+ answers")


def test_a_quiet_run_decides_incrementally_after_the_first_task() -> None:
    ir, inputs = PLANS["diamond"]
    simulator = Simulator({"name": "Diamond", "version": "1"}, json.dumps(inputs[0]))
    swf = SimulatedSwf(simulator)
    poller = make_poller(swf, ir, page_size=2)
    while simulator.closed is None:
        if simulator.decision_task is not None:
            assert poller.poll_once() is True
        else:
            activity_id = next(iter(simulator.activities))
            simulator.complete_activity(activity_id, '{"size": 5}')
    check_every_answer(ir, swf)
    check_the_end(ir, simulator)
    answered = len(swf.answers)
    assert poller.cache.outcomes == Counter(
        {"replay: no cached state": 1, "incremental": answered - 1}
    )
    assert len(poller.cache) == 0  # the execution closed: its state was dropped


# -- plan language 2 -------------------------------------------------------------

FAN_OUT = """
name: FanOut
version: "1"
language: 2
activities:
  - {name: Echo, version: "1", outputs_spec: {size: "$.size"}}
steps:
  - name: fan
    activity: Echo
    for_each: __input__.items
    as: it
    max_concurrency: 2
    tolerated_failures: 1
    retry: {max_attempts: 2, interval: 1}
    input: '{"it": {{ it }}}'
  - {name: pause, requires: [fan], wait: 5}
  - name: gate
    requires: [pause]
    signal: {name: approve, timeout: 30}
  - {name: after, activity: Echo, requires: [[gate, completed]], input: '{}'}
output: '{"sizes": {{ fan.size }}}'
"""
PLANS_2: dict[str, tuple[dict[str, Any], list[Any]]] = {
    "fan-out": (
        compile_text(FAN_OUT, "fan_out.yml"),
        # Mostly five items, so that the cap, retries and failures all show.
        [{"items": []}, {"items": [1]}, *[{"items": [1, 2, 3, 4, 5]}] * 4],
    ),
}


def expected_sizes(ir: dict[str, Any], records: list[ActivityRecord]) -> list[Any]:
    """Each fan-out item's value as the last attempt of the item left it."""
    last: dict[int, ActivityRecord] = {}
    for record in records:
        parsed = parse_activity_id(record.activity_id)
        if parsed.step == "fan" and parsed.item is not None:
            last[parsed.item] = record
    sizes: list[Any] = []
    for item in sorted(last):
        record = last[item]
        ok, output = (
            shaped(ir, "fan", record.result)
            if record.outcome == "completed"
            else (False, None)
        )
        sizes.append(output["size"] if ok else None)
    return sizes


def check_the_end_of_language_2(ir: dict[str, Any], sim: Simulator) -> None:
    closed = sim.closed
    assert closed is not None
    kind = closed["decisionType"]
    if sim.cancel_requested:
        assert kind == "CancelWorkflowExecution", closed
        return
    if kind == "FailWorkflowExecution":
        # More items failed than tolerated, or the step after the gate did.
        sizes = expected_sizes(ir, sim.records)
        reason = closed["reason"]
        assert (
            reason.startswith("step fan ") and sizes.count(None) > 1
        ) or reason.startswith("step after "), (closed, sizes)
        return
    assert kind == "CompleteWorkflowExecution", closed
    sizes = json.loads(closed["result"])["sizes"]
    assert sizes == expected_sizes(ir, sim.records)
    assert sizes.count(None) <= 1


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_language_2_runs_decide_as_a_full_replay_and_end_as_the_plan_implies(
    data: st.DataObject,
) -> None:
    """Retries on timers, a capped fan-out, a wait and a signal with a timeout,
    through random interleavings and decider restarts."""
    run = Run.start(data, PLANS_2)
    run.random_phase(data)
    run.drain()
    check_every_answer(run.ir, run.swf)
    check_the_end_of_language_2(run.ir, run.simulator)
    for outcome in run.finish():
        event(outcome)
    event(f"ends {run.simulator.closed['decisionType']}")
    ids = [record.activity_id for record in run.simulator.records]
    event("some item retried" if any("#" in i for i in ids) else "no retry")
    event(f"{len({i.split('#')[0] for i in ids if i.startswith('fan[')})} items ran")
