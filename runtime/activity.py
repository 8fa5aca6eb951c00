"""The activity SDK: how user code declares the work a step runs.

An activity is a plain function from the task input (parsed JSON) to a
JSON-serialisable result. The decorator only attaches the SWF activity type to
the function; a worker finds activities by scanning the module it loads, so
there is no global registry that import order could disturb.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

ActivityFunction = Callable[[Any], Any]
F = TypeVar("F", bound=ActivityFunction)

_MARK = "__cpe_activity__"


@dataclass(frozen=True)
class ActivityDefinition:
    """One activity type and the function that implements it."""

    name: str
    """The SWF activity type name, as the plan's `activities[].name` spells it."""
    version: str
    """The SWF activity type version, as text (`"1.0"`, `"v2"`)."""
    function: ActivityFunction

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.version)


def activity(*, name: str, version: str) -> Callable[[F], F]:
    """Declare `function` as the code of the activity type `name`/`version`.

    The function is returned unchanged, so it stays callable (and testable) as
    an ordinary function.
    """
    if not name or not isinstance(name, str):
        raise ValueError("activity name must be a non-empty string")
    if not isinstance(version, str) or not version:
        raise ValueError(
            f"activity version must be a non-empty string, got {version!r}; "
            'write it quoted, as in version="1.0"'
        )

    def mark(function: F) -> F:
        setattr(function, _MARK, ActivityDefinition(name, version, function))
        return function

    return mark


class ActivityLoadError(Exception):
    """The activity code named by the user cannot be loaded."""


def definitions_in(module: ModuleType) -> list[ActivityDefinition]:
    """Every activity defined in `module`, in a stable order."""
    found: dict[tuple[str, str], ActivityDefinition] = {}
    for value in vars(module).values():
        definition = getattr(value, _MARK, None)
        if isinstance(definition, ActivityDefinition):
            if definition.key in found and found[definition.key] is not definition:
                raise ActivityLoadError(
                    f"{module.__name__} defines activity {definition.name} "
                    f"version {definition.version} twice"
                )
            found[definition.key] = definition
    return [found[key] for key in sorted(found)]


def load_module(source: str) -> ModuleType:
    """Import a Python file (a path ending in `.py`) or a module by dotted name."""
    if source.endswith(".py") or "/" in source:
        path = Path(source).resolve()
        if not path.is_file():
            raise ActivityLoadError(f"{source}: no such activity file")
        # A name derived from the path keeps two files named activities.py apart.
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
        module_name = f"cpe_user_activities_{path.stem}_{digest}"
        if module_name in sys.modules:
            return sys.modules[module_name]
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ActivityLoadError(f"{source}: cannot be imported as Python")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            del sys.modules[module_name]
            raise ActivityLoadError(
                f"{source}: importing it raised {type(error).__name__}: {error}"
            ) from error
        return module
    try:
        return importlib.import_module(source)
    except ImportError as error:
        raise ActivityLoadError(
            f"cannot import activity module {source}: {error}"
        ) from error


def load_activities(
    sources: Iterable[str],
) -> dict[tuple[str, str], ActivityDefinition]:
    """The activities defined by each file or module of `sources`, by (name, version)."""
    table: dict[tuple[str, str], ActivityDefinition] = {}
    for source in sources:
        module = load_module(source)
        definitions = definitions_in(module)
        if not definitions:
            raise ActivityLoadError(
                f"{source} defines no activity: decorate a function with "
                '@activity(name="...", version="...") from cpe.runtime'
            )
        for definition in definitions:
            table[definition.key] = definition
    return table
