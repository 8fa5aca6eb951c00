"""Reading decisions in decider tests."""

from __future__ import annotations

from typing import Any


def attributes_of(decision: dict[str, Any]) -> dict[str, Any]:
    kind = decision["decisionType"]
    attributes: dict[str, Any] = decision[
        kind[0].lower() + kind[1:] + "DecisionAttributes"
    ]
    return attributes


def summary(decisions: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """Each decision as (type, the activity or timer id it is about)."""
    out: list[tuple[str, str | None]] = []
    for decision in decisions:
        attributes = attributes_of(decision)
        out.append(
            (
                decision["decisionType"],
                attributes.get("activityId") or attributes.get("timerId"),
            )
        )
    return out


def only(decisions: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    assert len(decisions) == 1, decisions
    assert decisions[0]["decisionType"] == kind, decisions
    return attributes_of(decisions[0])
