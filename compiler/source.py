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
    raw: str = ""
    """For flow scalars (plain and quoted), the source text as written."""
    source_lines: list[str] = field(default_factory=list, repr=False)
    """For folded block scalars (``>``), the file's lines."""
    _places: list[Position] | None = field(default=None, repr=False)

    @property
    def is_null(self) -> bool:
        return self.tag == "tag:yaml.org,2002:null"

    @property
    def is_string(self) -> bool:
        return self.tag == _STR_TAG

    def position_in_content(self, line: int, column: int) -> Position:
        """Map a 1-based (line, column) inside the scalar's value to the file."""
        if self.style == "|":
            return Position(
                self.first_content_line + line - 1, self.content_indent + column - 1
            )
        if self._places is None:
            # Worked out once, and only when a diagnostic needs a position.
            self._places = (
                _folded_places(
                    self.source_lines, self.first_content_line, self.content_indent
                )
                if self.style == ">"
                else _flow_places(self.raw, self.position, self.style)
            )
        places = self._places
        lines = self.text.split("\n")
        offset = sum(len(text) + 1 for text in lines[: max(line - 1, 0)]) + column - 1
        if 0 <= offset < len(places):
            return places[offset]
        return places[-1] if places else self.position


_SIMPLE_ESCAPES = set('0abtnvfre "/\\N_LP\t')
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _flow_places(raw: str, start: Position, style: str | None) -> list[Position]:
    """The source position of each character of a flow scalar's value.

    It replays YAML's reading of the scalar: quotes, escapes (`''`, `\\n`,
    `\\x41`) and line folding (a line break and the next line's indentation
    read as one space), so a column inside the value maps to the file.
    """
    places: list[Position] = []
    line, column = start.line, start.column
    index = 0
    if style in ("'", '"'):
        index, column = 1, column + 1
    end = len(raw) - (1 if style in ("'", '"') else 0)

    def advance(count: int) -> None:
        nonlocal index, line, column
        for _ in range(count):
            if index < len(raw) and raw[index] == "\n":
                line, column = line + 1, 1
            else:
                column += 1
            index += 1

    while index < end:
        char = raw[index]
        if char in " \t":
            run_end = index
            while run_end < end and raw[run_end] in " \t":
                run_end += 1
            if run_end < end and raw[run_end] == "\n":
                advance(
                    run_end - index
                )  # spaces before a line break are not in the value
                continue
        if char == "\n":
            breaks = 0
            here = Position(line, column)
            while index < end and raw[index] in " \t\n":
                breaks += raw[index] == "\n"
                here = Position(line, column)
                advance(1)
            places.extend([here] * (1 if breaks == 1 else breaks - 1))
            continue
        places.append(Position(line, column))
        if style == "'" and raw.startswith("''", index):
            advance(2)
        elif style == '"' and char == "\\" and index + 1 < end:
            advance(2 + _HEX_ESCAPES.get(raw[index + 1], 0))
        else:
            advance(1)
    return places


def _folded_places(lines: list[str], first: int, indent: int) -> list[Position]:
    """The source position of each character of a folded (`>`) block's value:
    a line break between two lines of text reads as a space, a break before a
    blank or more-indented line stays a break."""
    places: list[Position] = []
    previous_kind = ""
    for number in range(first, len(lines) + 1):
        text = lines[number - 1]
        if text.strip() and len(text) - len(text.lstrip(" ")) < indent - 1:
            break  # the block ended
        kind = (
            "blank"
            if not text.strip()
            else ("more" if text[indent - 1 : indent] in (" ", "\t") else "text")
        )
        if previous_kind:
            joiner = Position(number - 1, len(lines[number - 2]) + 1)
            folds = previous_kind == "text" and kind == "text"
            if folds or kind != "blank" or previous_kind != "blank":
                places.append(joiner)
        content = text[indent - 1 :] if kind != "blank" else ""
        places.extend(Position(number, indent + i) for i in range(len(content)))
        previous_kind = kind
    return places


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


_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"

# Plans are small; these bound what a hostile or broken file can cost
# (deep nesting, or aliases that expand exponentially, "billion laughs").
MAX_DEPTH = 64
MAX_NODES = 500_000


class _TooLarge(Exception):
    pass


