"""Consoles and the shared ways of showing results. Data goes to stdout, everything else to stderr."""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax

from gitops_poc.changes import FileChange, summarize

# No emoji codes: a user's `:x:` must print as written. Markup is ours alone: every user-supplied string is
# passed through `escape` (or printed with markup=False), so `[...]` in a value cannot restyle or hide text.
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


COLOURED_JSON_LIMIT = 100_000  # characters; Rich's highlighting of a 600 x 600 matrix took 30 s


def print_json(data: Any) -> None:
    """Coloured for a person at a terminal; plain, as fast as json writes it, for scripts and big data."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out.is_terminal and len(text) < COLOURED_JSON_LIMIT:
        out.print_json(text, indent=2)
    else:
        out.file.write(text + "\n")
        out.file.flush()


SHOWN_CHANGES = 40


def show_changes(changes: Sequence[FileChange], *, diff: bool = False) -> None:
    """One line per change (the first SHOWN_CHANGES of a large plan), then the diffs when asked."""
    for change in changes[:SHOWN_CHANGES]:
        style = {"create": "green", "update": "yellow", "delete": "red"}[change.action.value]
        err.print(
            f"  [{style}]{change.action.value:6}[/] {escape(str(change.path))}"
            f"  [dim]({escape(change.reason)})[/]"
        )
    if len(changes) > SHOWN_CHANGES:
        err.print(
            f"  ... and {len(changes) - SHOWN_CHANGES} more (--output json lists them all, --diff shows them)"
        )
    if diff:
        for change in changes:
            if text := change.diff():
                out.print(Syntax(text, "diff", theme="ansi_dark", background_color="default"))


def changes_as_json(changes: Sequence[FileChange], **extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "summary": summarize(changes),
        "changes": [{"path": str(c.path), "action": c.action.value, "reason": c.reason} for c in changes],
    }
