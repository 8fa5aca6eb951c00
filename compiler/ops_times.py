"""Times on the operations commands' command line: ISO 8601 or "2h ago"-style.

`--since 2h` means two hours before now; `--since 2026-12-04T03:00` is that
moment (UTC when no offset is written). Dates go back out as ISO text.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RELATIVE = re.compile(r"(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class TimeFormatError(ValueError):
    """The text is neither an ISO 8601 time nor a relative one like 2h."""


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """The aware datetime `text` names; relative forms count back from `now`."""
    now = now or datetime.now(UTC)
    stripped = text.strip().lower()
    relative = _RELATIVE.fullmatch(stripped)
    if relative is not None:
        seconds = float(relative["amount"]) * _UNIT_SECONDS[relative["unit"]]
        try:
            return now - timedelta(seconds=seconds)
        except (OverflowError, ValueError):
            raise TimeFormatError(
                f"{text!r} reaches back before the year 1: give a shorter span"
            ) from None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise TimeFormatError(
            f"{text!r} is not a time: write ISO 8601 (2026-12-04T03:00:00Z) "
            "or a span back from now (90s, 30m, 2h, 3d, 1w)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def iso(value: object) -> str:
    """A datetime as ISO text in UTC, seconds precision plus milliseconds."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return str(value)