class _Builder:
    """Turns PyYAML's composed nodes into ours, reporting what it cannot accept."""

    def __init__(self, text: str, sink: DiagnosticSink) -> None:
        self._text = text
        self._lines = text.splitlines()
        self._sink = sink
        self._constructor = SafeConstructor()
        self._active: set[int] = set()  # nodes being built: an alias cycle
        self._count = 0

    def build(self, node: yaml.Node) -> Node:
        self._count += 1
        if self._count > MAX_NODES:
            raise _TooLarge(f"the plan expands to more than {MAX_NODES:,} YAML nodes")
        if len(self._active) >= MAX_DEPTH:
            raise _TooLarge(f"the plan nests deeper than {MAX_DEPTH} levels")
        if id(node) in self._active:
            self._sink.error(
                position_of(node.start_mark),
                "E108",
                "this alias refers to a collection that contains it",
                "a plan cannot be infinite: copy the part instead of aliasing it",
            )
            return Scalar(
                position_of(node.start_mark), "", "tag:yaml.org,2002:null", None
            )
        self._active.add(id(node))
        try:
            return self._build(node)
        finally:
            self._active.discard(id(node))

    def _build(self, node: yaml.Node) -> Node:
        if isinstance(node, yaml.MappingNode):
            self._check_collection_tag(node, _MAP_TAG)
            return self._mapping(node)
        if isinstance(node, yaml.SequenceNode):
            self._check_collection_tag(node, _SEQ_TAG)
            return Sequence(
                position_of(node.start_mark), [self.build(n) for n in node.value]
            )
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node)

    def _refuse_tag(self, node: yaml.Node) -> None:
        self._sink.error(
            position_of(node.start_mark),
            "E102",
            f"the YAML tag {node.tag} is not allowed in a plan",
            "remove the tag; plans hold plain data only",
        )

    def _check_collection_tag(self, node: yaml.Node, plain: str) -> None:
        if node.tag != plain:
            self._refuse_tag(node)

    def _scalar(self, node: yaml.ScalarNode) -> Scalar:
        position = position_of(node.start_mark)
        tag = node.tag
        if tag not in _KNOWN_SCALAR_TAGS:
            self._refuse_tag(node)
            tag = _STR_TAG
        scalar = Scalar(position, str(node.value), tag, node.style)
        scalar.value = self._scalar_value(node, tag)
        if scalar.value is _INVALID:
            scalar.tag, scalar.value = _STR_TAG, scalar.text
        if node.style in ("|", ">"):
            scalar.first_content_line, scalar.content_indent = self._block_start(node)
            if node.style == ">":
                scalar.source_lines = self._lines
        else:
            scalar.raw = self._text[node.start_mark.index : node.end_mark.index]
        return scalar

    def _scalar_value(self, node: yaml.ScalarNode, tag: str) -> Any:
        if tag in (_STR_TAG, "tag:yaml.org,2002:timestamp"):
            return str(node.value)
        try:
            value = self._constructor.construct_object(node)
        except (ValueError, OverflowError, yaml.YAMLError):
            # Only an explicit tag (`!!int abc`) can get here.
            kind = tag.rsplit(":", 1)[-1]
            self._sink.error(
                position_of(node.start_mark),
                "E102",
                f"'{node.value}' is not a valid {kind}",
                f"remove the !!{kind} tag or fix the value",
            )
            return _INVALID
        if isinstance(value, datetime.date):
            return str(node.value)
        return value

    def _block_start(self, node: yaml.ScalarNode) -> tuple[int, int]:
        # The mark of a block scalar is its indicator; the content starts on the
        # first non-blank line after it, at that line's indentation, unless an
        # indentation indicator (`|2`) says how deep it is.
        index = node.start_mark.line + 1
        while index < len(self._lines) and not self._lines[index].strip():
            index += 1
        if index >= len(self._lines):
            return node.start_mark.line + 2, 1
        header_line = self._lines[node.start_mark.line]
        header = header_line[node.start_mark.column :].split("#")[0]
        digits = [c for c in header[:4] if c.isdigit()]
        if digits:
            parent = len(header_line) - len(header_line.lstrip(" "))
            return index + 1, parent + int(digits[0]) + 1
        line = self._lines[index]
        return index + 1, len(line) - len(line.lstrip(" ")) + 1

    def _mapping(self, node: yaml.MappingNode) -> Mapping:
        mapping = Mapping(position_of(node.start_mark))
        seen: dict[str, Position] = {}
        merged: list[tuple[Scalar, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(self._merged_entries(value_node))
                continue
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
        # Keys written in the mapping override merged ones; among merged
        # mappings the first that has a key wins, as YAML's merge key says.
        for key, value in merged:
            if key.text not in seen:
                seen[key.text] = key.position
                mapping.entries.append((key, value))
        return mapping

    def _merged_entries(self, node: yaml.Node) -> list[tuple[Scalar, Node]]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        entries: list[tuple[Scalar, Node]] = []
        for source in sources:
            built = self.build(source)
            if isinstance(built, Mapping):
                entries.extend(built.entries)
            else:
                self._sink.error(
                    built.position,
                    "E106",
                    "a merge key (<<) takes a mapping or a list of mappings",
                    "write '<<: *anchor' where the anchor names a mapping",
                )
        return entries


_INVALID = object()


# libyaml's composer, where PyYAML was built with it, gives the same nodes and
# marks several times faster; composing never constructs objects either way.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_source(text: str, sink: DiagnosticSink) -> Node | None:
    """Parse plan text into positioned nodes; None (with diagnostics) if it is not YAML."""
    try:
        documents = list(yaml.compose_all(text, Loader=_LOADER))
    except RecursionError:
        sink.error(Position(1, 1), "E107", "the plan nests too deeply to be read")
        return None
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
    try:
        return _Builder(text, sink).build(documents[0])
    except _TooLarge as error:
        sink.error(Position(1, 1), "E107", str(error), "plans are data, not programs")
        return None


def to_data(node: Node) -> Any:
    """The plain JSON-compatible value of a node (for schemas and literal data)."""
    if isinstance(node, Scalar):
        return node.value
    if isinstance(node, Sequence):
        return [to_data(item) for item in node.items]
    assert isinstance(node, Mapping)
    return {key.text: to_data(value) for key, value in node.entries}
