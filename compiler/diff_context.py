"""What every comparison of `cpec diff` needs to know about the two IRs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# When the workflow type changes, the registry keeps the old IR for the old
# type, and the decider replays each execution against the IR of its own type.
KEPT_OLD_IR = (
    "running executions keep the old IR: the workflow type changed, so only "
    "executions of the new type see this"
)


@dataclass(frozen=True)
class DiffContext:
    old: dict[str, Any]
    new: dict[str, Any]
    renames: dict[str, str] = field(default_factory=dict)
    """Old step name to new step name, for steps that look renamed."""
    _new_index: dict[str, int] = field(init=False, repr=False, compare=False)
    _old_index: dict[str, int] = field(init=False, repr=False, compare=False)
    _renamed_from: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Indexes once, so sorting thousands of changes stays linear-ish.
        new_index = {name: i for i, name in enumerate(self.new["order"])}
        old_index = {name: i for i, name in enumerate(self.old["order"])}
        object.__setattr__(self, "_new_index", new_index)
        object.__setattr__(self, "_old_index", old_index)
        reverse = {after: before for before, after in self.renames.items()}
        object.__setattr__(self, "_renamed_from", reverse)

    @property
    def same_type(self) -> bool:
        before, after = self.old["workflow"], self.new["workflow"]
        return (before["name"], before["version"]) == (after["name"], after["version"])

    def replay(
        self, note: str, breaking: bool | None = True
    ) -> tuple[bool | None, str]:
        """How a change that in-flight histories meet again breaks: only when
        the new IR replaces the old one for the same workflow type."""
        if self.same_type:
            return breaking, note
        return False, KEPT_OLD_IR

    def mapped(self, old_step: str) -> str:
        """An old step's name in the new IR's terms."""
        return self.renames.get(old_step, old_step)

    def old_name(self, new_step: str) -> str | None:
        """The name a step of the new IR had in the old one, if it existed."""
        if new_step in self._renamed_from:
            return self._renamed_from[new_step]
        return new_step if new_step in self.old["steps"] else None

    def position(self, step: str) -> tuple[int, int]:
        """Where a step sorts: by the new IR's order, a removed one by the old's."""
        if step in self._new_index:
            return (self._new_index[step], 0)
        if step in self._old_index:
            return (self._old_index[step], 1)
        return (len(self._new_index) + len(self._old_index), 2)

    def runners(self, ir: dict[str, Any], activity: str) -> tuple[str, ...]:
        """The steps of `ir` that run `activity`, in its order."""
        steps = ir["steps"]
        return tuple(s for s in ir["order"] if steps[s].get("activity") == activity)
