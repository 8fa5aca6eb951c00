"""What `cpec diff` finds: changes between two IRs, as plain data.

The result is data first (dataclasses that round-trip through JSON) so that a
deploy pipeline can act on `kind` and `breaking` without parsing sentences;
the sentences are for the operator reading the text rendering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SubjectKind = Literal["workflow", "activity", "step"]


@dataclass(frozen=True)
class Subject:
    """What a change is about: the workflow, one activity or one step."""

    kind: SubjectKind
    name: str

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Change:
    """One behavioural difference between the old and the new IR.

    `breaking` is True when running executions (or the workers serving them)
    are known to be affected by deploying the new IR, False when they are
    known not to be, and None when it depends on how far each execution got;
    `note` says why either way.
    """

    kind: str
    subject: Subject
    message: str
    before: Any = None
    after: Any = None
    key: str | None = None
    """The attribute or item of the subject: a timeout, a required step, an
    output key, an unknown IR key."""
    breaking: bool | None = False
    note: str = ""
    steps: tuple[str, ...] = ()
    """The steps the change reaches beyond its subject (those running a changed
    activity, those that read a removed output key)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": {"kind": self.subject.kind, "name": self.subject.name},
            "key": self.key,
            "message": self.message,
            "before": self.before,
            "after": self.after,
            "breaking": self.breaking,
            "note": self.note,
            "steps": list(self.steps),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        subject = data["subject"]
        return cls(
            kind=data["kind"],
            subject=Subject(subject["kind"], subject["name"]),
            message=data["message"],
            before=data["before"],
            after=data["after"],
            key=data["key"],
            breaking=data["breaking"],
            note=data["note"],
            steps=tuple(data["steps"]),
        )


@dataclass(frozen=True)
class WorkflowIdentity:
    """Which workflow type an IR is, and which exact content."""

    name: str
    version: str
    content_hash: str

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "content_hash": self.content_hash,
        }


@dataclass(frozen=True)
class PlanDiff:
    """Every change from `old` to `new`, in a stable order."""

    old: WorkflowIdentity
    new: WorkflowIdentity
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def identical(self) -> bool:
        return not self.changes

    def count(self, breaking: bool | None) -> int:
        return sum(change.breaking is breaking for change in self.changes)

    def as_json(self) -> dict[str, Any]:
        return {
            "identical": self.identical,
            "old": self.old.as_json(),
            "new": self.new.as_json(),
            "summary": {
                "changes": len(self.changes),
                "breaking": self.count(True),
                "maybe_breaking": self.count(None),
            },
            "changes": [change.as_json() for change in self.changes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanDiff:
        return cls(
            old=WorkflowIdentity(**data["old"]),
            new=WorkflowIdentity(**data["new"]),
            changes=tuple(Change.from_json(c) for c in data["changes"]),
        )

    def render_text(self) -> str:
        # Imported here: the renderer reads this module's types.
        from cpe.compiler.diff_render import render_text

        return render_text(self)
