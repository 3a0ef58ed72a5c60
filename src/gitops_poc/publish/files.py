"""Which files of a repository's folder are published: everything the generator and the team keep there,
minus what git ignores and the credential files that must never be committed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from gitops_poc.errors import UsageError
from gitops_poc.layout import NEVER_COMMITTED


def _git_listing(folder: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files when `folder` is inside a git work tree (None if not)."""
    inside = subprocess.run(
        ["git", "-C", str(folder), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    listing = subprocess.run(
        ["git", "-C", str(folder), "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
        capture_output=True,
        check=False,
    )
    if listing.returncode != 0:
        raise UsageError(
            f"cannot list the files of {folder}: {listing.stderr.decode(errors='replace').strip()}"
        )
    names = [n for n in listing.stdout.decode().split("\0") if n]
    return [
        n for n in names if (folder / n).is_file() or (folder / n).is_symlink()
    ]  # deleted-but-tracked: out


def _walk(folder: Path) -> list[str]:
    found = []
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(names):
            found.append((Path(current) / name).relative_to(folder).as_posix())
    return found


def publishable_files(folder: Path) -> list[str]:
    """Paths relative to `folder`, sorted. A nested repository's `.git` is never part of it."""
    if not folder.is_dir():
        return []
    names = _git_listing(folder)
    if names is None:
        names = _walk(folder)
    return sorted(n for n in names if Path(n).name not in NEVER_COMMITTED and ".git" not in Path(n).parts)


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=False)


def clean_commit(folder: Path) -> str | None:
    """The commit of `folder`'s git work tree when every file of the folder is as that commit has it
    (nothing modified, staged or untracked-and-not-ignored); None when not (or not in a work tree)."""
    head = _git(folder, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if head.returncode != 0:
        return None
    status = _git(
        folder, "status", "--porcelain", "--untracked-files=all", "--ignore-submodules=none", "--", "."
    )
    if status.returncode != 0 or status.stdout.strip():
        return None
    return head.stdout.strip()


def checkout_contains(folder: Path, commit: str) -> bool:
    """Whether `commit` is in the history of `folder`'s checked-out commit (False when it is not a git work
    tree, or git does not know `commit`)."""
    if not commit or not all(c in "0123456789abcdef" for c in commit):
        return False
    return _git(folder, "merge-base", "--is-ancestor", commit, "HEAD").returncode == 0
