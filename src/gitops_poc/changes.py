"""File changes as plain data, and applying them atomically."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from gitops_poc import fileio
from gitops_poc.rootpath import check_inside
from gitops_poc.yamlio import TextForm


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class FileChange:
    """One file the generator wants to differ from what is on disk. `path` is relative to the root.

    `content` None means the file is removed (a generated file that is no longer generated).
    """

    path: Path
    content: str | None
    previous: str | None
    reason: str = ""
    mode: int | None = None  # for a new file, e.g. an executable script copied from a template

    @property
    def action(self) -> Action:
        if self.content is None:
            return Action.DELETE
        return Action.CREATE if self.previous is None else Action.UPDATE

    def diff(self) -> str:
        old = (self.previous or "").splitlines(keepends=True)
        new = (self.content or "").splitlines(keepends=True)
        before = f"a/{self.path}" if self.previous is not None else "/dev/null"
        after = f"b/{self.path}" if self.content is not None else "/dev/null"
        return "".join(difflib.unified_diff(old, new, before, after))


def change_if_different(
    path: Path, content: str, previous: str | None, reason: str = ""
) -> FileChange | None:
    return None if previous == content else FileChange(path, content, previous, reason)


def write_atomic(path: Path, content: str, new_mode: int | None = None) -> None:
    """fileio.write_atomic. No fsync: the rename protects against a failing or interrupted process, which is
    the risk here; it costs ~0.4 ms a file, a third of `init` for a large platform."""
    fileio.write_atomic(path, content, new_mode=new_mode or 0o644)


def apply_changes(
    root: Path, changes: Iterable[FileChange], outside: Iterable[Path] = ()
) -> list[FileChange]:
    """Write each change under `root`; returns what was written.

    Every path is checked before anything is written: none may lead outside `root` through a symlink
    (`outside` lists the relative paths the user named explicitly, such as an --env-file elsewhere)."""
    changes = list(changes)
    allowed = {Path(os.path.normpath(root / path)) for path in outside}
    for change in changes:
        if Path(os.path.normpath(root / change.path)) not in allowed:
            check_inside(root, change.path, final=False)
    written = []
    for change in changes:
        if change.content is None:
            (root / change.path).unlink(missing_ok=True)
        else:
            content = change.content
            if change.previous is not None:  # rewritten in place: the file keeps its BOM and line endings
                form = TextForm.of_file(root / change.path)
                content = form.apply(content) if form != TextForm() else content
            write_atomic(root / change.path, content, change.mode)
        written.append(change)
    return written


def summarize(changes: Sequence[FileChange]) -> dict[str, int]:
    return {action.value: sum(1 for c in changes if c.action is action) for action in Action}
