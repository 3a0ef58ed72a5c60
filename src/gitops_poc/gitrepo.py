"""Read files as they are at a git revision (the real git binary; no working-tree changes)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitops_poc.errors import UsageError


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed or not on PATH") from None


def toplevel(path: Path) -> Path:
    folder = path if path.is_dir() else path.parent
    result = _git(folder, "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        raise UsageError(f"{path} is not inside a git repository: {result.stderr.strip()}")
    return Path(result.stdout.strip())


def resolve(path: Path, rev: str) -> str:
    """The commit id of `rev` in the repository holding `path`; a clear error for an unknown revision."""
    folder = path if path.is_dir() else path.parent
    result = _git(folder, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if result.returncode != 0:
        raise UsageError(f"unknown git revision {rev!r} in {toplevel(path)}")
    return result.stdout.strip()


def read_at(path: Path, rev: str) -> str | None:
    """Text of `path` at `rev` (None when the file does not exist there). One git process when it exists."""
    folder = path.parent
    result = _git(folder, "show", f"{rev}:./{path.name}")
    if result.returncode == 0:
        return result.stdout
    resolve(folder, rev)  # an unknown revision (or no repository) is an error, a missing file is not
    return None


def list_at(folder: Path, rev: str) -> list[str]:
    """Paths (relative to `folder`) of every file under `folder` at `rev`."""
    top = toplevel(folder)
    commit = resolve(folder, rev)
    relative = folder.resolve().relative_to(top.resolve()).as_posix()
    args = ["ls-tree", "-r", "--name-only", commit]
    if relative != ".":
        args += ["--", relative]
    result = _git(top, *args)
    if result.returncode != 0:
        raise UsageError(f"cannot list {folder} at {rev}: {result.stderr.strip()}")
    prefix = "" if relative == "." else relative + "/"
    return [line[len(prefix):] for line in result.stdout.splitlines() if line]
