"""Paths under the platform folder: whatever the tool reads, writes or deletes there stays there.

A symlink on the way (`services/evil -> /elsewhere`, a values file -> /etc/passwd) would make a write land,
a delete remove, or a read show a file outside the platform. Every such path is checked before use: a link
that leads outside is an error naming it. Links that stay inside are the team's business and are followed.
"""

from __future__ import annotations

import os
from pathlib import Path

from gitops_poc.errors import UsageError


class OutsideRoot(UsageError):
    """A path under the platform folder leads outside it through a symlink."""


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_inside(root: Path, path: Path, *, final: bool = True) -> Path:
    """`path` (relative to `root`, or absolute under it) after checking every symlink from `root` down to it
    (the last part too when `final`, as for a read; a write replaces a final link instead of following it).

    Raises OutsideRoot naming the first link that leads outside `root`, and for a path that is not under
    `root` at all."""
    absolute_root = Path(os.path.abspath(root))
    target = Path(os.path.normpath(absolute_root / path))
    if not _inside(target, absolute_root):
        raise OutsideRoot(f"{target}: outside the platform folder {absolute_root}")
    real_root = absolute_root.resolve()
    parts = target.relative_to(absolute_root).parts
    current = absolute_root
    for index, part in enumerate(parts):
        current = current / part
        if index == len(parts) - 1 and not final:
            break
        if current.is_symlink():
            resolved = current.resolve()
            if not _inside(resolved, real_root):
                kind = "folder" if resolved.is_dir() or index < len(parts) - 1 else "file"
                raise OutsideRoot(
                    f"{current} is a symlink to {resolved}, outside the platform folder {absolute_root}: "
                    f"refusing to use the {kind} it points to (replace the link with a real {kind})"
                )
        elif not current.exists():
            break  # nothing below a missing folder can be a link yet
    return target
