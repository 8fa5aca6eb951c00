"""The activity ids the decider gives tasks, and what a worker reads from them.

SWF hands a worker only the activity id, type and input of a task, so the id
is where the decider says which step a task runs, which item of a fan-out it
is and which attempt:

    transcode          step transcode, first attempt
    transcode#2        its second attempt (a retry)
    square[3]          item 3 (from 0) of the fan-out step square
    square[3]#2        that item's second attempt

An id that parses as none of these is the bare name of a step (plans of
language 1 may name steps freely). The compiler refuses `[`, `]` and `#` in the
step names of later plan languages, so their ids cannot be ambiguous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ID = re.compile(
    r"(?P<step>.+?)(?:\[(?P<item>0|[1-9]\d*)\])?(?:#(?P<attempt>[2-9]|[1-9]\d+))?",
    re.DOTALL,  # a language-1 step name may hold any character, newlines too
)

RESERVED_IN_STEP_NAMES = "[]#"
"""Characters a step name of plan language 2 may not hold."""


@dataclass(frozen=True)
class ActivityId:
    step: str
    item: int | None = None
    attempt: int = 1

    def __str__(self) -> str:
        text = self.step
        if self.item is not None:
            text += f"[{self.item}]"
        if self.attempt > 1:
            text += f"#{self.attempt}"
        return text


def format_activity_id(step: str, item: int | None = None, attempt: int = 1) -> str:
    """The activity id of one attempt of a step (or of one item of it)."""
    if attempt < 1:
        raise ValueError(f"attempts count from 1, not {attempt}")
    if item is not None and item < 0:
        raise ValueError(f"items count from 0, not {item}")
    return str(ActivityId(step, item, attempt))


def parse_activity_id(
    text: str, step_names: frozenset[str] | None = None
) -> ActivityId:
    """What an activity id says; a known step name is always read whole.

    `step_names`, when given, are the steps of the plan: an id equal to one of
    them is that step's first attempt even if it looks like an item or a retry.
    """
    if step_names is not None and text in step_names:
        return ActivityId(text)
    match = _ID.fullmatch(text)
    if match is None:
        return ActivityId(text)
    item = match["item"]
    attempt = match["attempt"]
    return ActivityId(
        match["step"],
        None if item is None else int(item),
        1 if attempt is None else int(attempt),
    )


# Timer ids, which SWF holds to the same rules as activity ids.


def retry_timer_id(step: str, item: int | None, next_attempt: int) -> str:
    """A retry's timer id: the activity id of the attempt it leads to."""
    return format_activity_id(step, item, next_attempt)


def wait_timer_id(step: str) -> str:
    return step


_TIMEOUT_SUFFIX = "@timeout"


def timeout_timer_id(step: str) -> str:
    """The timer of a signal step's timeout."""
    return step + _TIMEOUT_SUFFIX


def step_of_timeout_timer(timer_id: str) -> str | None:
    """The signal step whose timeout timer `timer_id` is, if it is one."""
    if timer_id.endswith(_TIMEOUT_SUFFIX):
        return timer_id.removesuffix(_TIMEOUT_SUFFIX)
    return None
