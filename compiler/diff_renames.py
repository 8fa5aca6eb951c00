"""Which removed step and added step are, in all likelihood, one step renamed.

The IR cannot say a step was renamed, so this only pairs a removed and an
added step that are the same in everything but the name (activity,
requirements, input, every other key), that the same surviving steps require,
and only when the pairing is unambiguous. The report then says "looks
renamed", never "renamed".
"""

from __future__ import annotations

from typing import Any

from cpe.compiler.diff_values import canonical


def find_renames(old: dict[str, Any], new: dict[str, Any]) -> dict[str, str]:
    """Old step name to new step name for each step that looks renamed.

    Pairs are found in rounds: once a step is paired, the steps that require
    it may match their own renamed selves in the next round.
    """
    removed = sorted(set(old["steps"]) - set(new["steps"]))
    added = sorted(set(new["steps"]) - set(old["steps"]))
    renames: dict[str, str] = {}
    while True:
        found = _round(old, new, removed, added, renames)
        if not found:
            return renames
        renames.update(found)
        removed = [s for s in removed if s not in found]
        added = [s for s in added if s not in found.values()]


def _round(
    old: dict[str, Any],
    new: dict[str, Any],
    removed: list[str],
    added: list[str],
    renames: dict[str, str],
) -> dict[str, str]:
    shapes: dict[str, list[str]] = {}
    for name in added:
        shapes.setdefault(_shape(new["steps"][name], {}), []).append(name)
    wanted: dict[str, list[str]] = {}
    for name in removed:
        wanted.setdefault(_shape(old["steps"][name], renames), []).append(name)
    pairs = {
        olds[0]: shapes[shape][0]
        for shape, olds in wanted.items()
        if len(olds) == 1 and len(shapes.get(shape, [])) == 1
    }
    # A step kept in both IRs that waited for the old name must wait for the
    # new one, and the other way round.
    kept = (set(old["steps"]) & set(new["steps"])) | set(renames.values())
    return {
        before: after
        for before, after in pairs.items()
        if _dependents(old, before, renames) & kept
        == _dependents(new, after, {}) & kept
    }


def _dependents(ir: dict[str, Any], step: str, renames: dict[str, str]) -> set[str]:
    """The steps of `ir` requiring `step`, named in the new IR's terms."""
    return {
        renames.get(name, name)
        for name, other in ir["steps"].items()
        if any(r["step"] == step for r in other.get("requires", []))
    }


def _shape(step: dict[str, Any], renames: dict[str, str]) -> str:
    """A step without its name, old names of renamed steps in new terms."""
    body = {key: value for key, value in step.items() if key != "name"}
    body["requires"] = [
        {**r, "step": renames.get(r["step"], r["step"])}
        for r in step.get("requires", [])
    ]
    return canonical(body)
