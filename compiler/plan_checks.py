"""Whole-plan checks: what no single key shows, but the plan as a whole does.

Steps that can never run, activities no step uses, outputs no step reads, and
timeouts that contradict each other. Most are warnings: the plan runs, but
not as its author thinks.
"""

from __future__ import annotations

from cpe.compiler.diagnostics import DiagnosticSink
from cpe.compiler.plan import Activity, Plan, Status
from cpe.compiler.references import Reference

# What must have happened to a step for another to run: it ran and ended so.
_OUTCOMES = {Status.SUCCEEDED: "succeeded", Status.FAILED: "failed"}


def check_plan(
    plan: Plan,
    references: dict[str, list[Reference]],
    order: list[str],
    sink: DiagnosticSink,
) -> None:
    _unused_activities(plan, sink)
    _unread_outputs(plan, references, sink)
    for activity in plan.activities.values():
        _inconsistent_timeouts(activity, sink)
        _longer_than_the_workflow(plan, activity, sink)
        if plan.language >= 2:
            _status_output(activity, sink)
    _steps_that_never_run(plan, order, sink)


def _unused_activities(plan: Plan, sink: DiagnosticSink) -> None:
    used = {step.activity for step in plan.steps.values()}
    for activity in plan.activities.values():
        if activity.name not in used:
            sink.warning(
                activity.position,
                "W150",
                f"activity {activity.name} is declared but no step runs it",
                "remove it, or add the step that should run it",
            )


def _unread_outputs(
    plan: Plan, references: dict[str, list[Reference]], sink: DiagnosticSink
) -> None:
    read: dict[str, set[str]] = {}  # step -> output keys read ("" for all of it)
    for uses in references.values():
        for reference in uses:
            key = reference.path[0] if reference.path else ""
            read.setdefault(reference.name, set()).add(str(key))
    for activity in plan.activities.values():
        if not activity.outputs_spec:
            continue
        # A step nothing requires hands its outputs to the workflow result
        # only, so they count as read.
        required = {r.step for s in plan.steps.values() for r in s.requires}
        runners = [s.name for s in plan.steps.values() if s.activity == activity.name]
        if not runners or any(s not in required for s in runners):
            continue
        for key, selector in activity.outputs_spec.items():
            if any(key in read.get(s, ()) or "" in read.get(s, ()) for s in runners):
                continue
            sink.warning(
                selector.position,
                "W151",
                f"output '{key}' of activity {activity.name} is read by no step",
                "remove it, or read it in the step that needs it",
            )


def _seconds(value: str) -> int | None:
    return None if value == "NONE" else int(value)


def _inconsistent_timeouts(activity: Activity, sink: DiagnosticSink) -> None:
    timeouts = {key: _seconds(value) for key, value in activity.timeouts.items()}
    pairs = [
        (
            "heartbeat_timeout",
            "start_to_close_timeout",
            "the heartbeat timeout can never fire before the task times out",
        ),
        (
            "start_to_close_timeout",
            "schedule_to_close_timeout",
            "the schedule-to-close timeout always fires first",
        ),
        (
            "schedule_to_start_timeout",
            "schedule_to_close_timeout",
            "the schedule-to-close timeout always fires first",
        ),
    ]
    for longer, shorter, consequence in pairs:
        first, second = timeouts[longer], timeouts[shorter]
        if first is None or second is None or first <= second:
            continue
        position = activity.key_positions.get(longer) or activity.key_positions.get(
            shorter, activity.position
        )
        sink.warning(
            position,
            "W152",
            f"activity {activity.name}: {longer} ({first} s) is longer than "
            f"{shorter} ({second} s); {consequence}",
        )


def _outcome_edges(plan: Plan, name: str) -> list[tuple[str, str]]:
    """The steps `name` needs to have run, and the outcome it needs of each."""
    edges: list[tuple[str, str]] = []
    for requirement in plan.steps[name].requires:
        outcome = _OUTCOMES.get(requirement.status)
        if outcome is not None and requirement.step in plan.steps:
            edges.append((requirement.step, outcome))
    return edges


def _needs(plan: Plan, required: str, outcome: str) -> dict[str, str]:
    """What must have happened for `required` to end with `outcome`: that, and
    (as it ran) the outcomes its own requirements needed, transitively."""
    needs = {required: outcome}
    stack = [required]
    while stack:
        for other, wanted in _outcome_edges(plan, stack.pop()):
            if other not in needs:
                needs[other] = wanted
                stack.append(other)
    return needs


def _longer_than_the_workflow(
    plan: Plan, activity: Activity, sink: DiagnosticSink
) -> None:
    execution = _seconds(plan.execution_start_to_close_timeout)
    start_to_close = _seconds(activity.timeouts["start_to_close_timeout"])
    if execution is None or start_to_close is None or start_to_close <= execution:
        return
    sink.warning(
        activity.key_positions.get("start_to_close_timeout", activity.position),
        "W152",
        f"activity {activity.name}: start_to_close_timeout ({start_to_close} s) is longer "
        f"than the workflow's default_execution_start_to_close_timeout ({execution} s); "
        "the workflow times out first",
    )


def _status_output(activity: Activity, sink: DiagnosticSink) -> None:
    selector = (activity.outputs_spec or {}).get("status")
    if selector is not None:
        sink.warning(
            selector.position,
            "W148",
            f"activity {activity.name} declares an output 'status'; in a condition, "
            "step.status is how the step ended, so this output cannot be read there",
            "rename the output",
        )


def _steps_that_never_run(plan: Plan, order: list[str], sink: DiagnosticSink) -> None:
    """A step runs only if each requirement ends as it asks; a requirement on a
    step that must have succeeded (or failed) carries that step's own needs.
    When two needs ask one step for different outcomes, the step never runs.

    Only a step with two or more such requirements can hold a contradiction
    its requirements did not (in a DAG no step needs itself), so only those
    are walked: the check stays linear on long chains.
    """
    for name in order:
        edges = _outcome_edges(plan, name)
        if len(edges) < 2:
            continue
        mine: dict[str, str] = {}
        conflict: tuple[str, str, str] | None = None
        for required, outcome in edges:
            for other, wanted in _needs(plan, required, outcome).items():
                if mine.setdefault(other, wanted) != wanted and conflict is None:
                    conflict = (other, mine[other], wanted)
        if conflict is not None:
            other, one, two = conflict
            sink.warning(
                plan.steps[name].position,
                "W154",
                f"step {name} can never run: it needs {other} to have both "
                f"{one} and {two}",
                "check the statuses in its requires and in the requires of the "
                "steps it requires",
            )
