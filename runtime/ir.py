"""Reading compiled IR: the runtime's only view of a plan."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SUPPORTED_IR_VERSIONS = (1,)


class IRError(Exception):
    """A file is not IR this runtime can run."""


def content_hash(body: dict[str, Any]) -> str:
    """The hash of IR without its own hash field, over canonical JSON."""
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def check_ir(ir: Any, origin: str = "IR") -> dict[str, Any]:
    """`ir` itself, once it is known to be IR of a supported version, unaltered."""
    if not isinstance(ir, dict) or "ir_version" not in ir:
        raise IRError(f"{origin} is not cpe IR (it has no ir_version)")
    if ir["ir_version"] not in SUPPORTED_IR_VERSIONS:
        raise IRError(
            f"{origin} has ir_version {ir['ir_version']!r}; this cpe runs "
            f"{', '.join(map(str, SUPPORTED_IR_VERSIONS))}: recompile the plan"
        )
    body = {key: value for key, value in ir.items() if key != "content_hash"}
    if ir.get("content_hash") != content_hash(body):
        raise IRError(
            f"{origin}'s content hash does not match its content; it was edited or "
            "damaged after compiling: recompile the plan"
        )
    # The hash proves the IR is unaltered, not that it was made by cpec: a
    # hand-built file with a recomputed hash gets the same checks.
    error = best_match(_validator().iter_errors(ir))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        raise IRError(f"{origin} is not valid IR at {where}: {error.message}")
    _check_consistency(ir, origin)
    return ir


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(
        resources.files("cpe.runtime").joinpath("ir.schema.json").read_text()
    )
    return Draft202012Validator(schema)


def _check_consistency(ir: dict[str, Any], origin: str) -> None:
    """What a schema cannot say: names that must refer to each other."""
    steps, activities = ir["steps"], ir["activities"]
    if sorted(ir["order"]) != sorted(steps):
        raise IRError(f"{origin}: its order does not list exactly its steps")
    position = {name: index for index, name in enumerate(ir["order"])}
    for name, step in steps.items():
        if step["name"] != name or step["activity"] not in activities:
            raise IRError(
                f"{origin}: step {name} names an activity it does not declare"
            )
        for requirement in step["requires"]:
            required = requirement["step"]
            if required not in steps or position[required] >= position[name]:
                raise IRError(
                    f"{origin}: step {name} requires {required}, which is not a step "
                    "before it in the order"
                )


def looks_like_ir(text: str) -> bool:
    """Whether a file's text is IR (JSON with ir_version) rather than a YAML plan."""
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return False
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError:
        return False
    return isinstance(data, dict) and "ir_version" in data


def load_ir(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IRError(f"{path}: cannot read IR: {error}") from error
    return check_ir(data, str(path))
