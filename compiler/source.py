"""Reading a plan file into YAML nodes that remember where they were written.

PyYAML's composer gives a node tree with marks; we turn it into small typed
nodes that keep the scalar text exactly as written (so ``version: 1.10`` stays
"1.10"), report duplicate keys instead of silently keeping the last one, and
never construct arbitrary Python objects.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from cpe.compiler.diagnostics import DiagnosticSink, Position

_STR_TAG = "tag:yaml.org,2002:str"
_KNOWN_SCALAR_TAGS = {
    _STR_TAG,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


@dataclass
class Node:
    position: Position


@dataclass
class Scalar(Node):
    text: str
    """The scalar's value as written (after YAML's own unescaping and folding)."""
    tag: str
    style: str | None
    """None for plain scalars; one of ``'"|>`` otherwise."""
    value: Any = None
    """The JSON-compatible value YAML gives this scalar (int, float, bool, None, str)."""
    first_content_line: int = 0
    """For block scalars (``|``, ``>``), the line where the content starts."""
    content_indent: int = 0

    @property
    def is_null(self) -> bool:
        return self.tag == "tag:yaml.org,2002:null"

    @property
    def is_string(self) -> bool:
        return self.tag == _STR_TAG

    def position_in_content(self, line: int, column: int) -> Position:
        """Map a 1-based (line, column) inside the scalar's value to the file."""
        if self.style in ("|", ">"):
            return Position(
                self.first_content_line + line - 1, self.content_indent + column - 1
            )
        quote = 1 if self.style in ("'", '"') else 0
        if line == 1:
            return Position(
                self.position.line, self.position.column + quote + column - 1
            )
        return Position(self.position.line + line - 1, column)


@dataclass
class Sequence(Node):
    items: list[Node] = field(default_factory=list)


@dataclass
class Mapping(Node):
    entries: list[tuple[Scalar, Node]] = field(default_factory=list)

    def get(self, key: str) -> Node | None:
        for entry_key, value in self.entries:
            if entry_key.text == key:
                return value
        return None

    def key_node(self, key: str) -> Scalar | None:
        for entry_key, _ in self.entries:
            if entry_key.text == key:
                return entry_key
        return None

    def __iter__(self) -> Iterator[tuple[Scalar, Node]]:
        return iter(self.entries)


def position_of(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


class _Builder:
    """Turns PyYAML's composed nodes into ours, reporting what it cannot accept."""

    def __init__(self, lines: list[str], sink: DiagnosticSink) -> None:
        self._lines = lines
        self._sink = sink
        self._constructor = SafeConstructor()

    def build(self, node: yaml.Node) -> Node:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node)
        if isinstance(node, yaml.SequenceNode):
            return Sequence(
                position_of(node.start_mark), [self.build(n) for n in node.value]
            )
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node)

    def _scalar(self, node: yaml.ScalarNode) -> Scalar:
        position = position_of(node.start_mark)
        tag = node.tag
        if tag not in _KNOWN_SCALAR_TAGS:
            self._sink.error(
                position,
                "E102",
                f"the YAML tag {tag} is not allowed in a plan",
                "remove the tag; plans hold plain data only",
            )
            tag = _STR_TAG
        scalar = Scalar(position, str(node.value), tag, node.style)
        scalar.value = self._scalar_value(node, tag)
        if node.style in ("|", ">"):
            scalar.first_content_line, scalar.content_indent = self._block_start(node)
        return scalar

    def _scalar_value(self, node: yaml.ScalarNode, tag: str) -> Any:
        if tag in (_STR_TAG, "tag:yaml.org,2002:timestamp"):
            return str(node.value)
        value = self._constructor.construct_object(node)
        if isinstance(value, datetime.date):
            return str(node.value)
        return value

    def _block_start(self, node: yaml.ScalarNode) -> tuple[int, int]:
        # The mark of a block scalar is its indicator; the content starts on the
        # first non-blank line after it, at that line's indentation.
        index = node.start_mark.line + 1
        while index < len(self._lines) and not self._lines[index].strip():
            index += 1
        if index >= len(self._lines):
            return node.start_mark.line + 2, 1
        line = self._lines[index]
        return index + 1, len(line) - len(line.lstrip(" ")) + 1

    def _mapping(self, node: yaml.MappingNode) -> Mapping:
        self._constructor.flatten_mapping(node)  # resolves YAML merge keys (<<)
        mapping = Mapping(position_of(node.start_mark))
        seen: dict[str, Position] = {}
        for key_node, value_node in node.value:
            key = self.build(key_node)
            if not isinstance(key, Scalar):
                self._sink.error(
                    key.position,
                    "E103",
                    "a mapping key must be a plain value, not a collection",
                )
                continue
            if key.text in seen:
                first = seen[key.text]
                self._sink.error(
                    key.position,
                    "E101",
                    f"duplicate key '{key.text}' (first defined at line {first.line})",
                    "remove one of the two; YAML would silently keep only the last",
                )
                continue
            seen[key.text] = key.position
            mapping.entries.append((key, self.build(value_node)))
        return mapping


def load_source(text: str, sink: DiagnosticSink) -> Node | None:
    """Parse plan text into positioned nodes; None (with diagnostics) if it is not YAML."""
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        position = position_of(mark) if mark else Position(1, 1)
        problem = error.problem or error.context or "invalid YAML"
        sink.error(position, "E100", f"YAML syntax error: {problem}")
        return None
    except yaml.YAMLError as error:
        sink.error(Position(1, 1), "E100", f"YAML error: {error}")
        return None
    documents = [d for d in documents if d is not None]
    if not documents:
        sink.error(Position(1, 1), "E104", "the plan file is empty")
        return None
    if len(documents) > 1:
        sink.error(
            position_of(documents[1].start_mark),
            "E105",
            "a plan file holds one YAML document; this one holds several",
            "remove the second '---' and what follows, or split the file",
        )
    return _Builder(text.splitlines(), sink).build(documents[0])


def to_data(node: Node) -> Any:
    """The plain JSON-compatible value of a node (for schemas and literal data)."""
    if isinstance(node, Scalar):
        return node.value
    if isinstance(node, Sequence):
        return [to_data(item) for item in node.items]
    assert isinstance(node, Mapping)
    return {key.text: to_data(value) for key, value in node.entries}
