"""Starting, describing, listing, signalling, cancelling, terminating executions."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from cpe.runtime.backends.local import LocalSWF

from .helpers import (
    DECISIONS,
    DOMAIN,
    WORKFLOW,
    FakeClock,
    attrs,
    conforms,
    events,
    poll_decision,
    start,
    status,
    types,
)

EPOCH = {"oldestDate": datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)}


def test_start_uses_type_defaults(registered: LocalSWF) -> None:
    swf = registered
    run = swf.start_workflow_execution(
        domain=DOMAIN, workflowId="wf-1", workflowType=WORKFLOW, input='{"a": 1}'
    )
    conforms("swf", "StartWorkflowExecution", run)
    execution = {"workflowId": "wf-1", "runId": run["runId"]}
    history = events(swf, execution)
    assert [e["eventId"] for e in history] == [1, 2]
    started = history[0]
    assert started["eventType"] == "WorkflowExecutionStarted"
    assert started["eventTimestamp"].tzinfo is not None
    assert attrs(started) == {
        "input": '{"a": 1}',
        "executionStartToCloseTimeout": "3600",
        "taskStartToCloseTimeout": "30",
        "childPolicy": "TERMINATE",
        "taskList": DECISIONS,
        "workflowType": WORKFLOW,
    }
    assert attrs(history[1]) == {"taskList": DECISIONS, "startToCloseTimeout": "30"}
    desc = swf.describe_workflow_execution(domain=DOMAIN, execution=execution)
    conforms("swf", "DescribeWorkflowExecution", desc)
    assert desc["executionInfo"]["executionStatus"] == "OPEN"
    assert "closeStatus" not in desc["executionInfo"]
    assert desc["executionConfiguration"] == {
        "taskList": DECISIONS,
        "executionStartToCloseTimeout": "3600",
        "taskStartToCloseTimeout": "30",
        "childPolicy": "TERMINATE",
    }
    assert desc["openCounts"]["openDecisionTasks"] == 1
    assert desc["openCounts"]["openActivityTasks"] == 0


def test_start_overrides_and_tags(registered: LocalSWF) -> None:
    ex = start(
        registered,
        taskList={"name": "other"},
        executionStartToCloseTimeout="100",
        taskStartToCloseTimeout="NONE",
        childPolicy="ABANDON",
        tagList=["t1", "t2"],
    )
    first = attrs(events(registered, ex)[0])
    assert first["taskList"] == {"name": "other"}
    assert first["executionStartToCloseTimeout"] == "100"
    assert first["taskStartToCloseTimeout"] == "NONE"
    assert first["childPolicy"] == "ABANDON"
    assert first["tagList"] == ["t1", "t2"]
    task = registered.poll_for_decision_task(domain=DOMAIN, taskList={"name": "other"})
    assert task["taskToken"]


def test_start_faults(registered: LocalSWF) -> None:
    swf = registered
    start(swf, "wf-1")
    with pytest.raises(swf.exceptions.WorkflowExecutionAlreadyStartedFault) as err:
        start(swf, "wf-1")
    assert err.value.operation_name == "StartWorkflowExecution"
    with pytest.raises(swf.exceptions.UnknownResourceFault):
        swf.start_workflow_execution(
            domain=DOMAIN, workflowId="x", workflowType={"name": "No", "version": "1"}
        )
    with pytest.raises(swf.exceptions.UnknownResourceFault):
        swf.start_workflow_execution(
            domain="nope", workflowId="x", workflowType=WORKFLOW
        )
    swf.register_workflow_type(domain=DOMAIN, name="Bare", version="1")
    bare = {"name": "Bare", "version": "1"}
    with pytest.raises(swf.exceptions.DefaultUndefinedFault):
        swf.start_workflow_execution(domain=DOMAIN, workflowId="b", workflowType=bare)
    with pytest.raises(swf.exceptions.DefaultUndefinedFault):
        swf.start_workflow_execution(
            domain=DOMAIN,
            workflowId="b",
            workflowType=bare,
            taskList=DECISIONS,
            executionStartToCloseTimeout="10",
            taskStartToCloseTimeout="10",
        )  # no childPolicy anywhere
    swf.start_workflow_execution(
        domain=DOMAIN,
        workflowId="b",
        workflowType=bare,
        taskList=DECISIONS,
        executionStartToCloseTimeout="10",
        taskStartToCloseTimeout="10",
        childPolicy="TERMINATE",
    )
    swf.deprecate_workflow_type(domain=DOMAIN, workflowType=WORKFLOW)
    with pytest.raises(swf.exceptions.TypeDeprecatedFault):
        start(swf, "wf-2")


def test_workflow_id_reusable_after_close(registered: LocalSWF) -> None:
    first = start(registered, "wf-1")
    registered.terminate_workflow_execution(domain=DOMAIN, workflowId="wf-1")
    second = start(registered, "wf-1")
    assert first["runId"] != second["runId"]
    assert status(registered, first) == ("CLOSED", "TERMINATED")
    assert status(registered, second) == ("OPEN", None)


def test_describe_unknown_execution(registered: LocalSWF) -> None:
    with pytest.raises(ClientError) as err:
        registered.describe_workflow_execution(
            domain=DOMAIN, execution={"workflowId": "x", "runId": "y"}
        )
    assert err.value.response["Error"]["Code"] == "UnknownResourceFault"


def test_history_paging_and_reverse(registered: LocalSWF) -> None:
    swf = registered
    ex = start(swf)
    for i in range(5):
        swf.signal_workflow_execution(
            domain=DOMAIN, workflowId=ex["workflowId"], signalName=f"s{i}"
        )
    all_ids = [e["eventId"] for e in events(swf, ex)]
    assert all_ids == list(range(1, 8))
    for reverse in (False, True):
        seen: list[int] = []
        token: str | None = None
        while True:
            extra: dict[str, str] = {"nextPageToken": token} if token else {}
            page = swf.get_workflow_execution_history(
                domain=DOMAIN,
                execution=ex,
                maximumPageSize=3,
                reverseOrder=reverse,
                **extra,
            )
            conforms("swf", "GetWorkflowExecutionHistory", page)
            assert len(page["events"]) <= 3
            seen += [e["eventId"] for e in page["events"]]
            token = page.get("nextPageToken")
            if not token:
                break
        assert seen == (all_ids[::-1] if reverse else all_ids)


def test_signal_cancel_request_terminate(registered: LocalSWF) -> None:
    swf = registered
    ex = start(swf)
    swf.signal_workflow_execution(
        domain=DOMAIN, workflowId="wf-1", runId=ex["runId"], signalName="go", input="x"
    )
    signaled = [
        e for e in events(swf, ex) if e["eventType"] == "WorkflowExecutionSignaled"
    ]
    assert attrs(signaled[0]) == {"signalName": "go", "input": "x"}
    swf.request_cancel_workflow_execution(domain=DOMAIN, workflowId="wf-1")
    info = swf.describe_workflow_execution(domain=DOMAIN, execution=ex)
    assert info["executionInfo"]["cancelRequested"] is True
    # Still one decision task for all of it.
    assert types(swf, ex).count("DecisionTaskScheduled") == 1
    swf.terminate_workflow_execution(
        domain=DOMAIN, workflowId="wf-1", reason="why", details="because"
    )
    assert status(swf, ex) == ("CLOSED", "TERMINATED")
    terminated = events(swf, ex)[-1]
    assert terminated["eventType"] == "WorkflowExecutionTerminated"
    assert attrs(terminated) == {
        "reason": "why",
        "details": "because",
        "childPolicy": "TERMINATE",
    }
    calls: list[Callable[[], object]] = [
        lambda: swf.signal_workflow_execution(
            domain=DOMAIN, workflowId="wf-1", signalName="late"
        ),
        lambda: swf.request_cancel_workflow_execution(domain=DOMAIN, workflowId="wf-1"),
        lambda: swf.terminate_workflow_execution(domain=DOMAIN, workflowId="wf-1"),
    ]
    for call in calls:
        with pytest.raises(swf.exceptions.UnknownResourceFault):
            call()
    # The closed execution's decision task is gone with it.
    assert poll_decision(swf) == {"startedEventId": 0, "previousStartedEventId": 0}


def test_list_and_count(registered: LocalSWF, clock: FakeClock) -> None:
    swf = registered
    a = start(swf, "a")
    clock.advance(10)
    start(swf, "b")
    clock.advance(10)
    c = start(swf, "c", tagList=["blue"])
    swf.terminate_workflow_execution(domain=DOMAIN, workflowId="a")
    swf.register_workflow_type(domain=DOMAIN, name="Flow", version="2")
    opened = swf.list_open_workflow_executions(domain=DOMAIN, startTimeFilter=EPOCH)
    conforms("swf", "ListOpenWorkflowExecutions", opened)
    # Newest first.
    assert [i["execution"]["workflowId"] for i in opened["executionInfos"]] == [
        "c",
        "b",
    ]
    rev = swf.list_open_workflow_executions(
        domain=DOMAIN, startTimeFilter=EPOCH, reverseOrder=True
    )
    assert [i["execution"]["workflowId"] for i in rev["executionInfos"]] == ["b", "c"]
    by_id = swf.list_open_workflow_executions(
        domain=DOMAIN, startTimeFilter=EPOCH, executionFilter={"workflowId": "c"}
    )
    assert [i["execution"] for i in by_id["executionInfos"]] == [c]
    by_tag = swf.list_open_workflow_executions(
        domain=DOMAIN, startTimeFilter=EPOCH, tagFilter={"tag": "blue"}
    )
    assert [i["execution"] for i in by_tag["executionInfos"]] == [c]
    by_type = swf.list_open_workflow_executions(
        domain=DOMAIN,
        startTimeFilter=EPOCH,
        typeFilter={"name": "Flow", "version": "2"},
    )
    assert by_type["executionInfos"] == []
    window = swf.list_open_workflow_executions(
        domain=DOMAIN,
        startTimeFilter={"oldestDate": clock.now - 15, "latestDate": clock.now - 5},
    )
    assert [i["execution"]["workflowId"] for i in window["executionInfos"]] == ["b"]
    paged = swf.list_open_workflow_executions(
        domain=DOMAIN, startTimeFilter=EPOCH, maximumPageSize=1
    )
    assert len(paged["executionInfos"]) == 1
    rest = swf.list_open_workflow_executions(
        domain=DOMAIN,
        startTimeFilter=EPOCH,
        maximumPageSize=1,
        nextPageToken=paged["nextPageToken"],
    )
    assert rest["executionInfos"][0]["execution"]["workflowId"] == "b"
    assert "nextPageToken" not in rest
    closed = swf.list_closed_workflow_executions(domain=DOMAIN, startTimeFilter=EPOCH)
    conforms("swf", "ListClosedWorkflowExecutions", closed)
    assert [i["execution"] for i in closed["executionInfos"]] == [a]
    assert closed["executionInfos"][0]["closeStatus"] == "TERMINATED"
    filtered = swf.list_closed_workflow_executions(
        domain=DOMAIN, closeTimeFilter=EPOCH, closeStatusFilter={"status": "COMPLETED"}
    )
    assert filtered["executionInfos"] == []
    with pytest.raises(ClientError):
        swf.list_closed_workflow_executions(domain=DOMAIN)
    count = swf.count_open_workflow_executions(domain=DOMAIN, startTimeFilter=EPOCH)
    conforms("swf", "CountOpenWorkflowExecutions", count)
    assert count == {"count": 2, "truncated": False}
    closed_count = swf.count_closed_workflow_executions(
        domain=DOMAIN, startTimeFilter=EPOCH
    )
    assert closed_count["count"] == 1
