"""What SWF rejects, and how the polling loops recover when a call fails.

Both loops (the activity worker and the decision poller) need the same three
things: to tell an error code from any backend's exception, to wait a capped
exponential backoff between failing calls, and to keep the text they send
within SWF's length limits so that a long message never turns into a rejected
call.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

REASON_LIMIT = 256
"""SWF's maximum length of a `reason` (failed, canceled, FailWorkflowExecution)."""
DETAILS_LIMIT = 32_768
"""SWF's maximum length of `details`, `result` and heartbeat details."""
PAYLOAD_LIMIT = 32_768
"""SWF's maximum length of the input of an activity task or an execution."""

TRUNCATION_MARKER = "… [truncated]"

NAME_LIMIT = 256
"""SWF's maximum length of names: domains, types, task lists, workflow ids."""
DURATION_DIGITS = 8
"""SWF durations are strings of at most 8 characters (seconds, or NONE)."""
# SWF rejects names holding ':', '/', '|' or control characters, and names
# containing the literal "arn".
_FORBIDDEN_IN_NAMES = re.compile(r"[:/|\x00-\x1f\x7f-\x9f]|arn")


def swf_name_problem(name: str) -> str | None:
    """Why SWF would reject `name` as a name or an id, or None if it would not."""
    if not name:
        return "it is empty"
    if len(name) > NAME_LIMIT:
        return f"it is {len(name)} characters; SWF allows {NAME_LIMIT}"
    if name != name.strip() or _FORBIDDEN_IN_NAMES.search(name):
        return (
            "SWF rejects ':', '/', '|', control characters, surrounding spaces "
            "and the text 'arn' in names"
        )
    return None


UNKNOWN_RESOURCE = "UnknownResourceFault"

# Codes that say "try again later" rather than "this request is wrong".
_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "LimitExceededFault",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def error_code(error: BaseException) -> str | None:
    """The SWF error code carried by `error`, if it has one.

    Read from the botocore-style `response["Error"]["Code"]` by duck typing, so
    that the embedded backend's exceptions are understood as long as they keep
    boto3's shape, without this module importing that backend.
    """
    response = getattr(error, "response", None)
    if not isinstance(response, Mapping):
        return None
    details = response.get("Error")
    if not isinstance(details, Mapping):
        return None
    code = details.get("Code")
    return code if isinstance(code, str) else None


def is_unknown_resource(error: BaseException) -> bool:
    """True when SWF no longer knows the task (timed out, or execution closed)."""
    return error_code(error) == UNKNOWN_RESOURCE


def is_transient(error: BaseException) -> bool:
    """True for failures that a later retry of the same call may not meet."""
    if _is_connection_error(error):
        return True
    code = error_code(error)
    if code in _TRANSIENT_CODES:
        return True
    return _http_status(error) >= 500


def _is_connection_error(error: BaseException) -> bool:
    # Not every BotoCoreError: a ParamValidationError or NoCredentialsError
    # would fail the same way on every retry. The builtin ConnectionError and
    # TimeoutError cover backends other than botocore.
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    try:
        from botocore import exceptions
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return False
    return isinstance(error, exceptions.ConnectionError | exceptions.HTTPClientError)


def _http_status(error: BaseException) -> int:
    response = getattr(error, "response", None)
    if not isinstance(response, Mapping):
        return 0
    metadata = response.get("ResponseMetadata")
    if not isinstance(metadata, Mapping):
        return 0
    status = metadata.get("HTTPStatusCode")
    return status if isinstance(status, int) else 0


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with a visible marker."""
    if len(text) <= limit:
        return text
    keep = max(limit - len(TRUNCATION_MARKER), 0)
    return (text[:keep] + TRUNCATION_MARKER)[:limit]


def shorten_middle(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, keeping its start and its end.

    Used for tracebacks, whose first lines say where the trouble began and
    whose last line says what the exception was.
    """
    if len(text) <= limit:
        return text
    marker = f"\n{TRUNCATION_MARKER}\n"
    room = limit - len(marker)
    if room <= 0:
        return shorten(text, limit)
    head = room // 2
    tail = room - head
    return text[:head] + marker + text[len(text) - tail :]


def describe_exception(error: BaseException) -> str:
    """`ExceptionType: message`, or just the type when the message is empty."""
    message = str(error)
    name = type(error).__name__
    return f"{name}: {message}" if message else name


@dataclass(frozen=True)
class RetryPolicy:
    """How long the loops wait between failing calls, and how often they retry."""

    base: float = 0.5
    """The first wait, in seconds; each further failure doubles it."""
    cap: float = 30.0
    """The longest wait, in seconds, however many failures came before."""
    respond_attempts: int = 4
    """How many times a respond (or a history page) is tried on transient errors."""

    def delay(self, failures: int) -> float:
        """The wait after `failures` consecutive failures (1 or more), with jitter.

        The jitter keeps many workers that failed together from retrying in
        lockstep against a recovering service.
        """
        exponent = min(max(failures - 1, 0), 32)
        ceiling = min(self.cap, self.base * (2.0**exponent))
        return random.uniform(ceiling / 2, ceiling)


DEFAULT_RETRY = RetryPolicy()


class Backoff:
    """Counts consecutive failures of a loop and says how long to wait next."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy
        self._failures = 0

    @property
    def failures(self) -> int:
        return self._failures

    def failed(self) -> float:
        """Record one more failure; the seconds to wait before trying again."""
        self._failures += 1
        return self._policy.delay(self._failures)

    def reset(self) -> None:
        self._failures = 0


def call_with_retries(
    call: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy,
    sleep: Callable[[float], Any] = time.sleep,
) -> T:
    """`call()`, tried again after a backoff while it fails with transient errors.

    A non-transient error, or a transient one on the last attempt, propagates:
    the caller decides whether it is worth a warning or an error.
    """
    attempts = max(policy.respond_attempts, 1)
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as error:
            if attempt == attempts or not is_transient(error):
                raise
            delay = policy.delay(attempt)
            logger.warning(
                "%s failed (%s), attempt %s of %s; retrying in %.2f s",
                what,
                describe_exception(error),
                attempt,
                attempts,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def log_poll_failure(
    log: logging.Logger, error: Exception, where: str, delay: float, backoff: Backoff
) -> None:
    """Log a failed poll that the loop will retry after `delay` seconds."""
    # Non-transient errors (an unknown domain, missing permissions) will not go
    # away by themselves, so they are logged louder; both kinds are retried.
    level = logging.WARNING if is_transient(error) else logging.ERROR
    log.log(
        level,
        "polling %s failed (%s), failure %s in a row; retrying in %.2f s",
        where,
        describe_exception(error),
        backoff.failures,
        delay,
    )


def log_respond_failure(
    log: logging.Logger, error: Exception, what: str, kind: str
) -> None:
    """Log a report that SWF did not take; the loop goes on regardless."""
    if is_unknown_resource(error):
        log.warning(
            "SWF refused the %s report of %s: the task is no longer known "
            "(it timed out or its execution closed)",
            kind,
            what,
        )
    else:
        log.error(
            "reporting %s of %s failed: %s; SWF will time the task out",
            kind,
            what,
            describe_exception(error),
        )
