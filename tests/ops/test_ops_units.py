"""Times and event readings of the operations commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cpe.compiler.ops_client import Execution, OpsClient
from cpe.compiler.ops_events import outcome, step_states_from_events, summary
from cpe.compiler.ops_times import TimeFormatError, iso, parse_time
from tests.history_builder import HistoryBuilder

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("1.5h", timedelta(minutes=90)),
    ],
)
def test_relative_times_count_back_from_now(text: str, back: timedelta) -> None:
    assert parse_time(text, NOW) == NOW - back


def test_iso_times_without_an_offset_are_utc() -> None:
    assert parse_time("2026-12-04T03:00:00", NOW) == datetime(
        2026, 12, 4, 3, tzinfo=UTC
    )
    assert parse_time("2026-12-04T03:00:00Z", NOW) == datetime(
        2026, 12, 4, 3, tzinfo=UTC
    )
    assert parse_time("2026-12-04T04:00:00+01:00", NOW).astimezone(UTC).hour == 3


@pytest.mark.parametrize("text", ["yesterday", "2x", "", "12:00pm"])
def test_other_text_is_refused_with_the_forms_that_work(text: str) -> None:
    with pytest.raises(TimeFormatError, match=r"ISO 8601.*2h"):
        parse_time(text, NOW)


def test_iso_prints_utc_with_milliseconds() -> None:
    assert iso(NOW) == "2026-12-04T12:00:00.000+00:00"


def test_step_states_follow_the_latest_attempt_of_each_step_and_item() -> None:
    history = HistoryBuilder().started({})
    history.scheduled("probe").completed("probe", {"n": 2})
    history.scheduled("square[0]").completed("square[0]", 1)
    history.scheduled("square[1]").failed("square[1]")
    history.scheduled("square[1]#2").activity_started("square[1]#2")
    history.scheduled("left").timed_out("left")
    assert step_states_from_events(history.events) == {
        "probe": "succeeded",
        "square": "started (1 started, 1 succeeded)",
        "left": "timed_out",
    }


def test_the_outcome_is_the_result_or_the_reason_of_the_closing_event() -> None:
    history = HistoryBuilder().started({})
    assert outcome(history.events) is None
    history.add("WorkflowExecutionFailed", reason="step probe failed", details="x")
    assert outcome(history.events) == ("reason", "step probe failed: x")
    done = HistoryBuilder().started({})
    done.add("WorkflowExecutionCompleted", result='{"a": 1}')
    assert outcome(done.events) == ("result", '{"a": 1}')


def test_a_summary_shows_the_key_attributes_on_one_short_line() -> None:
    history = HistoryBuilder().started({})
    history.scheduled("probe", ("Probe", "2"))
    scheduled = history.events[-1]
    assert summary(scheduled) == "activityId=probe activityType=Probe 2"
    history.add("WorkflowExecutionSignaled", signalName="go", input="x\n" * 200)
    line = summary(history.events[-1], width=40)
    assert len(line) == 40 and line.endswith("…") and "\n" not in line


class PagedSwf:
    """Answers history and listings in pages of two, as SWF pages them."""

    def __init__(self, events: list[dict[str, object]]) -> None:
        self.events = events
        self.requests: list[dict[str, object]] = []

    def _page(self, items: list[dict[str, object]], token: object) -> tuple[int, int]:
        start = int(str(token)) if token else 0
        return start, start + 2

    def get_workflow_execution_history(self, **request: object) -> dict[str, object]:
        self.requests.append(request)
        start, end = self._page(self.events, request.get("nextPageToken"))
        page: dict[str, object] = {"events": self.events[start:end]}
        if end < len(self.events):
            page["nextPageToken"] = str(end)
        return page

    def list_open_workflow_executions(self, **request: object) -> dict[str, object]:
        infos = [
            {"execution": {"workflowId": f"w{i}", "runId": f"r{i}"}} for i in range(5)
        ]
        start, end = self._page(infos, request.get("nextPageToken"))
        page: dict[str, object] = {"executionInfos": infos[start:end]}
        if end < len(infos):
            page["nextPageToken"] = str(end)
        return page


def test_history_and_listings_follow_every_page() -> None:
    history = HistoryBuilder().started({})
    history.scheduled("probe").completed("probe", 1)
    swf = PagedSwf(history.events)
    client = OpsClient(swf, "d", "a test")
    assert client.history(Execution("w", "r"), reverse=False) == history.events
    assert len(swf.requests) == (len(history.events) + 1) // 2
    listed = list(client.executions("open", {}))
    assert [i["execution"]["workflowId"] for i in listed] == [f"w{i}" for i in range(5)]
