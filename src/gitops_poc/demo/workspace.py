"""The demo's scratch workspace: only a folder the demo made itself is ever emptied, and one run at a time.

A workspace carries a marker file of the demo's own. A folder that is new or empty becomes a workspace; a
folder holding anything else, without the marker, is refused untouched (exit 2). Emptying removes the
entries inside the workspace only: a symlink is removed as a link, never followed.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gitops_poc.errors import UsageError
from gitops_poc.lock import platform_lock

MARKER = ".gitops-poc-demo"
MARKER_TEXT = "A workspace of `gitops-poc demo`: the next demo run with this folder empties it.\n"


def _is_workspace(folder: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(folder / MARKER).st_mode)
    except OSError:
        return False


def _check(folder: Path) -> None:
    """Refuse, before anything is touched, a folder that is not the demo's to empty."""
    if folder.is_symlink():
        raise UsageError(f"--workspace {folder} is a symlink; give the folder itself")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--workspace {folder} is not a folder")
    try:
        holds = folder.is_dir() and not _is_workspace(folder) and any(folder.iterdir())
    except OSError as exc:
        raise UsageError(f"--workspace {folder}: cannot read it: {exc.strerror}") from None
    if holds:
        raise UsageError(
            f"--workspace {folder} holds files the demo did not make (no {MARKER} marker); nothing was "
            "touched. Give a new or empty folder"
        )


def _empty(folder: Path) -> None:
    """Remove everything in `folder` but the marker. Links are unlinked, not followed; rmtree itself does not
    follow links inside the folders it removes."""
    for entry in os.scandir(folder):
        if entry.name == MARKER:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


@contextmanager
def workspace(folder: Path) -> Iterator[Path]:
    """An empty workspace at `folder` for the block, held against a second demo run (which stops at once)."""
    folder = folder.absolute()
    _check(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with platform_lock(folder, "demo"):
        _check(folder)  # as it is now that this run holds it
        (folder / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        _empty(folder)
        yield folder
