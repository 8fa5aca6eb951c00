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

from cpe.runtime.templates import INPUT_NAME

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
    if ir["plan_language"] < 2:
        _check_language_1(ir, origin)
    for name, step in steps.items():
        if step["name"] != name:
            raise IRError(f"{origin}: step {name} is filed under another name")
        _check_kind(step, activities, origin)
        for requirement in step["requires"]:
            required = requirement["step"]
            if required not in steps or position[required] >= position[name]:
                raise IRError(
                    f"{origin}: step {name} requires {required}, which is not a step "
                    "before it in the order"
                )
        _check_fan_out(step, origin)
    output = ir["workflow"].get("output")
    if output is not None:
        for reference in output["references"]:
            if reference["kind"] == "item":
                raise IRError(f"{origin}: the workflow's output reads a fan-out item")
            if reference["kind"] == "step" and reference.get("step") not in steps:
                raise IRError(
                    f"{origin}: the workflow's output reads {reference.get('step')}, "
                    "which is not a step"
                )


_NOT_FOR_WAITING_STEPS = ("retry", "for_each", "input")
LANGUAGE_2_STEP_KEYS = ("when", "retry", "for_each", "wait", "signal")


def _check_language_1(ir: dict[str, Any], origin: str) -> None:
    """IR of plan language 1 has none of what language 2 added."""
    if "output" in ir["workflow"]:
        raise IRError(f"{origin}: plan language 1 has no workflow output")
    for name, step in ir["steps"].items():
        for key in LANGUAGE_2_STEP_KEYS:
            if key in step:
                raise IRError(
                    f"{origin}: step {name} has {key}, which plan language 1 lacks"
                )


def _check_kind(step: dict[str, Any], activities: dict[str, Any], origin: str) -> None:
    """A step runs an activity it declares, or is a wait or a signal step
    (activity null) and has none of what only an activity step has."""
    name = step["name"]
    waits = [key for key in ("wait", "signal") if key in step]
    if len(waits) > 1:
        raise IRError(f"{origin}: step {name} is both a wait and a signal step")
    if not waits:
        if step["activity"] not in activities:
            raise IRError(
                f"{origin}: step {name} names an activity it does not declare"
            )
        return
    if step["activity"] is not None:
        raise IRError(f"{origin}: {waits[0]} step {name} also names an activity")
    for key in _NOT_FOR_WAITING_STEPS:
        if step.get(key) is not None:
            raise IRError(
                f"{origin}: {waits[0]} step {name} has {key}, which only a step "
                "running an activity can have"
            )


def _check_fan_out(step: dict[str, Any], origin: str) -> None:
    """A fan-out path names the input or a step the fan-out step requires to
    have succeeded; only a fan-out step's input reads an item."""
    name = step["name"]
    for_each = step.get("for_each")
    references = (step["input"] or {}).get("references", [])
    if for_each is None:
        if any(reference["kind"] == "item" for reference in references):
            raise IRError(f"{origin}: step {name} reads an item but has no for_each")
        return
    source = for_each["path"]["name"]
    succeeded = {
        r["step"] for r in step["requires"] if r["status"] in ("succeeded", "completed")
    }
    if source != INPUT_NAME and source not in succeeded:
        raise IRError(
            f"{origin}: step {name}'s for_each reads {source}, which is neither "
            f"{INPUT_NAME} nor a step it requires to have succeeded"
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
