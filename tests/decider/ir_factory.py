"""IR of plan language 2, built by hand for decider tests.

A plan of language 1 is compiled and the keys of language 2 are added to its
IR as docs/ir.md describes them, so the decider's tests do not wait on the
compiler's support for the new step keys.
"""

from __future__ import annotations

import copy
from typing import Any

from cpe.compiler import compile_text

BASE_PLAN = """
name: Lang2
version: "1"
activities:
  - name: Probe
    version: "1"
  - name: Square
    version: "1"
    outputs_spec:
      value: "$.value"
  - name: Report
    version: "1"
steps:
{steps}
"""

RETRY_DEFAULTS: dict[str, Any] = {
    "max_attempts": 3,
    "interval": 1,
    "backoff_rate": 2,
    "max_interval": 3600,
    "jitter": False,
    "outcomes": ["failed", "timed_out"],
}


def plan_ir(steps_yaml: str) -> dict[str, Any]:
    """The IR of a plan whose steps are `steps_yaml` (indented two spaces),
    marked as language 2."""
    ir = compile_text(BASE_PLAN.format(steps=steps_yaml))
    ir = copy.deepcopy(ir)
    ir["plan_language"] = 2
    return ir


def with_retry(ir: dict[str, Any], step: str, **settings: Any) -> dict[str, Any]:
    ir["steps"][step]["retry"] = {**RETRY_DEFAULTS, **settings}
    return ir


def with_for_each(
    ir: dict[str, Any],
    step: str,
    *,
    source: str,
    path: list[dict[str, Any]],
    as_name: str,
    template: str,
    item_path: list[str | int] | None = None,
    max_concurrency: int | None = None,
    tolerated_failures: int = 0,
) -> dict[str, Any]:
    """Make `step` a fan-out step over `source` + `path`, its input `template`."""
    text = source + "".join(
        f".{part['key']}" if "key" in part else f"[{part['index']}]" for part in path
    )
    ir["steps"][step]["for_each"] = {
        "text": text,
        "path": {"name": source, "steps": path},
        "as": as_name,
        "max_concurrency": max_concurrency,
        "tolerated_failures": tolerated_failures,
    }
    ir["steps"][step]["input"] = {
        "template": template,
        "references": [{"kind": "item", "path": list(item_path or [])}],
    }
    return ir


def as_wait(ir: dict[str, Any], step: str, seconds: int) -> dict[str, Any]:
    ir["steps"][step].update(activity=None, input=None, wait={"seconds": seconds})
    return ir


def as_signal(
    ir: dict[str, Any], step: str, name: str, timeout: int | None = None
) -> dict[str, Any]:
    ir["steps"][step].update(
        activity=None, input=None, signal={"name": name, "timeout": timeout}
    )
    return ir


def with_output(
    ir: dict[str, Any], template: str, references: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    ir["workflow"]["output"] = {"template": template, "references": references or []}
    return ir
