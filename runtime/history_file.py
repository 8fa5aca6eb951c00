"""Reading a recorded SWF history from a file, for offline replay."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import yaml


class HistoryFileError(Exception):
    """A history file cannot be read as an SWF history."""


def _timestamp(value: Any, where: str) -> datetime.datetime:
    """Accept what tools write: epoch seconds, ISO 8601 text, or a YAML datetime."""
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
        except (OverflowError, ValueError, OSError):
            raise HistoryFileError(
                f"{where}: eventTimestamp {value!r} is out of range"
            ) from None
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)
    raise HistoryFileError(f"{where}: eventTimestamp {value!r} is not a time")


def read_history(path: str | Path) -> list[dict[str, Any]]:
    """The events of a history file: `{"events": [...]}` or a bare list."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise HistoryFileError(f"{path}: cannot read: {error}") from error
    try:
        data = json.loads(text)
    except RecursionError:
        raise HistoryFileError(f"{path}: nested too deeply to be a history") from None
    except ValueError:  # JSONDecodeError, or a number too long to convert
        try:
            data = yaml.safe_load(text)
        except RecursionError:
            raise HistoryFileError(
                f"{path}: nested too deeply to be a history"
            ) from None
        except (yaml.YAMLError, ValueError) as error:
            raise HistoryFileError(f"{path}: neither JSON nor YAML: {error}") from None
    events = data.get("events") if isinstance(data, dict) else data
    if not isinstance(events, list):
        raise HistoryFileError(
            f'{path}: expected {{"events": [...]}} or a list of events'
        )
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise HistoryFileError(f"{path}: event {index + 1} is not a mapping")
        if "eventTimestamp" in event:
            event["eventTimestamp"] = _timestamp(
                event["eventTimestamp"],
                f"{path}: event {event.get('eventId', index + 1)}",
            )
    return events


def workflow_type_of(events: list[dict[str, Any]]) -> tuple[str, str] | None:
    """The (name, version) a history's WorkflowExecutionStarted names, if any."""
    for event in events:
        if event.get("eventType") != "WorkflowExecutionStarted":
            continue
        attributes = event.get("workflowExecutionStartedEventAttributes")
        workflow_type = (
            attributes.get("workflowType") if isinstance(attributes, dict) else None
        )
        if isinstance(workflow_type, dict):
            name, version = workflow_type.get("name"), workflow_type.get("version")
            if isinstance(name, str) and isinstance(version, str):
                return name, version
    return None


def other_type_warning(events: list[dict[str, Any]], ir: dict[str, Any]) -> str | None:
    """A sentence saying the history is of another workflow type than `ir`, if it is."""
    recorded = workflow_type_of(events)
    expected = (ir["workflow"]["name"], ir["workflow"]["version"])
    if recorded is None or recorded == expected:
        return None
    return (
        f"the history is of workflow type {recorded[0]} {recorded[1]}, "
        f"the plan is {expected[0]} {expected[1]}"
    )
