"""Diagnostics: every problem the compiler finds, with where it is and how to fix it."""

from __future__ import annotations

import dataclasses
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
    source_line: str | None = None
    """The text of the line the diagnostic points at, shown with a caret."""

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (
            self.path,
            self.position.line,
            self.position.column,
            self.code,
            self.message,
        )

    @property
    def headline(self) -> str:
        """The one-line form ``path:line:col: error: message [code]``."""
        return (
            f"{self.path}:{self.position.line}:{self.position.column}: "
            f"{self.severity.value}: {self.message} [{self.code}]"
        )

    def render(self) -> str:
        """The headline, the source line with a caret under the column, the hint."""
        lines = [self.headline]
        if self.source_line is not None:
            number = str(self.position.line)
            # Tabs would shift the caret; YAML allows them only inside values.
            shown = self.source_line.replace("\t", " ").rstrip()
            lines.append(f" {number} | {shown}")
            lines.append(f" {' ' * len(number)} | {' ' * (self.position.column - 1)}^")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def render_github(self) -> str:
        """A workflow command that CI systems show as an annotation on the line."""
        kind = "error" if self.severity is Severity.ERROR else "warning"
        message = self.message + (f" (hint: {self.hint})" if self.hint else "")
        return (
            f"::{kind} file={_github_property(self.path)},line={self.position.line},"
            f"col={self.position.column},title={self.code}::{_github_data(message)}"
        )

    def as_error(self) -> Diagnostic:
        """The same diagnostic as an error (for --strict)."""
        return dataclasses.replace(self, severity=Severity.ERROR)

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


def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


class CompileError(Exception):
    """A plan cannot be compiled; `diagnostics` lists every problem found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        errors = [d for d in self.diagnostics if d.severity is Severity.ERROR]
        summary = f"{len(errors)} error(s)"
        if errors:
            summary += f"; first: {errors[0].headline}"
        super().__init__(summary)


@dataclass
class DiagnosticSink:
    """Collects the diagnostics of one file while the compiler's stages run."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    """The file's lines, so each diagnostic can show the one it points at."""

    def _add(
        self,
        severity: Severity,
        position: Position,
        code: str,
        message: str,
        hint: str | None,
    ) -> None:
        index = position.line - 1
        source = self.lines[index] if 0 <= index < len(self.lines) else None
        self.diagnostics.append(
            Diagnostic(self.path, position, code, message, severity, hint, source)
        )

    def error(
        self, position: Position, code: str, message: str, hint: str | None = None
    ) -> None:
        self._add(Severity.ERROR, position, code, message, hint)

    def warning(
        self, position: Position, code: str, message: str, hint: str | None = None
    ) -> None:
        self._add(Severity.WARNING, position, code, message, hint)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.as_json() for d in diagnostics], indent=2) + "\n"
