"""Which files of a repository's folder are published: what git itself would track there (its `.gitignore`
honoured, whether or not the root is a git repository), never a credentials file in any spelling, symlinks
kept as links and never one that leaves the folder."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from gitops_poc import proc
from gitops_poc.argv import END_OF_OPTIONS, Part, Value
from gitops_poc.errors import UsageError
from gitops_poc.publish.model import Withheld
from gitops_poc.secretnames import credential_part


@dataclass(frozen=True)
class Selection:
    files: list[str] = field(default_factory=list)  # relative to the folder, sorted
    withheld: list[Withheld] = field(default_factory=list)


def _listing(args: list[str], folder: Path, env: dict[str, str] | None = None) -> list[str]:
    listing = proc.run(
        ["git", *args, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
        cwd=folder,
        env=env,
    )
    if listing.returncode != 0:
        raise UsageError(
            f"cannot list the files of {folder}: {listing.stderr.decode(errors='replace').strip()}"
        )
    return [n for n in os.fsdecode(listing.stdout).split("\0") if n]


def _in_work_tree(folder: Path) -> bool:
    inside = proc.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=folder, text=True)
    return inside.returncode == 0 and inside.stdout.strip() == "true"


def _git_listing(root: Path, folder: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored paths under `folder`, relative to it, as git lists them. Not in
    a git work tree: as git would list them once the root became one (a throwaway repository whose work tree
    is the root, so the root's and the folder's `.gitignore` both count)."""
    if _in_work_tree(folder):
        return _listing([], folder)
    with tempfile.TemporaryDirectory(prefix="gitops-poc-listing-") as scratch:
        git_dir = Path(scratch) / "git"
        created = proc.run(["git", "init", "--quiet", "--bare", END_OF_OPTIONS, git_dir])
        if created.returncode != 0:
            reason = created.stderr.decode(errors="replace").strip()
            raise UsageError(f"cannot list the files of {folder}: {reason}")
        env = {**os.environ, "GIT_DIR": str(git_dir), "GIT_WORK_TREE": str(root)}
        return _listing([], folder, env)


def _leaves(folder: Path, name: str) -> str | None:
    """Where the link `name` points when that is outside `folder` (None when it stays inside)."""
    target = os.readlink(folder / name)
    inside = os.path.normpath(PurePosixPath(name).parent / target)
    if os.path.isabs(target) or inside == ".." or inside.startswith("../"):
        return target
    return None


def _linked_folder(root: Path, folder: Path) -> Path | None:
    """The first of `folder` and the folders between it and `root` that is a symlink (None: there is none)."""
    current = folder
    while current != root and current != current.parent:
        if current.is_symlink():
            return current
        current = current.parent
    return None


def publishable_files(root: Path, folder: Path) -> Selection:
    """The files of `folder` (inside `root`) to publish, and the ones git would track that are withheld.
    A folder that is (or lies under) a symlink is refused: its files are not the root's."""
    root, folder = root.absolute(), folder.absolute()
    if (link := _linked_folder(root, folder)) is not None:
        raise UsageError(
            f"{link}: a link to {os.readlink(link)}; publish takes a repository's files from the platform "
            "root itself, never through a link (make it a folder)"
        )
    if not folder.is_dir():
        return Selection()
    files, withheld = [], []
    for name in sorted(set(_git_listing(root, folder))):
        parts = PurePosixPath(name).parts
        if name.endswith("/") or any(part.casefold() == ".git" for part in parts):
            continue  # a nested repository: not a file of this one
        try:
            mode = os.lstat(folder / name).st_mode
        except FileNotFoundError:
            continue  # tracked but deleted
        if credential_part(name) is not None:
            withheld.append(Withheld(name, "a credentials file name"))
        elif stat.S_ISLNK(mode):
            if (target := _leaves(folder, name)) is not None:
                withheld.append(Withheld(name, f"a link to {target}, outside the folder"))
            else:
                files.append(name)
        elif stat.S_ISREG(mode):
            files.append(name)
    return Selection(files, withheld)


def _git(folder: Path, *args: Part) -> subprocess.CompletedProcess[str]:
    return proc.run(["git", "-C", folder, *args], text=True)


def clean_commit(folder: Path) -> str | None:
    """The commit of `folder`'s git work tree when every file of the folder is as that commit has it
    (nothing modified, staged or untracked-and-not-ignored); None when not (or not in a work tree)."""
    head = _git(folder, "rev-parse", "--verify", "--quiet", END_OF_OPTIONS, "HEAD^{commit}")
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
    ancestor = Value(commit, "commit")
    return _git(folder, "merge-base", "--is-ancestor", END_OF_OPTIONS, ancestor, "HEAD").returncode == 0
