"""YAML files as lint sees them: plain data for the rules, line numbers only when a finding needs one.

Parsing with ruamel's round-trip loader (which keeps line/column of every key) costs about six times the
C-based plain loader, so every file is parsed plainly and only the files that produce a finding are
parsed again for positions. A clean platform of 1,000 files never pays for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString, ScalarString

from gitops_poc.yamlio import YamlSyntaxError, load_plain, round_trip

# One round-trip loader for every file: building a ruamel YAML object costs about a third of a small parse.
_ROUND_TRIP = round_trip()

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
    def _tree(self) -> Any:
        # The text already parsed plainly, so it is valid YAML.
        return _ROUND_TRIP.load(self.text)

    def _walk(self, keys: KeyPath) -> Iterator[tuple[Any, Key]]:
        """(container, key) pairs along `keys`, as far as they exist."""
        node = self._tree
        for key in keys:
            if isinstance(node, CommentedMap) and key in node or isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
                yield node, key
            else:
                return
            node = node[key]

    def line(self, keys: KeyPath) -> int:
        """1-based line of the deepest key of `keys` that exists (1 when none does)."""
        fast = self._scan_line(keys)
        if fast is not None:
            return self.offset + fast
        line = 0
        for container, key in self._walk(keys):
            line = int((container.lc.key(key) if isinstance(container, CommentedMap) else container.lc.item(key))[0])
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
                if indent == child and content.startswith(key) and content[len(key):len(key) + 2] in (":", ": ", ":\t"):
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
        if len(steps) < len(keys) or not isinstance(steps[-1][0], CommentedMap):
            return self.line(keys)
        container, key = steps[-1]
        value_line = self.offset + int(container.lc.value(key)[0]) + 1
        block = isinstance(container[key], (LiteralScalarString, FoldedScalarString))
        return value_line + index + (1 if block else 0)

    def is_plain_scalar(self, keys: KeyPath) -> bool:
        """Is the scalar at `keys` written without quotes (so YAML 1.1 readers may resolve it)?"""
        steps = list(self._walk(keys))
        if len(steps) < len(keys):
            return False
        container, key = steps[-1]
        return not isinstance(container[key], ScalarString)


def parse_document(path: Path, display: str, text: str) -> YamlDocument:
    """Parse `text`; raises YamlSyntaxError (with the line) when it is not YAML."""
    return YamlDocument(path, display, text, load_plain(text, display))


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


def read_documents(path: Path, display: str) -> list[YamlDocument]:
    """Every document of a multi-document file, each knowing its line offset."""
    docs = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(display, None, f"not UTF-8 text ({exc.reason})") from None
    for offset, chunk in split_documents(text):
        try:
            doc = parse_document(path, display, chunk)
        except YamlSyntaxError as exc:
            raise YamlSyntaxError(display, exc.line + offset if exc.line else None, exc.problem) from None
        doc.offset = offset
        docs.append(doc)
    return docs


def read_document(path: Path, display: str) -> YamlDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(display, None, f"not UTF-8 text ({exc.reason})") from None
    return parse_document(path, display, text)
