"""Opaque page tokens and list pagination the way SWF and SQS page."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")

# SWF's documented default and maximum page size.
SWF_MAX_PAGE = 1000


def encode(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, fail: Callable[[str], ClientError]) -> dict[str, Any]:
    """The state inside a token; `fail` builds the error for a forged token."""
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise fail("Invalid nextPageToken") from exc
    if not isinstance(state, dict):
        raise fail("Invalid nextPageToken")
    return state


def page(
    items: Sequence[T],
    size: int | None,
    token: str | None,
    scope: str,
    fail: Callable[[str], ClientError],
) -> tuple[list[T], str | None]:
    """One page of `items` and the token of the next page (None at the end).

    `scope` names the listing so a token of one listing is refused by another.
    """
    limit = size if size else SWF_MAX_PAGE
    start = 0
    if token:
        state = decode(token, fail)
        if state.get("scope") != scope or not isinstance(state.get("offset"), int):
            raise fail("Invalid nextPageToken")
        start = state["offset"]
    chunk = list(items[start : start + limit])
    nxt = start + limit
    return chunk, (
        encode({"scope": scope, "offset": nxt}) if nxt < len(items) else None
    )
