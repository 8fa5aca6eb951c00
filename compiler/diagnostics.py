"""Diagnostics: every problem the compiler finds, with where it is and how to fix it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Position:
    """A place in a source file; line and column count from 1, as editors show them."""

    line: int
    column: int


@dataclass(frozen=True)
class Diagnostic:
    """One problem of a plan."""

    path: str
    position: Position
    code: str
    """A stable identifier of the kind of problem, such as ``E123``."""
    message: str
    """What is wrong, in one sentence."""
    severity: Severity = Severity.ERROR
    hint: str | None = None
    """How to fix it, when the compiler can tell."""

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (
            self.path,
            self.position.line,
            self.position.column,
            self.code,
            self.message,
        )

    def render(self) -> str:
        """The one-line form ``path:line:col: error: message [code]``, then the hint."""
        text = (
            f"{self.path}:{self.position.line}:{self.position.column}: "
            f"{self.severity.value}: {self.message} [{self.code}]"
        )
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.position.line,
            "column": self.position.column,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


class CompileError(Exception):
    """A plan cannot be compiled; `diagnostics` lists every problem found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        errors = [d for d in self.diagnostics if d.severity is Severity.ERROR]
        summary = f"{len(errors)} error(s)"
        if errors:
            summary += f"; first: {errors[0].render().splitlines()[0]}"
        super().__init__(summary)


@dataclass
class DiagnosticSink:
    """Collects the diagnostics of one file while the compiler's stages run."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(
        self, position: Position, code: str, message: str, hint: str | None = None
    ) -> None:
        self.diagnostics.append(
            Diagnostic(self.path, position, code, message, Severity.ERROR, hint)
        )

    def warning(
        self, position: Position, code: str, message: str, hint: str | None = None
    ) -> None:
        self.diagnostics.append(
            Diagnostic(self.path, position, code, message, Severity.WARNING, hint)
        )

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.as_json() for d in diagnostics], indent=2) + "\n"
