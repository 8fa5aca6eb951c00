"""The decider daemon in a thread: what it does with the work in hand on stop."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from cpe.compiler import compile_file
from cpe.runtime.backends.local import connect
from cpe.runtime.daemon import Stopping
from cpe.runtime.decider import decide
from cpe.runtime.decider_daemon import DeciderDaemon, RegistryPlans
from cpe.runtime.registration import ensure_domain, register_plan_types
from cpe.runtime.registry import open_registry
from tests.stack.helpers import FIXTURES, event_types, history, start_execution

DOMAIN = "cpe-local"


def _daemon(
    tmp_path: Path, slow: threading.Event, release: threading.Event
) -> tuple[Any, DeciderDaemon]:
    db = tmp_path / "cpe.sqlite"
    swf, _ = connect(db, poll_timeout=0.2)
    ir = compile_file(FIXTURES / "plans" / "square.yml")
    registry = open_registry(str(tmp_path / "registry"))
    registry.store(ir)
    ensure_domain(swf, DOMAIN)
    register_plan_types(swf, DOMAIN, ir)

    def slow_decide(
        ir: dict[str, Any], events: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        slow.set()
        release.wait(30)
        return decide(ir, events)

    daemon = DeciderDaemon(
        lambda: connect(db, poll_timeout=0.2)[0],
        domain=DOMAIN,
        plans=RegistryPlans(registry, refresh=30),
        task_list=None,
        on_decisions=None,
        refresh=30,
        decide=slow_decide,
    )
    return swf, daemon


def _run(daemon: DeciderDaemon, stopping: Stopping, grace: float) -> threading.Thread:
    thread = threading.Thread(target=daemon.run, args=(stopping, grace), daemon=True)
    thread.start()
    return thread


def test_a_stop_lets_the_decision_in_hand_be_answered(tmp_path: Path) -> None:
    deciding, release = threading.Event(), threading.Event()
    swf, daemon = _daemon(tmp_path, deciding, release)
    stopping = Stopping()
    thread = _run(daemon, stopping, grace=30)
    execution = start_execution(swf, DOMAIN, "Squares", "1", '{"n": 3}', "d-1")
    assert deciding.wait(30)
    stopping.requested.set()
    time.sleep(0.3)  # the daemon is waiting for the decision, not gone
    assert thread.is_alive()
    release.set()
    thread.join(30)
    assert not thread.is_alive()
    assert "ActivityTaskScheduled" in event_types(history(swf, DOMAIN, execution))


def test_a_decision_still_in_hand_after_the_grace_period_is_left_unanswered(
    tmp_path: Path,
) -> None:
    deciding, release = threading.Event(), threading.Event()
    swf, daemon = _daemon(tmp_path, deciding, release)
    stopping = Stopping()
    thread = _run(daemon, stopping, grace=0.2)
    execution = start_execution(swf, DOMAIN, "Squares", "1", '{"n": 3}', "d-2")
    assert deciding.wait(30)
    stopping.requested.set()
    thread.join(30)
    assert not thread.is_alive()
    kinds = event_types(history(swf, DOMAIN, execution))
    assert kinds[-1] == "DecisionTaskStarted"
    release.set()
