"""Plans written for the original CPE, with the mistakes their authors make:
each is diagnosed at its line, and the plan without mistakes compiles as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpe.compiler import check_text

PLAN = (Path(__file__).parent / "ct_plan.yml").read_text()


def with_change(old: str, new: str) -> str:
    assert old in PLAN, old
    return PLAN.replace(old, new, 1)


def found(text: str) -> list[tuple[int, str]]:
    _, diagnostics = check_text(text, "ct_plan.yml")
    return [(d.position.line, d.code) for d in diagnostics]


def test_the_plan_as_written_compiles_cleanly() -> None:
    ir, diagnostics = check_text(PLAN, "ct_plan.yml")
    assert ir is not None
    assert diagnostics == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a template that is not JSON: a missing comma after the first entry
        (
            '"client": {{__input__.client}},',
            '"client": {{__input__.client}}',
            [(20, "E138")],
        ),
        # an output key no activity declares
        (
            "{{ValidateAssetStep.metadata}}",
            "{{ValidateAssetStep.meta}}",
            [(22, "E133")],
        ),
        # a dashed key, read by Jinja as a subtraction
        (
            "{{ValidateAssetStep.metadata}}",
            "{{ValidateAssetStep.input-metadata}}",
            [(22, "E133"), (22, "E135")],
        ),
        # a duplicate key
        ('version: "1.0"', 'version: "1.0"\nversion: "1.1"', [(4, "E101")]),
        # a quoted placeholder: every value is written as JSON already
        (
            '"output_asset": {{__input__.output_asset}}',
            '"output_asset": "{{__input__.output_asset}}"',
            [(23, "E138")],
        ),
    ],
    ids=[
        "not-json",
        "unknown-output",
        "dashed-key",
        "duplicate-key",
        "quoted-placeholder",
    ],
)
def test_each_mistake_is_diagnosed_at_its_line(
    old: str, new: str, expected: list[tuple[int, str]]
) -> None:
    assert found(with_change(old, new)) == expected
