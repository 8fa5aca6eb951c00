"""Properties of the compiler over generated plans."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cpe.compiler import check_text
from cpe.compiler.ir import dumps


@st.composite
def dag_plans(draw: st.DrawFn) -> tuple[dict[str, object], list[tuple[int, int]]]:
    """A plan whose step i may require any step j < i (so it is a DAG)."""
    count = draw(st.integers(1, 12))
    edges = [(j, i) for i in range(count) for j in range(i) if draw(st.booleans())]
    steps = []
    for i in range(count):
        requires = [f"s{j}" for j, k in edges if k == i]
        step: dict[str, object] = {"name": f"s{i}", "activity": "A"}
        if requires:
            step["requires"] = requires
            step["input"] = (
                "{" + ", ".join(f'"{r}": {{{{ {r} }}}}' for r in requires) + "}"
            )
        steps.append(step)
    order = draw(st.permutations(steps))  # the file may list steps in any order
    plan = {
        "name": "Generated",
        "version": "1",
        "activities": [{"name": "A", "version": "1"}],
        "steps": list(order),
    }
    return plan, edges


@settings(max_examples=100, deadline=None)
@given(dag_plans())
def test_dags_compile_deterministically_in_topological_order(
    generated: tuple[dict[str, object], list[tuple[int, int]]],
) -> None:
    plan, edges = generated
    text = yaml.safe_dump(plan, sort_keys=False)
    ir, diagnostics = check_text(text, "gen.yml")
    assert ir is not None, [d.render() for d in diagnostics]
    position = {name: index for index, name in enumerate(ir["order"])}
    assert sorted(position) == sorted(f"s{i}" for i in range(len(position)))
    for j, i in edges:
        assert position[f"s{j}"] < position[f"s{i}"]
    again, _ = check_text(text, "gen.yml")
    assert again is not None and dumps(again) == dumps(ir)


@settings(max_examples=100, deadline=None)
@given(dag_plans(), st.data())
def test_any_back_edge_is_reported_as_a_cycle(
    generated: tuple[dict[str, object], list[tuple[int, int]]], data: st.DataObject
) -> None:
    plan, edges = generated
    if not edges:
        return
    j, i = data.draw(st.sampled_from(edges))
    steps = plan["steps"]
    assert isinstance(steps, list)
    for step in steps:
        if step["name"] == f"s{j}":
            step["requires"] = [*step.get("requires", []), f"s{i}"]
    ir, diagnostics = check_text(yaml.safe_dump(plan, sort_keys=False), "gen.yml")
    assert ir is None
    cycles = [d for d in diagnostics if d.code == "E125"]
    assert cycles
    assert all(d.message.startswith("the steps form a cycle: ") for d in cycles)
