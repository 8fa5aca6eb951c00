"""Reading plan YAML: positions, text kept as written, duplicates and tags refused."""

from __future__ import annotations

from cpe.compiler.diagnostics import DiagnosticSink, Position
from cpe.compiler.source import Mapping, Scalar, Sequence, load_source, to_data


def load(text: str) -> tuple[Mapping, DiagnosticSink]:
    sink = DiagnosticSink("p.yml")
    node = load_source(text, sink)
    assert isinstance(node, Mapping)
    return node, sink


def test_every_node_knows_its_line_and_column() -> None:
    root, sink = load("a:\n  - x: 1\n    y: [2, 3]\n")
    assert sink.diagnostics == []
    items = root.get("a")
    assert isinstance(items, Sequence)
    first = items.items[0]
    assert isinstance(first, Mapping)
    assert first.position == Position(2, 5)
    y = first.get("y")
    assert isinstance(y, Sequence)
    assert y.items[1].position == Position(3, 12)


def test_scalars_keep_their_text_and_give_json_values() -> None:
    root, _ = load("v1: 1.10\nv2: 1.0\nv3: 007\nn: ~\nb: true\nd: 2024-01-02\ns: 'x'\n")
    texts = {key.text: value for key, value in root}
    written = [texts[k] for k in ("v1", "v2", "v3")]
    assert [s.text for s in written if isinstance(s, Scalar)] == ["1.10", "1.0", "007"]
    assert to_data(root) == {
        "v1": 1.1,
        "v2": 1.0,
        "v3": 7,
        "n": None,
        "b": True,
        "d": "2024-01-02",
        "s": "x",
    }


def test_duplicate_keys_are_reported_and_the_first_kept() -> None:
    root, sink = load("a: 1\nb: 2\na: 3\n")
    assert [(d.code, d.position) for d in sink.diagnostics] == [
        ("E101", Position(3, 1))
    ]
    assert "first defined at line 1" in sink.diagnostics[0].message
    assert to_data(root) == {"a": 1, "b": 2}


def test_nested_duplicates_are_found_too() -> None:
    _, sink = load("steps:\n  - {name: a, name: b}\n")
    assert [d.code for d in sink.diagnostics] == ["E101"]


def test_python_tags_are_refused() -> None:
    root, sink = load("a: !!python/name:os.system x\n")
    assert [d.code for d in sink.diagnostics] == ["E102"]
    assert to_data(root) == {"a": "x"}


def test_merge_keys_are_resolved() -> None:
    root, sink = load("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert sink.diagnostics == []
    assert to_data(root)["other"] == {"x": 1, "y": 2}


def test_block_scalar_content_positions() -> None:
    root, _ = load("t: |\n  line one\n    line two\n")
    template = root.get("t")
    assert isinstance(template, Scalar)
    assert template.position_in_content(1, 1) == Position(2, 3)
    assert template.position_in_content(2, 5) == Position(3, 7)


def test_quoted_scalar_content_positions() -> None:
    root, _ = load("t: '{{ x }}'\n")
    template = root.get("t")
    assert isinstance(template, Scalar)
    assert template.position_in_content(1, 4) == Position(1, 8)


def test_syntax_errors_and_empty_files() -> None:
    for text, code in [
        ("a: [1\n", "E100"),
        ("", "E104"),
        ("a: 1\n---\nb: 2\n", "E105"),
    ]:
        sink = DiagnosticSink("p.yml")
        load_source(text, sink)
        assert [d.code for d in sink.diagnostics] == [code], text


def test_positions_inside_escaped_folded_and_indented_scalars() -> None:
    text = (
        "a: '{\"it''s\": {{ x }}}'\n"
        'b: "{\\"a\\": 1,\n'
        '   \\"b\\": {{ y }}}"\n'
        "c: |2\n"
        "    {{ z }}\n"
        'd: "\\u00e9 {{ w }}"\n'
    )
    root, sink = load(text)
    assert sink.diagnostics == []

    def where(key: str, needle: str) -> Position:
        scalar = root.get(key)
        assert isinstance(scalar, Scalar)
        lines = scalar.text.split("\n")
        line = next(i for i, t in enumerate(lines, start=1) if needle in t)
        return scalar.position_in_content(line, lines[line - 1].index(needle) + 1)

    assert where("a", "x") == Position(1, 18)
    assert where("b", "y") == Position(3, 14)
    assert where("c", "z") == Position(5, 8)
    assert where("d", "w") == Position(6, 15)
