"""The step graph: requirements as edges of a networkx DAG, checked for cycles."""

from __future__ import annotations

import itertools

import networkx as nx

from cpe.compiler.checker import did_you_mean
from cpe.compiler.diagnostics import DiagnosticSink
from cpe.compiler.plan import Plan

# Enumerating every elementary cycle can explode on a badly tangled plan; a
# handful is enough for the author to see what to untie.
_MAX_CYCLES_REPORTED = 10


def build_graph(plan: Plan, sink: DiagnosticSink) -> nx.DiGraph:
    """Edges run from a required step to the step that requires it."""
    graph = nx.DiGraph()
    for name in plan.steps:
        graph.add_node(name)
    for step in plan.steps.values():
        if step.activity and step.activity not in plan.activities:
            sink.error(
                step.activity_position,
                "E120",
                f"step {step.name} runs activity '{step.activity}', which the plan "
                "does not declare",
                did_you_mean(step.activity, plan.activities)
                or "declare it under 'activities:'",
            )
        seen: set[str] = set()
        for requirement in step.requires:
            if requirement.step in seen:
                sink.error(
                    requirement.position,
                    "E127",
                    f"step {step.name} requires {requirement.step} more than once",
                )
                continue
            seen.add(requirement.step)
            if requirement.step == step.name:
                sink.error(
                    requirement.position, "E126", f"step {step.name} requires itself"
                )
                continue
            if requirement.step not in plan.steps:
                sink.error(
                    requirement.position,
                    "E123",
                    f"step {step.name} requires '{requirement.step}', which is not a step",
                    did_you_mean(requirement.step, plan.steps),
                )
                continue
            graph.add_edge(requirement.step, step.name)
    _report_cycles(plan, graph, sink)
    return graph


def _report_cycles(plan: Plan, graph: nx.DiGraph, sink: DiagnosticSink) -> None:
    order = {name: index for index, name in enumerate(plan.steps)}
    for cycle in itertools.islice(nx.simple_cycles(graph), _MAX_CYCLES_REPORTED):
        # Start the cycle at the step written first, so the message is stable.
        start = min(range(len(cycle)), key=lambda i: order[cycle[i]])
        ordered = cycle[start:] + cycle[:start]
        # simple_cycles follows edges required -> requirer; a reader thinks
        # "A requires B requires C", so show the path the other way round.
        path = [ordered[0], *reversed(ordered[1:]), ordered[0]]
        first = plan.steps[path[0]]
        position = next(
            (r.position for r in first.requires if r.step == path[1]), first.position
        )
        sink.error(
            position,
            "E125",
            "the steps form a cycle: " + " requires ".join(path),
            "remove one of these requirements; a workflow must be a DAG",
        )


def topological_order(plan: Plan, graph: nx.DiGraph) -> list[str]:
    """A topological order that keeps the plan's own order among free choices."""
    order = {name: index for index, name in enumerate(plan.steps)}
    return list(nx.lexicographical_topological_sort(graph, key=order.__getitem__))
