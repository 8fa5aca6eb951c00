"""Reading the step keys of plan language 2: retry, for_each, wait and signal.

Each reader reports what is wrong where it is written and gives the typed
value with every default filled in, or None when nothing usable was written.
Whether the key may be used at all (the plan's language, the kind of step)
is decided by the checker before it calls them.
"""

from __future__ import annotations

import keyword
import math
import re
from typing import TYPE_CHECKING

from cpe.compiler.diagnostics import Position
from cpe.compiler.plan import RETRY_OUTCOMES, ForEach, Retry, Signal
from cpe.compiler.source import Mapping, Node, Scalar
from cpe.grammar.conditions import ConditionSyntaxError, parse_condition
from cpe.runtime.swf_errors import DURATION_DIGITS
from cpe.runtime.templates import INPUT_NAME

if TYPE_CHECKING:
    from cpe.compiler.checker import Checker

RETRY_KEYS = {
    "max_attempts": False,
    "interval": False,
    "backoff_rate": False,
    "max_interval": False,
    "jitter": False,
    "outcomes": False,
}
SIGNAL_KEYS = {"name": True, "timeout": False}
FAN_OUT_KEYS = ("as", "max_concurrency", "tolerated_failures")
"""The keys that mean something only next to `for_each`."""

MAX_SECONDS = 10**DURATION_DIGITS - 1
"""SWF writes durations with at most 8 digits."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Names a template already gives a meaning to, besides Python's keywords.
_TEMPLATE_NAMES = {"true", "false", "none", "null", "loop", INPUT_NAME}


def _whole_number(node: Node) -> int | None:
    """An integer written as a number or as digits in quotes; not a boolean."""
    if not isinstance(node, Scalar):
        return None
    value = node.value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def read_count(
    checker: Checker, node: Node, what: str, code: str, minimum: int, maximum: int
) -> int | None:
    """A whole number in [minimum, maximum], reported under `code` if not."""
    number = _whole_number(node)
    if number is not None and minimum <= number <= maximum:
        return number
    checker.sink.error(
        node.position,
        code,
        f"{what} must be a whole number from {minimum} to {maximum}",
    )
    return None


def read_seconds(checker: Checker, node: Node, what: str, code: str) -> int | None:
    number = _whole_number(node)
    if number is not None and 0 <= number <= MAX_SECONDS:
        return number
    checker.sink.error(
        node.position,
        code,
        f"{what} must be whole seconds, 0 to {MAX_SECONDS}",
        "SWF durations are whole seconds with at most 8 digits",
    )
    return None


def read_retry(checker: Checker, node: Node, step: str) -> Retry | None:
    mapping = checker.mapping(node, f"step {step}'s retry")
    if mapping is None:
        return None
    checker.keys(mapping, RETRY_KEYS, f"step {step}'s retry")
    retry = Retry(mapping.position)
    subject = f"step {step}'s retry"
    value = mapping.get("max_attempts")
    if value is not None:
        count = read_count(
            checker, value, f"{subject} max_attempts", "E160", 1, MAX_SECONDS
        )
        retry.max_attempts = count if count is not None else retry.max_attempts
    for key in ("interval", "max_interval"):
        value = mapping.get(key)
        if value is not None:
            seconds = read_seconds(checker, value, f"{subject} {key}", "E160")
            if seconds is not None:
                setattr(retry, key, seconds)
    value = mapping.get("backoff_rate")
    if value is not None:
        rate = _backoff_rate(checker, value, subject)
        retry.backoff_rate = rate if rate is not None else retry.backoff_rate
    value = mapping.get("jitter")
    if value is not None:
        if isinstance(value, Scalar) and isinstance(value.value, bool):
            retry.jitter = value.value
        else:
            checker.sink.error(
                value.position, "E160", f"{subject} jitter must be true or false"
            )
    value = mapping.get("outcomes")
    if value is not None:
        retry.outcomes = _outcomes(checker, value, subject)
    max_interval = mapping.get("max_interval")
    if retry.max_interval < retry.interval and max_interval is not None:
        checker.sink.warning(
            max_interval.position,
            "W160",
            f"{subject} max_interval ({retry.max_interval} s) is shorter than its "
            f"interval ({retry.interval} s): every wait is {retry.max_interval} s",
        )
    return retry


def _backoff_rate(checker: Checker, node: Node, subject: str) -> int | float | None:
    value = node.value if isinstance(node, Scalar) else None
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 1 <= value <= MAX_SECONDS
    ):
        return value
    checker.sink.error(
        node.position,
        "E160",
        f"{subject} backoff_rate must be a number of at least 1",
        "1 waits the same interval before every attempt; 2 doubles it each time",
    )
    return None


def _outcomes(checker: Checker, node: Node, subject: str) -> tuple[str, ...]:
    from cpe.compiler.checker import did_you_mean

    sequence = checker.sequence(node, f"{subject} outcomes")
    if sequence is None:
        return RETRY_OUTCOMES
    chosen: set[str] = set()
    for item in sequence.items:
        text = checker.text(item, f"an outcome of {subject}")
        if text is None:
            continue
        if text in RETRY_OUTCOMES:
            chosen.add(text)
            continue
        checker.sink.error(
            item.position,
            "E161",
            f"{subject} lists the outcome '{text}', which no attempt ends with",
            did_you_mean(text, RETRY_OUTCOMES)
            or "retry outcomes are: " + ", ".join(RETRY_OUTCOMES),
        )
    if not sequence.items:
        checker.sink.error(
            node.position,
            "E161",
            f"{subject} lists no outcomes, so it would never retry",
            "list failed, timed_out or both, or remove the retry",
        )
    return tuple(outcome for outcome in RETRY_OUTCOMES if outcome in chosen)


def read_wait(checker: Checker, node: Node, step: str) -> int | None:
    return read_seconds(checker, node, f"step {step}'s wait", "E170")


def read_signal(checker: Checker, node: Node, step: str) -> Signal | None:
    subject = f"step {step}'s signal"
    if isinstance(node, Scalar):
        name = checker.swf_name(node, f"the name of {subject}")
        return Signal(name, None, node.position) if name is not None else None
    mapping = checker.mapping(node, subject)
    if mapping is None:
        return None
    checker.keys(mapping, SIGNAL_KEYS, subject)
    name = checker.swf_name(mapping.get("name"), f"the name of {subject}")
    timeout: int | None = None
    timeout_node = mapping.get("timeout")
    if timeout_node is not None and not (
        isinstance(timeout_node, Scalar) and timeout_node.is_null
    ):
        timeout = read_seconds(checker, timeout_node, f"{subject} timeout", "E170")
    if name is None:
        return None
    return Signal(name, timeout, mapping.position)


def read_for_each(checker: Checker, mapping: Mapping, step: str) -> ForEach | None:
    """`for_each` with `as`, `max_concurrency` and `tolerated_failures`; reports
    each of those written without `for_each`, and `for_each` without `as`."""
    node = mapping.get("for_each")
    subject = f"step {step}"
    if node is None:
        for key in FAN_OUT_KEYS:
            key_node = mapping.key_node(key)
            if key_node is not None:
                checker.sink.error(
                    key_node.position,
                    "E163",
                    f"{subject} has '{key}' but no for_each; it belongs to a fan-out step",
                    "add 'for_each:' with the path of the list to run over, or remove "
                    f"'{key}'",
                )
        return None
    path = _for_each_path(checker, node, step)
    as_node = mapping.get("as")
    item = None
    if as_node is None:
        checker.sink.error(
            key_position(mapping, "for_each"),
            "E163",
            f"{subject} has for_each but no 'as', so its input cannot name the item",
            "add 'as: item' and write {{ item }} in the input template",
        )
    else:
        item = _item_name(checker, as_node, step)
    concurrency: int | None = None
    concurrency_node = mapping.get("max_concurrency")
    if concurrency_node is not None and not (
        isinstance(concurrency_node, Scalar) and concurrency_node.is_null
    ):
        concurrency = read_count(
            checker,
            concurrency_node,
            f"{subject}'s max_concurrency",
            "E164",
            1,
            MAX_SECONDS,
        )
    tolerated = 0
    tolerated_node = mapping.get("tolerated_failures")
    if tolerated_node is not None:
        tolerated = (
            read_count(
                checker,
                tolerated_node,
                f"{subject}'s tolerated_failures",
                "E164",
                0,
                MAX_SECONDS,
            )
            or 0
        )
    if path is None or item is None or as_node is None or not isinstance(node, Scalar):
        return None
    text, parsed = path
    return ForEach(text, parsed, node, item, as_node.position, concurrency, tolerated)


def key_position(mapping: Mapping, key: str) -> Position:
    key_node = mapping.key_node(key)
    return key_node.position if key_node is not None else mapping.position


def _for_each_path(
    checker: Checker, node: Node, step: str
) -> tuple[str, dict[str, object]] | None:
    subject = f"step {step}'s for_each"
    text = checker.text(node, subject)
    if text is None or not isinstance(node, Scalar):
        return None
    try:
        ast = parse_condition(text)
    except ConditionSyntaxError as error:
        checker.sink.error(
            node.position_in_content(error.line, error.column),
            "E165",
            f"{subject} does not parse as a path: {error.message}",
            "write the path of a list, such as probe.files or __input__.files",
        )
        return None
    path = ast.get("path")
    if not isinstance(path, dict):
        checker.sink.error(
            node.position,
            "E165",
            f"{subject} is not a path to a list: '{text}'",
            "write the path of a list, such as probe.files or __input__.files",
        )
        return None
    return text, path


def _item_name(checker: Checker, node: Node, step: str) -> str | None:
    """The item's name, if it is one a template can use; whether it collides
    with a step is checked once every step is known (fan_out_checks)."""
    text = checker.text(node, f"step {step}'s 'as'")
    if text is None:
        return None
    problem = None
    if not _IDENTIFIER.fullmatch(text):
        problem = (
            "is not a name: use letters, digits and '_', not starting with a digit"
        )
    elif keyword.iskeyword(text) or text in _TEMPLATE_NAMES:
        problem = "already means something in a template"
    if problem is None:
        return text
    checker.sink.error(
        node.position,
        "E162",
        f"step {step}'s 'as: {text}' {problem}",
        "choose another name for the item, such as 'item'",
    )
    return None
