"""YAML files as lint sees them: data as Helm and kubectl read it (YAML 1.1, string keys; `yamlio.load_k8s`)
for the rules, line numbers only when a finding needs one.

Composing the node tree (line/column of every key) costs about half as much again as the load, so every
file is only loaded, and it is composed for positions when a finding asks for a line the indentation scan
cannot give, or when a cheap text check says it may hold a YAML 1.1/1.2 difference. A clean platform of
1,000 files never pays for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gitops_poc.fileio import NotText
from gitops_poc.yamlio import (
    Yaml11Difference,
    YamlSyntaxError,
    compose_k8s,
    load_k8s,
    may_differ,
    node_key,
    read_text,
    yaml11_differences,
)

Key = str | int
KeyPath = tuple[Key, ...]


@dataclass(eq=False)
class YamlDocument:
    path: Path
    display: str  # the name findings use (relative to the platform root)
    text: str
    data: Any
    offset: int = 0  # lines before this document in its file (multi-document files)

    @cached_property
    def _tree(self) -> Node | None:
        # The text already loaded, so it composes.
        return compose_k8s(self.text, self.display)

    def _walk(self, keys: KeyPath) -> Iterator[tuple[Node, Node]]:
        """(key node, value node) along `keys` (a list item is both), as far as they exist."""
        node = self._tree
        for key in keys:
            pair: tuple[Node, Node] | None = None
            if isinstance(node, MappingNode) and isinstance(key, str):
                pair = next(((k, v) for k, v in node.value if node_key(k) == key), None)
            elif isinstance(node, SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
                pair = (node.value[key], node.value[key])
            if pair is None:
                return
            yield pair
            node = pair[1]

    def line(self, keys: KeyPath) -> int:
        """1-based line of the deepest key of `keys` that exists (1 when none does)."""
        fast = self._scan_line(keys)
        if fast is not None:
            return self.offset + fast
        line = 0
        for key_node, _ in self._walk(keys):
            line = key_node.start_mark.line
        return self.offset + line + 1

    @cached_property
    def _lines(self) -> list[str]:
        return self.text.splitlines()

    def _existing(self, keys: KeyPath) -> tuple[str, ...] | None:
        """The part of `keys` that exists in the data; None when it goes through a list (parser needed)."""
        node, found = self.data, list[str]()
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return None if isinstance(node, list) else tuple(found)
            if not isinstance(key, str):
                return None  # a number or other non-text key: leave it to the parser
            found.append(key)
            node = node[key]
        return tuple(found)

    def _scan_line(self, keys: KeyPath) -> int | None:
        """The line of a mapping-key path in block-style YAML, found by indentation without parsing.

        Values files are written in block style, where a key's children are the lines indented deeper
        than it, and its direct children share the indentation of the first of them. Anything else (flow
        style, quoted or complex keys, lists) returns None and the round-trip parser answers instead.
        """
        path = self._existing(keys)
        if path is None:
            return None
        lines, start, parent, found = self._lines, 0, -1, 0
        for depth, key in enumerate(path):
            child: int | None = None
            hit: int | None = None
            for index in range(start, len(lines)):
                text = lines[index]
                content = text.lstrip(" ")
                if not content or content.startswith("#"):
                    continue
                indent = len(text) - len(content)
                if indent <= parent or (child is not None and indent < child):
                    break
                child = indent if child is None else child
                if (
                    indent == child
                    and content.startswith(key)
                    and content[len(key) : len(key) + 2] in (":", ": ", ":\t")
                ):
                    hit = index
                    break
            if hit is None:
                return None
            rest = lines[hit].lstrip(" ")[len(key) + 1 :].strip()
            if depth < len(path) - 1 and rest and not rest.startswith("#"):
                return None  # its children are written inline (flow style, anchors, tags)
            start, parent, found = hit + 1, child if child is not None else parent, hit + 1
        return found if path else 1

    def text_line(self, keys: KeyPath, index: int) -> int:
        """Line of the `index`-th line (0-based) inside the string at `keys`, e.g. a config file's text."""
        steps = list(self._walk(keys))
        if not steps or len(steps) < len(keys) or steps[-1][0] is steps[-1][1]:
            return self.line(keys)
        value = steps[-1][1]
        block = isinstance(value, ScalarNode) and value.style in (
            "|",
            ">",
        )  # the text starts below the indicator
        return self.offset + int(value.start_mark.line) + 1 + index + (1 if block else 0)

    def is_plain_scalar(self, keys: KeyPath) -> bool:
        """Is the value at `keys` a scalar written without quotes (so YAML 1.1 readers may resolve it)?"""
        steps = list(self._walk(keys))
        if not steps or len(steps) < len(keys):
            return False
        value = steps[-1][1]
        return isinstance(value, ScalarNode) and not value.style

    @cached_property
    def yaml11_differences(self) -> tuple[Yaml11Difference, ...]:
        """Plain scalars Helm and kubectl (YAML 1.1) read differently from YAML 1.2 readers; lines in the
        file."""
        if not may_differ(self.text):
            return ()
        return tuple(replace(d, line=d.line + self.offset) for d in yaml11_differences(self._tree))

    def yaml11_difference(self, keys: KeyPath) -> Yaml11Difference | None:
        """The YAML 1.1/1.2 difference of the value at `keys`, if it has one."""
        return next((d for d in self.yaml11_differences if d.keys == keys and not d.is_key), None)


def parse_document(path: Path, display: str, text: str) -> YamlDocument:
    """Parse `text`; raises YamlSyntaxError (with the line) when it is not YAML."""
    return YamlDocument(path, display, text, load_k8s(text, display))


def split_documents(text: str) -> list[tuple[int, str]]:
    """(line offset, text) of each document of a `---`-separated stream, empty ones left out."""
    parts: list[tuple[int, str]] = []
    start, lines = 0, text.splitlines(keepends=True)
    for number, line in enumerate([*lines, "---\n"]):
        if line.rstrip() == "---" or line.startswith("--- "):
            chunk = "".join(lines[start:number])
            if chunk.strip():
                parts.append((start, chunk))
            start = number + 1
    return parts


def _read(path: Path, display: str, root: Path | None) -> str:
    """The file's text; bytes that are not UTF-8 are a finding on it, while what is not a file to read (a
    FIFO, a device, a folder, a file over the size cap, a symlink leading outside `root`) stops the run."""
    try:
        text = read_text(path, root)
    except NotText as exc:
        raise YamlSyntaxError(
            display, None, str(exc).removeprefix(f"{path}: ").removeprefix(str(path) + " ")
        ) from None
    if text is None:
        raise YamlSyntaxError(display, None, "no such file")
    return text


def read_documents(path: Path, display: str, root: Path | None = None) -> list[YamlDocument]:
    """Every document of a multi-document file, each knowing its line offset."""
    docs = []
    text = _read(path, display, root)
    for offset, chunk in split_documents(text):
        try:
            doc = parse_document(path, display, chunk)
        except YamlSyntaxError as exc:
            raise YamlSyntaxError(display, exc.line + offset if exc.line else None, exc.problem) from None
        doc.offset = offset
        docs.append(doc)
    return docs


def read_document(path: Path, display: str, root: Path | None = None) -> YamlDocument:
    return parse_document(path, display, _read(path, display, root))
