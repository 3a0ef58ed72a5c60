"""The private file the issued tokens go to (ROOT/.env by default, mode 0600), where `setup registry` and
`setup push` read them. Nothing else ever holds them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from gitops_poc import fileio
from gitops_poc.envfile import bindings, set_key
from gitops_poc.redact import remember
from gitops_poc.rootpath import check_inside


def place(path: Path | None, root: Path) -> Path:
    """Where the tokens go: `path`, else ROOT/.env. Checked before anything is asked of GitLab (a token issued
    and then not stored is lost): under ROOT no symlink on the way may lead outside it, and the file itself
    is absent or a regular file, never a link (tokens are never written through one)."""
    target = Path(os.path.abspath(path if path is not None else root / ".env"))
    absolute_root = Path(os.path.abspath(root))
    if target == absolute_root or absolute_root in target.parents:
        check_inside(absolute_root, target, final=False)
    _read(target)
    return target


def _read(path: Path) -> str | None:
    try:
        return fileio.read_text(path, fileio.CREDENTIALS_FILE, follow=False)
    except fileio.FileMissing:
        return None


def present_keys(path: Path) -> set[str]:
    """Keys set to a non-empty value in the file (none when it does not exist)."""
    text = _read(path)
    return {b.key for b, _ in bindings(text) if b.key and b.value} if text is not None else set()


def store(path: Path, values: Mapping[str, str]) -> None:
    """Set `values` in the file, other lines kept; written atomically and left readable by the owner only."""
    remember(values.values())
    text = _read(path)
    for key, value in values.items():
        text = set_key(text, key, value)
    assert text is not None
    fileio.write_atomic(path, text, private=True)
