"""`cpec diff` through a parser built here with the command's `register`, so
these pass before cli.py wires the command in."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import yaml

from cpe.compiler import CompileError
from cpe.compiler.cli import UsageError
from cpe.compiler.cli_diff import register
from cpe.compiler.ir import dumps
from tests.diff.plans import Plan, base_plan, compile_plan, step

ROOT = Path(__file__).parents[2]
TRANSCODE = ROOT / "plans" / "transcode" / "plan.yml"


def run(*argv: str | Path) -> int:
    parser = argparse.ArgumentParser(prog="cpec")
    register(parser.add_subparsers(dest="command"))
    arguments = parser.parse_args([str(a) for a in argv])
    code: int = arguments.handler(arguments)
    return code


def write(tmp_path: Path, name: str, plan: Plan) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


def changed_plan() -> Plan:
    plan = base_plan()
    step(plan, "notify")["requires"] = ["probe"]
    return plan


def test_identical_plans_exit_0_even_with_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = (
        write(tmp_path, "a.yml", base_plan()),
        write(tmp_path, "b.yml", base_plan()),
    )
    assert run("diff", old, new, "--exit-code") == 0
    assert capsys.readouterr().out.startswith("no behavioural change: Media 1")


def test_differences_exit_0_unless_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = (
        write(tmp_path, "a.yml", base_plan()),
        write(tmp_path, "b.yml", changed_plan()),
    )
    assert run("diff", old, new) == 0
    out = capsys.readouterr().out
    assert "step notify\n  ! step notify no longer requires encode" in out
    assert run("diff", old, new, "--exit-code") == 1


def test_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = (
        write(tmp_path, "a.yml", base_plan()),
        write(tmp_path, "b.yml", changed_plan()),
    )
    assert run("diff", "--format", "json", old, new) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["kind"] for c in data["changes"]] == [
        "requirement-removed",
        "ordering-changed",
    ]
    assert data["summary"]["breaking"] == 1


def test_an_ir_file_compares_with_a_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ir = tmp_path / "old.json"
    ir.write_text(dumps(compile_plan(base_plan())), encoding="utf-8")
    plan = write(tmp_path, "same.yml", base_plan())
    assert run("diff", ir, plan, "--exit-code") == 0
    assert capsys.readouterr().out.startswith("no behavioural change")


def test_a_plan_with_errors_prints_both_plans_diagnostics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = base_plan()
    step(broken, "notify")["requires"] = ["nowhere"]
    old = write(tmp_path, "old.yml", broken)
    new = write(tmp_path, "new.yml", broken)
    with pytest.raises(CompileError):  # main turns it into exit 1
        run("diff", old, new)
    err = capsys.readouterr().err
    assert "old.yml:" in err and "new.yml:" in err
    assert "'nowhere', which is not a step" in err


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such plan or IR file"):
        run("diff", tmp_path / "none.yml", TRANSCODE)


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run("diff", "--help")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: cpec diff [-h] [--format {text,json}] [--exit-code] OLD NEW" in out


def test_the_example_plan_against_a_new_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = TRANSCODE.read_text(encoding="utf-8")
    text = text.replace(
        'version: "v2"\n    task_list: "TranscodeAsset-v2"',
        'version: "v3"\n    task_list: "TranscodeAsset-v3"',
    )
    text = text.replace("MakeThumbnailStep", "MakePosterStep")
    new = tmp_path / "plan.yml"
    new.write_text(text, encoding="utf-8")
    assert run("diff", "--format", "json", TRANSCODE, new) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert [(c["kind"], c["subject"]["name"], c["breaking"]) for c in changes] == [
        ("activity-version-changed", "TranscodeAsset", True),
        ("task-list-changed", "TranscodeAsset", True),
        ("step-renamed", "MakePosterStep", True),
        ("template-text-changed", "WriteManifestStep", False),
    ]
    assert changes[0]["steps"] == ["TranscodeAssetStep"]
