"""A platform published to real bare repositories; pipelines bump, promote and pin through the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.cli import main
from tests.delivery.conftest import git

DIGEST = "sha256:" + "ab12" * 16


@dataclass
class Published:
    root: Path
    tmp: Path

    def bare(self, service: str) -> Path:
        return self.root / ".remotes" / "gitops-poc" / f"{service}.git"

    def clone(self, service: str) -> Path:
        path = self.tmp / f"clone-{service}"
        if not path.exists():
            git(self.tmp, "clone", "-q", str(self.bare(service)), str(path))
        else:
            git(path, "pull", "-q", "--ff-only")
        return path

    def ci(self, service: str, *args: str, user: str = "ci-bot") -> int:
        """One `gitops-poc ci ...` as a pipeline runs it, pushing to the service's remote."""
        clone = self.clone(service)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("GITLAB_USER_NAME", user)
            patch.setenv("GITLAB_USER_EMAIL", f"{user}@example.invalid")
            return main(["ci", *args[:1], "-C", str(clone), *args[1:], "--push"])

    def head(self, service: str) -> str:
        return git(self.bare(service), "rev-parse", "main").strip()

    def status(self, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
        capsys.readouterr()
        code = main(["status", "-C", str(self.root), "-o", "json", *args])
        captured = capsys.readouterr()
        return code, json.loads(captured.out), captured.err


@pytest.fixture
def published(generated_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Published:
    """The default platform (5 services x dev, staging, prod) published to ROOT/.remotes."""
    assert main(["publish", "-C", str(generated_root)]) == 0
    capsys.readouterr()
    return Published(generated_root, tmp_path)
