"""A platform root under git whose service repositories were made from the template and published to local
bare remotes (real git), and the team clones that edit them."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitops_poc.cli import main
from tests.release.conftest import argocd_crds, fake_api  # noqa: F401  (the API stand-in and Argo CD's CRDs)

SERVICES = ("billing", "orders", "shipping")
GROUP = "gitops-poc"


def git(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout.strip()


@dataclass
class Fleet:
    root: Path
    remotes: Path
    work: Path

    def bare(self, service: str) -> Path:
        return self.remotes / GROUP / f"{service}.git"

    def head(self, service: str, branch: str = "main") -> str:
        return git(f"--git-dir={self.bare(service)}", "rev-parse", f"refs/heads/{branch}")

    def show(self, service: str, path: str, branch: str = "main") -> str:
        return git(f"--git-dir={self.bare(service)}", "show", f"{branch}:{path}")

    def files(self, service: str, branch: str = "main") -> set[str]:
        listing = git(f"--git-dir={self.bare(service)}", "ls-tree", "-r", "--name-only", branch)
        return set(listing.splitlines())

    def team_edit(self, service: str, path: str, old: str, new: str) -> str:
        """The service's team clones its repository, replaces `old` by `new` in one file and pushes."""
        clone = self.work / f"team-{service}"
        if not clone.exists():
            git("clone", "--quiet", str(self.bare(service)), str(clone))
        else:
            git("pull", "--quiet", "--ff-only", cwd=clone)
        target = clone / path
        text = target.read_text()
        assert old in text, f"{old!r} not in {path}"
        target.write_text(text.replace(old, new, 1))
        git("commit", "--quiet", "-am", f"team: {path}", cwd=clone)
        git("push", "--quiet", "origin", "HEAD:main", cwd=clone)
        return git("rev-parse", "HEAD", cwd=clone)

    def change_template(self, path: str, old: str | None, new: str, message: str = "template change") -> None:
        """The platform team changes templates/service-repo and commits it (`old` None: append `new`)."""
        target = self.root / "templates" / "service-repo" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        text = target.read_text() if target.exists() else ""
        if old is None:
            target.write_text(text + new)
        else:
            assert old in text, f"{old!r} not in the template's {path}"
            target.write_text(text.replace(old, new, 1))
        git("add", "-A", cwd=self.root)
        git("commit", "--quiet", "-m", message, cwd=self.root)

    def rollout(
        self, capsys: pytest.CaptureFixture[str], *args: str
    ) -> tuple[int, dict[str, dict[str, object]]]:
        code = main(
            [
                "rollout",
                "template",
                "--root",
                str(self.root),
                "--remote-base",
                str(self.remotes),
                "-o",
                "json",
                *args,
            ]
        )
        captured = capsys.readouterr()
        assert captured.out, captured.err
        data = json.loads(captured.out)
        return code, {entry["service"]: entry for entry in data["repositories"]}


def make_fleet(tmp_path: Path, capsys: pytest.CaptureFixture[str], remote_base: str | None = None) -> Fleet:
    """`init` with three services made from the template, the root committed, every repository published."""
    root = tmp_path / "platform"
    root.mkdir()
    (root / ".env").write_text(f"SERVICES={' '.join(SERVICES)}\n")
    assert main(["init", "--root", str(root), "--yes"]) == 0
    git("init", "--quiet", "--initial-branch=main", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "--quiet", "-m", "platform", cwd=root)
    fleet = Fleet(root, tmp_path / "remotes", tmp_path / "work")
    fleet.work.mkdir()
    base = remote_base or str(fleet.remotes)
    assert main(["publish", "--root", str(root), "--remote-base", base]) == 0
    capsys.readouterr()
    return fleet


@pytest.fixture
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def fleet(tmp_path: Path, capsys: pytest.CaptureFixture[str], git_identity: None) -> Fleet:
    return make_fleet(tmp_path, capsys)
