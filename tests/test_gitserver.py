"""Bare repositories over smart HTTP through the real `git http-backend`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitops_poc.gitserver import basic_credentials, serve_git
from tests.publish.conftest import bare_head, git


def test_clone_and_push_over_http(tmp_path: Path) -> None:
    bare = tmp_path / "srv" / "grp" / "app.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    with serve_git(tmp_path / "srv") as url:
        clone = tmp_path / "clone"
        git("clone", "--quiet", f"{url}/grp/app.git", str(clone))
        (clone / "a.txt").write_text("a\n")
        git("add", "a.txt", cwd=clone)
        git("commit", "--quiet", "-m", "a", cwd=clone)
        git("push", "--quiet", "origin", "HEAD:main", cwd=clone)
        assert bare_head(bare) == git("rev-parse", "HEAD", cwd=clone)
    missing = subprocess.run(
        ["git", "ls-remote", f"{url}/grp/app.git"],
        capture_output=True,
        check=False,
        env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin"},
    )
    assert missing.returncode != 0  # stopped with the block


def test_authorize_refuses_wrong_credentials(tmp_path: Path) -> None:
    git("init", "--quiet", "--bare", str(tmp_path / "srv" / "app.git"))
    with serve_git(tmp_path / "srv", authorize=lambda user, password: password == "right") as url:
        refused = subprocess.run(
            ["git", "ls-remote", f"{url}/app.git"],
            capture_output=True,
            text=True,
            check=False,
            env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin"},
        )
        assert refused.returncode != 0 and "could not read Username" in refused.stderr  # 401: asked for one
        wrong = f"{url.replace('http://', 'http://oauth2:wrong@')}/app.git"
        refused = subprocess.run(
            ["git", "ls-remote", wrong],
            capture_output=True,
            text=True,
            check=False,
            env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin"},
        )
        assert refused.returncode != 0 and "Authentication failed" in refused.stderr
        right = f"{url.replace('http://', 'http://oauth2:right@')}/app.git"
        assert subprocess.run(["git", "ls-remote", right], capture_output=True, check=False).returncode == 0


def test_basic_credentials() -> None:
    assert basic_credentials("Basic b2F1dGgyOnNlY3JldA==") == ("oauth2", "secret")
    assert basic_credentials("Basic !!!") is None and basic_credentials("Bearer x") is None
