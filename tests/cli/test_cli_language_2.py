"""`cpec check`, `compile` and `schema` on plans of language 2, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from tests.cpec_process import ROOT, cpec

FIXTURE = ROOT / "tests" / "fixtures" / "plans" / "language2.yml"
BAD = """\
name: Bad
version: "1"
language: 2
activities:
  - {name: Echo, version: "1"}
steps:
  - name: probe
    activity: Echo
    retry: {max_attempts: 0}
  - {name: each, activity: Echo, for_each: prob.items, as: n}
  - {name: pause, wait: 10, signal: go}
output: '{"x": {{ n }}}'
"""


def test_check_json_gives_each_problem_with_its_place(tmp_path: Path) -> None:
    plan = tmp_path / "bad.yml"
    plan.write_text(BAD)
    result = cpec("check", plan, "--format", "json")
    assert result.returncode == 1
    found = [(d["line"], d["column"], d["code"]) for d in json.loads(result.stderr)]
    assert found == [
        (9, 27, "E160"),
        (10, 44, "E166"),
        (11, 29, "E117"),
        (12, 19, "E132"),
    ]


def test_check_github_annotates_the_lines(tmp_path: Path) -> None:
    plan = tmp_path / "bad.yml"
    plan.write_text(BAD)
    result = cpec("check", plan, "--format", "github")
    assert result.returncode == 1
    assert (
        f"::error file={plan},line=9,col=27,title=E160::"
        in result.stdout + result.stderr
    )


def test_the_fixture_compiles(tmp_path: Path) -> None:
    out = tmp_path / "ir.json"
    result = cpec("compile", FIXTURE, "-o", out)
    assert result.returncode == 0, result.stderr
    ir = json.loads(out.read_text())
    assert ir["plan_language"] == 2
    assert ir["steps"]["pause"]["activity"] is None


def test_the_printed_schema_accepts_the_fixture() -> None:
    import yaml

    result = cpec("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    errors = list(
        Draft202012Validator(schema).iter_errors(yaml.safe_load(FIXTURE.read_text()))
    )
    assert errors == []
    bad = yaml.safe_load(BAD)
    assert list(Draft202012Validator(schema).iter_errors(bad))
