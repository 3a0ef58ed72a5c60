"""End-to-end `rollout template` against a real GitLab: a template change proposed as a merge request, a
second run that opens nothing new. Skipped here with the reason (no GitLab can run on these machines); opt-in
as tests/e2e/test_gitlab.py: GITLAB_URL, GITLAB_TOKEN (scope api) and GITOPS_POC_E2E_GITLAB_GROUP, a group
that may be filled and thrown away."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gitops_poc.cli import main
from tests.conftest import REAL_SYSTEMS
from tests.e2e.test_gitlab import real_gitlab

pytestmark = pytest.mark.gitlab
__all__ = ["real_gitlab"]  # the opt-in fixture, shared


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@localhost", *args], cwd=root, check=True
    )


def test_a_template_change_becomes_one_merge_request_in_real_gitlab(
    real_gitlab: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVICES", "rollout-e2e")
    root = tmp_path / "platform"
    root.mkdir()
    url = REAL_SYSTEMS["GITLAB_URL"]
    assert main(["init", "--root", str(root), "--yes"]) == 0
    _git(root, "init", "--quiet", "--initial-branch=main")
    _git(root, "add", "-A")
    _git(root, "commit", "--quiet", "-m", "platform")
    assert main(["gitlab", "bootstrap", "--root", str(root)]) == 0
    assert main(["publish", "--root", str(root), "--remote-base", url]) == 0
    readme = root / "templates" / "service-repo" / "README.md"
    readme.write_text(readme.read_text() + "\n## On call\n\n#platform-oncall\n")
    _git(root, "commit", "--quiet", "-am", "template: on call")
    capsys.readouterr()
    args = ["rollout", "template", "--root", str(root), "--remote-base", url, "-o", "json"]
    assert main(args) == 0
    (first,) = json.loads(capsys.readouterr().out)["repositories"]
    assert first["outcome"] == "proposed" and first["merge_request"] in ("created", "updated")
    assert main(args) == 0
    output = capsys.readouterr()
    (second,) = json.loads(output.out)["repositories"]
    assert second["outcome"] == "unchanged" and second["detail"] == first["detail"]
    assert REAL_SYSTEMS["GITLAB_TOKEN"] not in output.out + output.err
