"""Domains and types: registration, defaults, listings, faults."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from cpe.runtime.backends.local import LocalSWF

from .helpers import ACTIVITY, DOMAIN, WORKFLOW, conforms


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_domain_register_describe_list(swf: LocalSWF) -> None:
    swf.register_domain(
        name="d1", description="first", workflowExecutionRetentionPeriodInDays="3"
    )
    swf.register_domain(name="d2", workflowExecutionRetentionPeriodInDays="1")
    info = swf.describe_domain(name="d1")
    conforms("swf", "DescribeDomain", info)
    assert info["domainInfo"]["name"] == "d1"
    assert info["domainInfo"]["status"] == "REGISTERED"
    assert info["domainInfo"]["description"] == "first"
    assert info["configuration"] == {"workflowExecutionRetentionPeriodInDays": "3"}
    listed = swf.list_domains(registrationStatus="REGISTERED")
    conforms("swf", "ListDomains", listed)
    assert [d["name"] for d in listed["domainInfos"]] == ["d1", "d2"]
    rev = swf.list_domains(registrationStatus="REGISTERED", reverseOrder=True)
    assert [d["name"] for d in rev["domainInfos"]] == ["d2", "d1"]
    assert swf.list_domains(registrationStatus="DEPRECATED")["domainInfos"] == []


def test_domain_faults(swf: LocalSWF) -> None:
    swf.register_domain(name="d1", workflowExecutionRetentionPeriodInDays="1")
    with pytest.raises(swf.exceptions.DomainAlreadyExistsFault) as err:
        swf.register_domain(name="d1", workflowExecutionRetentionPeriodInDays="1")
    assert code(err) == "DomainAlreadyExistsFault"
    assert err.value.operation_name == "RegisterDomain"
    with pytest.raises(ClientError) as err:
        swf.describe_domain(name="nope")
    assert code(err) == "UnknownResourceFault"
    assert isinstance(err.value, swf.exceptions.UnknownResourceFault)


def test_requests_are_validated_like_botocore(swf: LocalSWF) -> None:
    with pytest.raises(ParamValidationError):
        swf.register_domain(name="d1")  # retention period is required
    with pytest.raises(ParamValidationError):
        swf.register_domain(name="d1", workflowExecutionRetentionPeriodInDays=3)
    with pytest.raises(ParamValidationError):
        swf.list_domains(registrationStatus="REGISTERED", bogus=1)
    with pytest.raises(TypeError):
        swf.describe_domain("d1")  # type: ignore[call-arg]


def test_paging_of_listings(swf: LocalSWF) -> None:
    for i in range(5):
        swf.register_domain(name=f"d{i}", workflowExecutionRetentionPeriodInDays="1")
    seen: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, str] = {"nextPageToken": token} if token else {}
        page = swf.list_domains(
            registrationStatus="REGISTERED", maximumPageSize=2, **kwargs
        )
        seen += [d["name"] for d in page["domainInfos"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert seen == [f"d{i}" for i in range(5)]


def test_workflow_type_defaults_and_faults(swf: LocalSWF) -> None:
    swf.register_domain(name=DOMAIN, workflowExecutionRetentionPeriodInDays="1")
    swf.register_workflow_type(
        domain=DOMAIN,
        **WORKFLOW,
        description="a flow",
        defaultTaskList={"name": "tl"},
        defaultExecutionStartToCloseTimeout="60",
        defaultTaskStartToCloseTimeout="NONE",
        defaultChildPolicy="ABANDON",
        defaultTaskPriority="3",
    )
    desc = swf.describe_workflow_type(domain=DOMAIN, workflowType=WORKFLOW)
    conforms("swf", "DescribeWorkflowType", desc)
    assert desc["typeInfo"]["workflowType"] == WORKFLOW
    assert desc["typeInfo"]["status"] == "REGISTERED"
    assert desc["typeInfo"]["creationDate"].tzinfo is not None
    assert desc["configuration"] == {
        "defaultTaskList": {"name": "tl"},
        "defaultExecutionStartToCloseTimeout": "60",
        "defaultTaskStartToCloseTimeout": "NONE",
        "defaultChildPolicy": "ABANDON",
        "defaultTaskPriority": "3",
    }
    with pytest.raises(swf.exceptions.TypeAlreadyExistsFault):
        swf.register_workflow_type(domain=DOMAIN, **WORKFLOW)
    with pytest.raises(swf.exceptions.UnknownResourceFault):
        swf.describe_workflow_type(
            domain=DOMAIN, workflowType={"name": "Flow", "version": "2"}
        )
    with pytest.raises(swf.exceptions.UnknownResourceFault):
        swf.register_workflow_type(domain="missing", **WORKFLOW)
    with pytest.raises(ClientError) as err:
        swf.register_workflow_type(
            domain=DOMAIN, name="Bad", version="1", defaultTaskStartToCloseTimeout="1m"
        )
    assert code(err) == "ValidationException"
    swf.register_workflow_type(domain=DOMAIN, name="Flow", version="2")
    listed = swf.list_workflow_types(domain=DOMAIN, registrationStatus="REGISTERED")
    conforms("swf", "ListWorkflowTypes", listed)
    assert [t["workflowType"]["version"] for t in listed["typeInfos"]] == ["1", "2"]
    swf.deprecate_workflow_type(domain=DOMAIN, workflowType=WORKFLOW)
    with pytest.raises(swf.exceptions.TypeDeprecatedFault):
        swf.deprecate_workflow_type(domain=DOMAIN, workflowType=WORKFLOW)
    deprecated = swf.list_workflow_types(domain=DOMAIN, registrationStatus="DEPRECATED")
    assert [t["workflowType"] for t in deprecated["typeInfos"]] == [WORKFLOW]
    assert "deprecationDate" in deprecated["typeInfos"][0]
    # A deprecated type still exists: registering it again is refused.
    with pytest.raises(swf.exceptions.TypeAlreadyExistsFault):
        swf.register_workflow_type(domain=DOMAIN, **WORKFLOW)
    swf.undeprecate_workflow_type(domain=DOMAIN, workflowType=WORKFLOW)
    assert (
        swf.describe_workflow_type(domain=DOMAIN, workflowType=WORKFLOW)["typeInfo"][
            "status"
        ]
        == "REGISTERED"
    )


def test_activity_type_defaults(swf: LocalSWF) -> None:
    swf.register_domain(name=DOMAIN, workflowExecutionRetentionPeriodInDays="1")
    swf.register_activity_type(
        domain=DOMAIN,
        **ACTIVITY,
        defaultTaskList={"name": "act"},
        defaultTaskScheduleToStartTimeout="10",
        defaultTaskScheduleToCloseTimeout="NONE",
        defaultTaskStartToCloseTimeout="20",
        defaultTaskHeartbeatTimeout="5",
    )
    desc = swf.describe_activity_type(domain=DOMAIN, activityType=ACTIVITY)
    conforms("swf", "DescribeActivityType", desc)
    assert desc["configuration"]["defaultTaskHeartbeatTimeout"] == "5"
    assert desc["configuration"]["defaultTaskList"] == {"name": "act"}
    with pytest.raises(swf.exceptions.TypeAlreadyExistsFault):
        swf.register_activity_type(domain=DOMAIN, **ACTIVITY)
    swf.register_activity_type(domain=DOMAIN, name="Other", version="1")
    named = swf.list_activity_types(
        domain=DOMAIN, registrationStatus="REGISTERED", name="Other"
    )
    conforms("swf", "ListActivityTypes", named)
    assert [t["activityType"]["name"] for t in named["typeInfos"]] == ["Other"]
    swf.deprecate_activity_type(domain=DOMAIN, activityType=ACTIVITY)
    with pytest.raises(swf.exceptions.UnknownResourceFault):
        swf.describe_activity_type(
            domain=DOMAIN, activityType={"name": "x", "version": "1"}
        )
