"""Helpers for publish tests: real git, local bare remotes, a team's clone."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def git(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def bare_head(bare: Path, branch: str = "main") -> str:
    return git(f"--git-dir={bare}", "rev-parse", f"refs/heads/{branch}")


def reflog(bare: Path, branch: str = "main") -> list[tuple[str, str]]:
    """(old, new) of every update of the branch, oldest first, from the bare repository's own reflog."""
    log = bare / "logs" / "refs" / "heads" / branch
    entries = [line.split(" ", 2)[:2] for line in log.read_text().splitlines()]
    return [(old, new) for old, new in entries]


def assert_fast_forward_only(bare: Path, branch: str = "main") -> None:
    """No update of the branch ever dropped a commit: each old head is an ancestor of the new one."""
    for old, new in reflog(bare, branch):
        if set(old) == {"0"}:
            continue
        check = subprocess.run(
            ["git", f"--git-dir={bare}", "merge-base", "--is-ancestor", old, new], check=False
        )
        assert check.returncode == 0, f"{bare}: {old[:8]} -> {new[:8]} is not a fast-forward"


def team_commit(
    bare: Path, workdir: Path, path: str, edit: str, message: str, *, replace: str | None = None
) -> str:
    """A team member clones the remote, changes one file, pushes. Returns the commit."""
    clone = workdir / f"clone-{bare.stem}"
    if not clone.exists():
        git("clone", "--quiet", str(bare), str(clone))
    else:
        git("pull", "--quiet", "--ff-only", cwd=clone)
    target = clone / path
    text = target.read_text()
    target.write_text(text.replace(replace, edit) if replace is not None else text + edit)
    git("commit", "--quiet", "-am", message, cwd=clone)
    git("push", "--quiet", "origin", "HEAD:main", cwd=clone)
    return git("rev-parse", "HEAD", cwd=clone)


@pytest.fixture
def remotes(tmp_path: Path) -> Path:
    return tmp_path / "remotes"
