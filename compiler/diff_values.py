"""How `cpec diff` writes values into sentences: short, unambiguous, stable."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
SHOWN_NAMES = 5


def show(value: Any, limit: int = 60) -> str:
    """A value as compact JSON, cut short so a sentence stays on one line."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def seconds(value: Any) -> str:
    """An IR timeout (seconds as a string, or "NONE") for a reader."""
    return f"{value}s" if isinstance(value, str) and value.isdigit() else show(value)


def listing(names: Iterable[str]) -> str:
    """`a, b and c`; long lists end with how many were left out."""
    items = list(names)
    if len(items) > SHOWN_NAMES:
        shown = items[: SHOWN_NAMES - 1]
        return ", ".join(shown) + f" and {len(items) - len(shown)} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def path_text(root: str, path: Iterable[Any]) -> str:
    """A data path as a template writes it: `root.a[0]["b-c"]`."""
    text = root
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and _IDENTIFIER.match(part):
            text += f".{part}"
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text


def reference_text(reference: dict[str, Any]) -> str:
    """A template reference of the IR as the plan writes it."""
    path = reference.get("path", [])
    if reference.get("kind") == "step":
        return path_text(str(reference.get("step")), path)
    if reference.get("kind") == "input":
        return path_text("__input__", path)
    if reference.get("kind") == "item":
        return path_text("(the item)", path)
    return show(reference)


def canonical(value: Any) -> str:
    """A value's identity for set comparisons of JSON data."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
