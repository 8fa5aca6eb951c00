"""--execution: the latest run of a workflow id, read from the backend."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from cpe.compiler import compile_file
from cpe.compiler.cli import WorkFailed
from cpe.compiler.diagram_execution import EPOCH, ExecutionNotFound, latest_history
from cpe.runtime.backends.local import connect
from cpe.runtime.registration import ensure_domain, ensure_types
from tests.cpec_process import cpec
from tests.diagram.helpers import FIXTURE_PLANS, ROOT, TRANSCODE, parse_mermaid
from tests.diagram.test_cli_graph import handle

ENGINE = FIXTURE_PLANS / "engine.yml"
BASIC_ACTIVITIES = ROOT / "tests" / "fixtures" / "activities" / "basic.py"


class PagedSWF:
    """A stand-in SWF client that answers one item per page, as SWF may."""

    def __init__(self, runs: list[dict[str, Any]], events: int) -> None:
        self.runs = runs
        self.events = [{"eventId": n + 1} for n in range(events)]
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def _page(self, name: str, items: list[Any], key: str, **request: Any) -> Any:
        self.requests.append((name, request))
        at = int(request.get("nextPageToken", 0))
        page: dict[str, Any] = {key: items[at : at + 1]}
        if at + 1 < len(items):
            page["nextPageToken"] = str(at + 1)
        return page

    def list_open_workflow_executions(self, **request: Any) -> Any:
        runs = [r for r in self.runs if r["executionStatus"] == "OPEN"]
        return self._page("open", runs, "executionInfos", **request)

    def list_closed_workflow_executions(self, **request: Any) -> Any:
        runs = [r for r in self.runs if r["executionStatus"] == "CLOSED"]
        return self._page("closed", runs, "executionInfos", **request)

    def get_workflow_execution_history(self, **request: Any) -> Any:
        return self._page("history", self.events, "events", **request)


def run(run_id: str, day: int, status: str) -> dict[str, Any]:
    return {
        "execution": {"workflowId": "w", "runId": run_id},
        "startTimestamp": datetime.datetime(2026, 1, day, tzinfo=datetime.UTC),
        "executionStatus": status,
    }


def test_the_latest_run_and_every_page_of_its_history() -> None:
    swf = PagedSWF(
        [run("a", 1, "CLOSED"), run("c", 3, "CLOSED"), run("b", 2, "CLOSED")], 3
    )
    assert latest_history(swf, "d", "w") == [
        {"eventId": 1},
        {"eventId": 2},
        {"eventId": 3},
    ]
    histories = [r for name, r in swf.requests if name == "history"]
    assert {r["execution"]["runId"] for r in histories} == {"c"}
    assert len(histories) == 3  # paged through nextPageToken
    listing = next(r for name, r in swf.requests if name == "closed")
    assert listing["startTimeFilter"] == {"oldestDate": EPOCH}
    assert listing["executionFilter"] == {"workflowId": "w"}
    assert listing["domain"] == "d"


def test_no_run_is_not_found() -> None:
    with pytest.raises(ExecutionNotFound, match="no execution with workflow id 'w'"):
        latest_history(PagedSWF([], 0), "d", "w")


def _started_execution(db: Path, workflow_id: str) -> None:
    ir = compile_file(TRANSCODE)
    swf, _sqs = connect(db)
    try:
        ensure_domain(swf, "cpe-local")
        ensure_types(swf, "cpe-local", ir)
        swf.start_workflow_execution(
            domain="cpe-local",
            workflowId=workflow_id,
            workflowType={"name": "Transcode", "version": "2.0"},
            input="{}",
        )
    finally:
        swf.close()


def test_an_open_execution_from_the_local_backend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "cpe.db"
    _started_execution(db, "job-1")
    assert handle(TRANSCODE, "-f", "mermaid", "--execution", "job-1", "--db", db) == 0
    parsed = parse_mermaid(capsys.readouterr().out)
    assert {parsed.classes[f"s{i}"] for i in range(4)} == {"cpe_pending"}
    assert parsed.nodes["wf_end"].endswith("○ open")


def test_unknown_execution_or_domain_fails(tmp_path: Path) -> None:
    db = tmp_path / "cpe.db"
    _started_execution(db, "job-1")
    with pytest.raises(WorkFailed, match="no execution with workflow id 'job-2'"):
        handle(TRANSCODE, "--execution", "job-2", "--db", db)
    with pytest.raises(WorkFailed, match="domain elsewhere"):
        handle(TRANSCODE, "--execution", "job-1", "--db", db, "--domain", "elsewhere")


def test_domain_and_db_from_the_environment(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "cpe.db"
    _started_execution(db, "job-1")
    monkeypatch.setenv("CPE_DB", str(db))
    monkeypatch.setenv("CPE_DOMAIN", "elsewhere")
    with pytest.raises(WorkFailed, match="domain elsewhere"):
        handle(TRANSCODE, "--execution", "job-1")
    monkeypatch.setenv("CPE_DOMAIN", "cpe-local")
    assert handle(TRANSCODE, "--execution", "job-1") == 0
    assert "cpe_pending" not in capsys.readouterr().out  # DOT: no Mermaid classes


def test_a_finished_run_of_cpec_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "cpe.db"
    for mode in ("fail", "ok"):  # two runs of one id: the second is drawn
        ran = cpec(
            "run", ENGINE, "--input", f'{{"mode": "{mode}"}}',
            "--activities", BASIC_ACTIVITIES, "--workers", "1",
            "--db", db, "--workflow-id", "engine-job",
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
    assert handle(ENGINE, "-f", "mermaid", "--execution", "engine-job", "--db", db) == 0
    parsed = parse_mermaid(capsys.readouterr().out)
    assert parsed.classes == {
        **parsed.classes,
        "s0": "cpe_succeeded",  # start
        "s1": "cpe_succeeded",  # explode, which did not explode this time
        "s2": "cpe_skipped",  # recover, which needs explode to fail
        "wf_end": "cpe_succeeded",
    }
    assert parsed.nodes["wf_end"].endswith("✓ completed")
