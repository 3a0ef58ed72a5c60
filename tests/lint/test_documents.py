"""Documents read as Helm reads them (YAML 1.1); line numbers from the node tree, composed only when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.lint.documents import parse_document, read_document, read_documents
from gitops_poc.yamlio import YamlSyntaxError

TEXT = """\
# comment
a:
  b: 1
  list:
    - x
    - k: v
  text: |
    first
    {{ second }}
  folded: >-
    one
  plain: on
  quoted: "on"
"""


@pytest.fixture
def doc():
    return parse_document(Path("f.yaml"), "f.yaml", TEXT)


def test_keys_and_list_items(doc) -> None:
    assert doc.line(("a",)) == 2
    assert doc.line(("a", "b")) == 3
    assert doc.line(("a", "list", 1)) == 6
    assert doc.line(("a", "list", 1, "k")) == 6


def test_missing_keys_point_at_the_closest_existing_one(doc) -> None:
    assert doc.line(("a", "nope")) == 2
    assert doc.line(("nope",)) == 1


def test_lines_inside_block_scalars(doc) -> None:
    assert doc.text_line(("a", "text"), 0) == 8
    assert doc.text_line(("a", "text"), 1) == 9
    assert doc.text_line(("a", "folded"), 0) == 11
    assert doc.text_line(("a", "b"), 0) == 3


def test_plain_and_quoted_scalars(doc) -> None:
    assert doc.data["a"]["plain"] is True  # YAML 1.1, as Helm reads it
    assert doc.data["a"]["quoted"] == "on"
    assert doc.is_plain_scalar(("a", "plain"))
    assert not doc.is_plain_scalar(("a", "quoted"))
    assert not doc.is_plain_scalar(("a", "list"))  # not a scalar
    assert not doc.is_plain_scalar(("a", "nope"))


def test_yaml11_differences_with_lines_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "multi.yaml"
    path.write_text(
        "a: 1\n---\nservice:\n  enabled: off\n  'on': quoted\n  on: key\nmode: 0755\nn: \"0755\"\n"
    )
    first, second = read_documents(path, "multi.yaml")
    assert first.yaml11_differences == ()
    found = [(d.keys, d.line, d.text, d.value, d.yaml12, d.is_key) for d in second.yaml11_differences]
    assert found == [
        (("service", "enabled"), 4, "off", False, "off", False),
        (("service", "true"), 6, "on", True, "on", True),  # the key Helm sees is "true"
        (("mode",), 7, "0755", 493, 755, False),
        (("false",), 8, "n", False, "n", True),
    ]
    assert second.yaml11_difference(("mode",)).line == 7
    assert second.yaml11_difference(("service", "true")) is None  # a key, not a value
    assert second.data["service"] == {"enabled": False, "on": "quoted", "true": "key"}


def test_keys_helm_turns_into_strings_are_found_by_the_parser() -> None:
    doc = parse_document(Path("f.yaml"), "f.yaml", "ports:\n  0755: octal\n  on: word\n  1_000: n\n")
    assert list(doc.data["ports"]) == ["493", "true", "1000"]
    assert [doc.line(("ports", key)) for key in ("493", "true", "1000")] == [2, 3, 4]


def test_positions_are_parsed_only_when_asked(doc) -> None:
    assert doc.line(("a", "b")) == 3  # block-style keys are found by indentation alone
    assert "_tree" not in doc.__dict__
    doc.is_plain_scalar(("a", "plain"))
    assert "_tree" in doc.__dict__


def test_syntax_error_carries_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(YamlSyntaxError) as caught:
        read_document(path, "bad.yaml")
    assert caught.value.line == 3
    path.write_bytes(b"a: \xff\n")
    with pytest.raises(YamlSyntaxError, match="UTF-8"):
        read_document(path, "bad.yaml")


def _mapping_paths(data, keys=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*keys, key)
            yield from _mapping_paths(value, (*keys, key))


def _rt_line(doc, keys) -> int:
    """The line the node tree gives (what `line` falls back to when the indentation scan cannot tell)."""
    line = 0
    for key_node, _ in doc._walk(keys):
        line = key_node.start_mark.line
    return doc.offset + line + 1


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "folder", ["services", "gitops-config/argocd", "tests/lint/fixtures", "tests/render/examples"]
)
def test_indentation_scan_agrees_with_the_parser(folder: str) -> None:
    from gitops_poc.lint.documents import read_documents

    checked = 0
    for path in sorted((REPO / folder).rglob("*.yaml")):
        for doc in read_documents(path, path.name):
            for keys in _mapping_paths(doc.data):
                assert doc.line(keys) == _rt_line(doc, keys), (path, keys)
                checked += 1
            # and a path that does not exist points at its closest existing key in both
            assert doc.line(("no-such-key",)) == _rt_line(doc, ("no-such-key",))
    assert checked > 50


def test_indentation_scan_defers_to_the_parser_for_flow_style() -> None:
    doc = parse_document(Path("f.yaml"), "f.yaml", 'a: {b: 1,\n  c: 2}\n"q": 1\nlist:\n  - k: v\n')
    assert doc._scan_line(("a", "c")) is None
    assert doc.line(("a", "c")) == _rt_line(doc, ("a", "c"))
    assert doc._scan_line(("q",)) is None and doc.line(("q",)) == 3
    assert doc._scan_line(("list", 0, "k")) is None and doc.line(("list", 0, "k")) == 5
    numbers = parse_document(Path("f.yaml"), "f.yaml", "a: 1\n8080: port\n")
    assert numbers.line(("8080",)) == 2  # Helm's keys are strings: "8080"
    assert numbers.line((8080,)) == 1  # no such key: the int 8080 is not one of them
