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


def _steps_that_never_run(plan: Plan, order: list[str], sink: DiagnosticSink) -> None:
    """A step runs only if each requirement ends as it asks; a requirement on a
    step that must have succeeded (or failed) carries that step's own needs.
    When two needs ask one step for different outcomes, the step never runs."""
    needs: dict[str, dict[str, str]] = {}
    for name in order:
        step = plan.steps[name]
        mine: dict[str, str] = {}
        conflict: tuple[str, str, str] | None = None
        for requirement in step.requires:
            outcome = _OUTCOMES.get(requirement.status)
            if outcome is None or requirement.step not in plan.steps:
                continue
            implied = {**needs.get(requirement.step, {}), requirement.step: outcome}
            for other, wanted in implied.items():
                if mine.setdefault(other, wanted) != wanted and conflict is None:
                    conflict = (other, mine[other], wanted)
        needs[name] = mine
        if conflict is not None:
            other, one, two = conflict
            sink.warning(
                step.position,
                "W154",
                f"step {name} can never run: it needs {other} to have both "
                f"{one} and {two}",
                "check the statuses in its requires and in the requires of the "
                "steps it requires",
            )
