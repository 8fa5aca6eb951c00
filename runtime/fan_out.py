"""Fan-out steps: the list a step runs over, and what the step is once its items end.

A fan-out step runs one task per item of a list that the workflow input or a
required step's output gives. What later steps see of it is the list of every
item's value in item order, a failed item's value being null.
"""

from __future__ import annotations

from typing import Any

from cpe.grammar.selectors import SelectorMiss, a_json_type, evaluate
from cpe.runtime.templates import INPUT_NAME

MAX_OPEN_ACTIVITIES = 1000
"""SWF's limit of open activity tasks in one workflow execution."""


class FanOutError(Exception):
    """A fan-out step's path gives no list; the message is in the plan's terms."""


def items_of(
    step_name: str,
    for_each: dict[str, Any],
    workflow_input: Any,
    outputs: dict[str, Any],
) -> list[Any]:
    """The items of a fan-out step; `outputs` holds the succeeded steps' outputs."""
    path = for_each["path"]
    source = path["name"]
    if source == INPUT_NAME:
        data = workflow_input
    elif source in outputs:
        data = outputs[source]
    else:
        raise FanOutError(
            f"step {step_name} runs for each item of {for_each['text']}, but "
            f"{source} did not succeed and left no output"
        )
    try:
        items = evaluate(path["steps"], data)
    except SelectorMiss as miss:
        raise FanOutError(
            f"step {step_name} runs for each item of {for_each['text']}, "
            f"which is not there: {miss}"
        ) from None
    if not isinstance(items, list):
        raise FanOutError(
            f"step {step_name} runs for each item of {for_each['text']}, "
            f"which is {a_json_type(items)}, not a list"
        )
    return items


def gathered_output(values: list[Any], outputs_spec: dict[str, Any] | None) -> Any:
    """A fan-out step's output from its items' values (None for a failed item).

    With an outputs_spec every output key is the list of that key over the
    items, so `{{ square.value }}` gives `[1, 4, 9]`.
    """
    if outputs_spec is None:
        return values
    return {
        key: [value[key] if isinstance(value, dict) else None for value in values]
        for key in outputs_spec
    }


def concurrency_slots(for_each: dict[str, Any], open_items: int) -> int:
    """How many more items may be opened now under the step's max_concurrency."""
    limit = for_each.get("max_concurrency")
    if limit is None:
        return MAX_OPEN_ACTIVITIES
    return max(0, int(limit) - open_items)
