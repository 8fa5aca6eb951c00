"""SWF's size limits, and shortening text to fit them instead of being rejected."""

from __future__ import annotations

REASON_LIMIT = 256
DETAILS_LIMIT = 32_768
PAYLOAD_LIMIT = 32_768
"""Inputs and results of activities and executions."""

_MARKER = "… [truncated]"


def shorten(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its start and a visible marker."""
    if len(text) <= limit:
        return text
    return text[: limit - len(_MARKER)] + _MARKER
