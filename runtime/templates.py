"""The template language of step inputs: Jinja, sandboxed, every value written as JSON.

Both the compiler (to find the references a template uses and to check it
parses) and the decider (to render a step's input) use this one environment, so
what compiles is exactly what runs.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jinja2 import StrictUndefined, Template, Undefined, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment

INPUT_NAME = "__input__"
"""The variable that holds the workflow input in a template."""

# Filters that only reshape data; nothing that reaches Python objects or I/O.
_SAFE_FILTERS = (
    "default",
    "first",
    "join",
    "last",
    "length",
    "lower",
    "replace",
    "trim",
    "upper",
)


def as_json(value: Any) -> str:
    # The original format writes every substituted value as JSON, so
    # `"name": {{ x }}` becomes `"name": "text"` and objects stay objects.
    if isinstance(value, Undefined):
        return str(value)  # StrictUndefined raises here, naming the variable
    return json.dumps(value, ensure_ascii=False, sort_keys=False)


LOOP_ATTRIBUTES = frozenset(
    {"first", "last", "index", "index0", "revindex", "revindex0", "length"}
)
MAX_EXPONENT = 64
MAX_POWER_BITS = 4096
MAX_REPEATED_LENGTH = 100_000


class _DataOnlyEnvironment(SandboxedEnvironment):
    """Attribute and item access reach into JSON data only, never Python objects.

    Jinja would otherwise let `{{ x.items }}` return the dict method; here it
    means the key "items" of x.
    """

    # A template must not be able to exhaust the decider's memory or time:
    # `{{ "x" * 10**9 }}` or `{{ 9 ** 9 ** 9 }}` are refused.
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float):
            bits = left.bit_length() if isinstance(left, int) else 64
            if abs(right) > MAX_EXPONENT or bits * abs(right) > MAX_POWER_BITS:
                raise SecurityError("a power this large is not allowed in a template")
        if operator == "*":
            sized, count = (
                (left, right) if isinstance(left, str | list) else (right, left)
            )
            if (
                isinstance(sized, str | list)
                and isinstance(count, int)
                and len(sized) * count > MAX_REPEATED_LENGTH
            ):
                raise SecurityError(
                    f"repeating text or a list beyond {MAX_REPEATED_LENGTH} items is not allowed"
                )
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, LoopContext) and attribute in LOOP_ATTRIBUTES:
            # `{% if not loop.last %},{% endif %}` is how a loop writes a JSON list.
            return getattr(obj, attribute)
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Mapping) and isinstance(argument, str) and argument in obj:
            return obj[argument]
        if (
            isinstance(obj, Sequence)
            and not isinstance(obj, str)
            and isinstance(argument, int)
            and -len(obj) <= argument < len(obj)
        ):
            return obj[argument]
        return self.undefined(obj=obj, name=str(argument))


def make_environment(
    finalize: Callable[[Any], str] = as_json,
) -> SandboxedEnvironment:
    """The template environment; `finalize` writes each substituted value."""
    environment = _DataOnlyEnvironment(
        undefined=StrictUndefined,
        finalize=finalize,
        autoescape=False,
        keep_trailing_newline=True,
    )
    environment.globals.clear()
    # JSON's spelling of Jinja's `none`, for authors who write JSON templates.
    environment.globals["null"] = None
    kept = {name: environment.filters[name] for name in _SAFE_FILTERS}
    environment.filters.clear()
    environment.filters.update(kept)
    environment.tests.clear()
    return environment


ENVIRONMENT = make_environment()


def parse(template: str) -> nodes.Template:
    """The Jinja AST of a template; raises jinja2.TemplateSyntaxError."""
    return ENVIRONMENT.parse(template)


@functools.lru_cache(maxsize=1024)
def _compiled(template: str, environment: SandboxedEnvironment) -> Template:
    # A decider renders the same few templates on every replay of a history;
    # compiling one to Python code costs far more than rendering it.
    return environment.from_string(template)


def render(
    template: str,
    context: Mapping[str, Any],
    environment: SandboxedEnvironment = ENVIRONMENT,
) -> str:
    """Render a template; raises jinja2 errors (UndefinedError, ...) on failure."""
    return _compiled(template, environment).render(dict(context))
