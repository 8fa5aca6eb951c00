"""The runtime's IR check accepts plan language 2's keys and refuses IR whose
new keys contradict each other, even with a recomputed content hash."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cpe.compiler import compile_file
from cpe.runtime.ir import IRError, check_ir, content_hash

ROOT = Path(__file__).parents[2]
PLANS = ROOT / "tests" / "fixtures" / "plans"


def rehashed(ir: dict[str, Any]) -> dict[str, Any]:
    body = {key: value for key, value in ir.items() if key != "content_hash"}
    return {**body, "content_hash": content_hash(body)}


@pytest.fixture(scope="module")
def language_2() -> dict[str, Any]:
    return compile_file(PLANS / "language2.yml")


def test_compiled_language_2_ir_is_accepted(language_2: dict[str, Any]) -> None:
    assert check_ir(language_2) is language_2


def _edit(
    ir: dict[str, Any], change: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    edited = copy.deepcopy(ir)
    change(edited)
    return rehashed(edited)


def _set(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(ir: dict[str, Any]) -> None:
        target = ir
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path: list[str]) -> Callable[[dict[str, Any]], None]:
    def change(ir: dict[str, Any]) -> None:
        target = ir
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_set(["steps", "pause", "activity"], "Echo"), "also names an activity"),
        (_set(["steps", "probe", "activity"], None), "names an activity it does not"),
        (
            _set(["steps", "pause", "signal"], {"name": "x", "timeout": None}),
            "both a wait and a signal step",
        ),
        (
            _set(["steps", "approval", "retry"], {"max_attempts": 1}),
            "not valid IR",
        ),
        (
            _set(["steps", "pause", "input"], {"template": "{}", "references": []}),
            "has input",
        ),
        (_set(["steps", "square", "requires"], []), "nor a step it requires"),
        (
            _set(
                ["steps", "square", "requires"], [{"step": "probe", "status": "failed"}]
            ),
            "nor a step it requires",
        ),
        (_delete(["steps", "square", "for_each"]), "reads an item but has no for_each"),
        (_set(["steps", "probe", "retry", "max_attempts"], 0), "not valid IR"),
        (_set(["steps", "probe", "retry", "outcomes"], ["crashed"]), "not valid IR"),
        (_set(["steps", "pause", "wait", "seconds"], -1), "not valid IR"),
        (_set(["steps", "square", "for_each", "max_concurrency"], 0), "not valid IR"),
        (_set(["steps", "square", "for_each", "as"], "a b"), "not valid IR"),
        (
            _set(["workflow", "output", "references"], [{"kind": "item", "path": []}]),
            "reads a fan-out item",
        ),
        (
            _set(
                ["workflow", "output", "references"],
                [{"kind": "step", "step": "nope", "path": []}],
            ),
            "which is not a step",
        ),
        (_set(["plan_language"], 1), "plan language 1"),
    ],
)
def test_contradictions_are_refused(
    language_2: dict[str, Any], change: Callable[[dict[str, Any]], None], reason: str
) -> None:
    with pytest.raises(IRError, match=reason):
        check_ir(_edit(language_2, change))


def test_language_1_ir_without_new_keys_is_accepted() -> None:
    ir = compile_file(PLANS / "diamond.yml")
    assert check_ir(ir) is ir
