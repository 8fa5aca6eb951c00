"""What an input template refers to, found in its Jinja AST.

A template may use `__input__` (the workflow input) and the steps its step
requires. Walking the AST rather than matching text means `{{ a.b }}`,
`{{ a["b"] }}`, loops and filters are all seen for what they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jinja2 import nodes

from cpe.runtime.templates import ENVIRONMENT, INPUT_NAME

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Reference:
    """A name a template uses and the literal path it walks into it."""

    name: str
    path: Path
    line: int
    """The line inside the template (from 1)."""

    def as_json(self, item: str | None = None) -> dict[str, object]:
        """As the IR lists it; `item` is the name of a fan-out step's item."""
        if item is not None and self.name == item:
            return {"kind": "item", "path": list(self.path)}
        if self.name == INPUT_NAME:
            return {"kind": "input", "path": list(self.path)}
        return {"kind": "step", "step": self.name, "path": list(self.path)}


@dataclass(frozen=True)
class DashedName:
    """`{{ step.home-address }}`: meant as one key, read by Jinja as a subtraction."""

    written: str
    """How it is written, e.g. ``step.home-address``."""
    reference: Reference
    """What the author meant: the name with the dashed key in its path."""

    @property
    def bracket_form(self) -> str:
        head, *rest = (self.reference.name, *self.reference.path)
        return str(head) + "".join(
            f"[{part}]" if isinstance(part, int) else f'["{part}"]' for part in rest
        )


@dataclass
class TemplateUses:
    references: list[Reference] = field(default_factory=list)
    dashed: list[DashedName] = field(default_factory=list)
    filters: list[tuple[str, int]] = field(default_factory=list)
    """Each filter and test the template applies, with its line."""


def chain_of(node: nodes.Node) -> tuple[nodes.Name, list[str | int]] | None:
    """For `a.b["c"][0]`, the name `a` and the path ["b", "c", 0]."""
    path: list[str | int] = []
    while True:
        if isinstance(node, nodes.Getattr):
            path.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            if not isinstance(node.arg.value, str | int):
                return None
            path.append(node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Name):
            return node, list(reversed(path))
        else:
            return None


def _dotted(node: nodes.Node) -> tuple[nodes.Name, list[str]] | None:
    """For `a.b.c` written with dots only, the name and ["b", "c"]."""
    chain = chain_of(node)
    if chain is None or not all(isinstance(part, str) for part in chain[1]):
        return None
    name, path = chain
    return name, [str(part) for part in path]


def _local_names(template: nodes.Template) -> set[str]:
    # Inside a for-loop, `loop` is Jinja's own (loop.first, loop.last, ...).
    names: set[str] = {"loop"} if any(template.find_all(nodes.For)) else set()
    names.update(ENVIRONMENT.globals)  # `null`
    for target in template.find_all(nodes.Name):
        if target.ctx in ("store", "param"):
            names.add(target.name)
    return names


def _as_dashed(node: nodes.Sub, lines: list[str]) -> DashedName | None:
    """A subtraction of two dotted names written with no space round the dash."""
    left, right = _dotted(node.left), _dotted(node.right)
    if left is None or right is None:
        return None
    left_text = ".".join([left[0].name, *left[1]])
    right_text = ".".join([right[0].name, *right[1]])
    written = f"{left_text}-{right_text}"
    line = lines[node.lineno - 1] if 0 < node.lineno <= len(lines) else ""
    if not re.search(rf"(?<![\w.]){re.escape(written)}(?![\w-])", line):
        return None  # `a - b` with spaces is arithmetic, not a dashed key
    if not left[1]:
        return None  # `a-b` alone: a dashed name, not a key; reported as unknown names
    *head, last = left[1]
    path = (*head, f"{last}-{right[0].name}", *right[1])
    return DashedName(written, Reference(left[0].name, path, node.lineno))


def find_uses(template: nodes.Template, text: str) -> TemplateUses:
    """The references, dashed keys and filters of a parsed template."""
    local = _local_names(template)
    lines = text.splitlines()
    uses = TemplateUses()

    def visit(node: nodes.Node) -> None:
        if isinstance(node, nodes.Filter | nodes.Test):
            uses.filters.append((node.name, node.lineno))
        if isinstance(node, nodes.Sub):
            dashed = _as_dashed(node, lines)
            if dashed is not None and dashed.reference.name not in local:
                uses.dashed.append(dashed)
                uses.references.append(dashed.reference)
                return
        chain = (
            chain_of(node) if isinstance(node, nodes.Getattr | nodes.Getitem) else None
        )
        if chain is not None:
            name, path = chain
            if name.name not in local:
                uses.references.append(Reference(name.name, tuple(path), name.lineno))
            # Dynamic subscripts inside the chain may refer to names too.
            for item in node.find_all(nodes.Getitem):
                if not isinstance(item.arg, nodes.Const):
                    visit(item.arg)
            return
        if (
            isinstance(node, nodes.Name)
            and node.ctx == "load"
            and node.name not in local
        ):
            uses.references.append(Reference(node.name, (), node.lineno))
            return
        for child in node.iter_child_nodes():
            visit(child)

    visit(template)
    return uses
