"""Line numbers come from ruamel's round-trip parse, made only when a finding asks for one."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.lint.documents import parse_document, read_document
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
    assert doc.data["a"]["plain"] == "on"  # YAML 1.2, as this tool reads it
    assert doc.is_plain_scalar(("a", "plain"))
    assert not doc.is_plain_scalar(("a", "quoted"))


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
    line = 0
    for container, key in doc._walk(keys):
        line = container.lc.key(key)[0]
    return doc.offset + line + 1


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("folder", ["services", "gitops-config/argocd", "tests/lint/fixtures", "testing/charts/examples"])
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
    assert numbers._scan_line((8080,)) is None and numbers.line((8080,)) == 2
