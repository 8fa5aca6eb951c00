"""When a failed attempt is tried again, and how long the decider waits first.

A retry waits on a durable SWF timer, so the wait must be the same on every
replay of a history: the jitter is drawn from a hash of what the history says
about the failed attempt, never from a random source.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from cpe.runtime.swf_errors import DURATION_DIGITS

MAX_TIMER_SECONDS: int = 10**DURATION_DIGITS - 1
"""The longest wait SWF can carry in an eight-digit duration."""


def retry_applies(retry: dict[str, Any] | None, outcome: str, attempt: int) -> bool:
    """Whether attempt number `attempt`, which ended as `outcome` ("failed" or
    "timed_out"), is followed by another attempt."""
    if retry is None:
        return False
    return outcome in retry["outcomes"] and attempt < int(retry["max_attempts"])


def retry_delay(
    retry: dict[str, Any],
    *,
    step: str,
    item: int | None,
    failed_attempt: int,
    closing_event_id: int,
) -> int:
    """Whole seconds to wait after attempt `failed_attempt` failed.

    The wait is min(interval * backoff_rate ** (attempt - 1), max_interval);
    with jitter it is drawn in [wait/2, wait] from a seed made of the step,
    item, attempt and the id of the event that closed the attempt.
    """
    base = float(retry["interval"]) * float(retry["backoff_rate"]) ** (
        failed_attempt - 1
    )
    wait = min(base, float(retry["max_interval"]), float(MAX_TIMER_SECONDS))
    if retry["jitter"]:
        wait = wait / 2 + _fraction(step, item, failed_attempt, closing_event_id) * (
            wait / 2
        )
    seconds: int = math.floor(wait)
    return max(0, min(MAX_TIMER_SECONDS, seconds))


def _fraction(step: str, item: int | None, attempt: int, event_id: int) -> float:
    """A number in [0, 1] that only the arguments decide."""
    seed = f"{step}\x00{item}\x00{attempt}\x00{event_id}".encode()
    digest = hashlib.sha256(seed).digest()
    return int.from_bytes(digest[:8], "big") / float(2**64 - 1)
