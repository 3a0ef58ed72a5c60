"""The note's structure as a CommonMark parser sees it (markdown-it-py), not as a string."""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt


@dataclass
class NoteStructure:
    summary: str  # the first paragraph's text
    sections: list[str]  # the <summary> line of every collapsed section, in order
    fences: list[str]  # the info string of every code fence
    fence_bodies: list[str]
    headings: list[str]
    list_items: list[str]


def parse_note(text: str) -> NoteStructure:
    tokens = MarkdownIt("commonmark").parse(text)
    html = [t.content for t in tokens if t.type == "html_block"]
    opened = sum(block.count("<details>") for block in html)
    closed = sum(block.count("</details>") for block in html)
    # An unclosed fence swallows the rest of the note, so every </details> after it: counts would differ.
    assert opened == closed, (opened, closed)
    sections = [
        line.removeprefix("<summary>").removesuffix("</summary>")
        for block in html
        for line in block.splitlines()
        if line.startswith("<summary>")
    ]
    inline = [t for t in tokens if t.type == "inline"]
    first = next(i for i, t in enumerate(tokens) if t.type == "paragraph_open")
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    items = [tokens[i + 2].content for i, t in enumerate(tokens) if t.type == "list_item_open"]
    fences = [t for t in tokens if t.type == "fence"]
    assert inline
    return NoteStructure(
        summary=tokens[first + 1].content,
        sections=sections,
        fences=[t.info for t in fences],
        fence_bodies=[t.content for t in fences],
        headings=headings,
        list_items=items,
    )
