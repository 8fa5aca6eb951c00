"""SWF durations ("NONE" or whole seconds as a string) and activity deadlines."""

from __future__ import annotations

from cpe.runtime.backends.local.errors import swf_error


def parse_duration(value: str | None, name: str, operation: str) -> int | None:
    """Seconds of an SWF duration string; None for "NONE"."""
    if value is None or value == "NONE":
        return None
    if not value.isdigit():
        raise swf_error(
            "ValidationException",
            f"Invalid value '{value}' for {name}: expected \"NONE\" or a whole "
            "number of seconds.",
            operation,
        )
    return int(value)


def check_duration(value: str | None, name: str, operation: str) -> None:
    """Reject a malformed duration string before anything is written."""
    parse_duration(value, name, operation)


def due(start: float, seconds: int | None) -> float | None:
    return None if seconds is None else start + seconds


def activity_deadline(
    *,
    state: str,
    scheduled: float,
    started: float | None,
    heartbeat: float | None,
    schedule_to_start: int | None,
    schedule_to_close: int | None,
    start_to_close: int | None,
    heartbeat_timeout: int | None,
) -> tuple[float | None, str | None]:
    """The earliest timeout that can fire in this state, and its timeoutType."""
    candidates: list[tuple[float, str]] = []

    def add(at: float | None, kind: str) -> None:
        if at is not None:
            candidates.append((at, kind))

    add(due(scheduled, schedule_to_close), "SCHEDULE_TO_CLOSE")
    if state == "SCHEDULED":
        add(due(scheduled, schedule_to_start), "SCHEDULE_TO_START")
    else:
        assert started is not None
        add(due(started, start_to_close), "START_TO_CLOSE")
        # The heartbeat clock starts when a worker takes the task.
        add(
            due(heartbeat if heartbeat is not None else started, heartbeat_timeout),
            "HEARTBEAT",
        )
    if not candidates:
        return None, None
    at, kind = min(candidates)
    return at, kind
