"""`publish` against real git and local bare repositories."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.publish import git as publish_git
from tests.publish.conftest import assert_fast_forward_only, bare_head, git, reflog, team_commit

REPOS = ("gitops-config", "api-gateway", "auth-adapter", "web-grpc", "web-http", "health-demo")


def run(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str]:
    code = main(["publish", "--root", str(root), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def publish_json(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> dict[str, dict[str, object]]:
    code = main(["publish", "--root", str(root), "-o", "json", *args])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    return {entry["repository"].split("/")[-1]: entry for entry in data["repositories"]}


def tree_files(bare: Path) -> set[str]:
    return set(git(f"--git-dir={bare}", "ls-tree", "-r", "--name-only", "main").splitlines())


def show(bare: Path, path: str) -> str:
    return git(f"--git-dir={bare}", "show", f"main:{path}")


def test_first_publish_creates_every_bare_repository_with_the_folder_files(
    generated_root: Path, remotes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = publish_json(capsys, generated_root, "--remote-base", str(remotes))
    assert set(results) == set(REPOS)
    assert all(r["outcome"] == "created" and r["remote_created"] for r in results.values())
    config_files = {
        p.relative_to(generated_root / "gitops-config").as_posix()
        for p in (generated_root / "gitops-config").rglob("*")
        if p.is_file()
    }
    assert tree_files(remotes / "gitops-poc" / "gitops-config.git") == config_files
    assert tree_files(remotes / "gitops-poc" / "health-demo.git") == {
        ".cicd/default.yaml",
        ".cicd/dev.yaml",
        ".cicd/staging.yaml",
        ".cicd/prod.yaml",
        ".gitlab-ci.yml",
        "README.md",
    }
    assert show(remotes / "gitops-poc" / "health-demo.git", ".cicd/dev.yaml") == (
        generated_root / "services/health-demo/.cicd/dev.yaml"
    ).read_text().rstrip("\n")


def test_second_publish_changes_nothing(
    generated_root: Path, remotes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish_json(capsys, generated_root, "--remote-base", str(remotes))
    heads = {r: bare_head(remotes / "gitops-poc" / f"{r}.git") for r in REPOS}
    code, text = run(capsys, generated_root, "--remote-base", str(remotes))
    assert code == 0
    assert "Everything is up to date: nothing pushed" in text
    assert {r: bare_head(remotes / "gitops-poc" / f"{r}.git") for r in REPOS} == heads
    for (
        repo
    ) in REPOS:  # one update each (the first push): the second run pushed nothing, not even an empty commit
        assert len(reflog(remotes / "gitops-poc" / f"{repo}.git")) == 1


def test_default_base_is_inside_the_root_and_kept_out_of_its_git(
    generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git("init", "--quiet", "-b", "main", cwd=generated_root)
    assert run(capsys, generated_root)[0] == 0
    assert (generated_root / ".remotes" / "gitops-poc" / "gitops-config.git" / "HEAD").is_file()
    status = git("status", "--porcelain", "--untracked-files=all", cwd=generated_root)
    assert ".remotes" not in status


def test_a_team_commit_on_the_remote_survives_and_history_is_never_rewritten(
    generated_root: Path, remotes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish_json(capsys, generated_root, "--remote-base", str(remotes))
    bare = remotes / "gitops-poc" / "health-demo.git"
    team = team_commit(
        bare, tmp_path, ".cicd/dev.yaml", "# team: keep two replicas in dev\n", "team: dev note"
    )

    # Nothing changed in the root: publish leaves the team's commit as the head.
    again = publish_json(capsys, generated_root, "--remote-base", str(remotes))
    assert again["health-demo"]["outcome"] == "unchanged"
    assert again["health-demo"]["remote_commits_kept"] == 1
    assert bare_head(bare) == team

    # The root changes another file of the same repository: merged on top, the team's line is still there.
    readme = generated_root / "services/health-demo/README.md"
    readme.write_text(readme.read_text() + "\nPlatform note.\n")
    merged = publish_json(capsys, generated_root, "--remote-base", str(remotes))["health-demo"]
    assert merged["outcome"] == "merged"
    assert [f["path"] for f in merged["files"]] == ["README.md"]
    assert "# team: keep two replicas in dev" in show(bare, ".cicd/dev.yaml")
    assert show(bare, "README.md").endswith("Platform note.")
    assert (
        subprocess.run(
            ["git", f"--git-dir={bare}", "merge-base", "--is-ancestor", team, "main"], check=False
        ).returncode
        == 0
    )
    assert_fast_forward_only(bare)


def test_root_and_team_edit_the_same_file_in_different_places(
    generated_root: Path, remotes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish_json(capsys, generated_root, "--remote-base", str(remotes))
    bare = remotes / "gitops-poc" / "health-demo.git"
    team_commit(bare, tmp_path, ".cicd/dev.yaml", "# team line at the end\n", "team: append")
    values = generated_root / "services/health-demo/.cicd/dev.yaml"
    values.write_text("# platform line at the top\n" + values.read_text())
    assert (
        publish_json(capsys, generated_root, "--remote-base", str(remotes))["health-demo"]["outcome"]
        == "merged"
    )
    text = show(bare, ".cicd/dev.yaml")
    assert text.startswith("# platform line at the top") and text.endswith("# team line at the end")
    # And a later publish without changes pushes nothing: the merge base moved to the root's new state.
    assert (
        publish_json(capsys, generated_root, "--remote-base", str(remotes))["health-demo"]["outcome"]
        == "unchanged"
    )
    assert_fast_forward_only(bare)


def test_conflicting_edits_push_nothing_and_name_the_file(
    generated_root: Path, remotes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish_json(capsys, generated_root, "--remote-base", str(remotes))
    bare = remotes / "gitops-poc" / "web-http.git"
    values = generated_root / "services/web-http/.cicd/default.yaml"
    first_line = values.read_text().splitlines()[0]
    team_commit(bare, tmp_path, ".cicd/default.yaml", "# team's first line", "team: edit", replace=first_line)
    before = bare_head(bare)
    values.write_text(values.read_text().replace(first_line, "# platform's first line", 1))
    code, text = run(capsys, generated_root, "--remote-base", str(remotes))
    assert code == 1
    assert "gitops-poc/web-http" in text and ".cicd/default.yaml" in text and "nothing was pushed" in text
    assert bare_head(bare) == before


def test_a_file_the_root_no_longer_has_is_deleted_on_the_remote(
    generated_root: Path, remotes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    publish_json(capsys, generated_root, "--remote-base", str(remotes))
    (generated_root / "gitops-config/platform/dev/web-grpc.yaml").unlink()
    result = publish_json(capsys, generated_root, "--remote-base", str(remotes))["gitops-config"]
    assert result["outcome"] == "updated"
    assert result["files"] == [{"status": "D", "path": "platform/dev/web-grpc.yaml"}]
    assert "platform/dev/web-grpc.yaml" not in tree_files(remotes / "gitops-poc" / "gitops-config.git")


def test_only_the_repository_files_go_in(
    generated_root: Path, remotes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service = generated_root / "services/health-demo"
    (service / ".env").write_text("GITLAB_DEPLOY_TOKEN=never-committed\n")
    (service / ".secrets.yaml").write_text("x: y\n")
    (service / "build.log").write_text("ignored\n")
    (service / "run.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(service / "run.sh", 0o755)
    (generated_root / ".gitignore").write_text((generated_root / ".gitignore").read_text() + "*.log\n")
    git("init", "--quiet", "-b", "main", cwd=generated_root)
    nested = generated_root / "services/web-http"
    git("init", "--quiet", "-b", "main", cwd=nested)  # a team's own clone in place: its .git stays out

    publish_json(capsys, generated_root, "--remote-base", str(remotes))
    files = tree_files(remotes / "gitops-poc" / "health-demo.git")
    assert "run.sh" in files
    assert not {".env", ".secrets.yaml", "build.log"} & files
    mode = git(
        f"--git-dir={remotes / 'gitops-poc' / 'health-demo.git'}", "ls-tree", "main", "run.sh"
    ).split()[0]
    assert mode == "100755"
    assert not any(
        f == ".git" or f.startswith(".git/") or "/.git/" in f
        for f in tree_files(remotes / "gitops-poc" / "web-http.git")
    )
    assert not stat.S_IMODE((service / "run.sh").stat().st_mode) & 0o022  # unchanged on disk


def test_dry_run_creates_and_pushes_nothing(
    generated_root: Path, remotes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run(capsys, generated_root, "--remote-base", str(remotes), "--dry-run")
    assert code == 0
    assert not remotes.exists()
    assert "would create" in text and "6 of 6 repositories would change (dry run: nothing pushed)" in text
    publish_json(capsys, generated_root, "--remote-base", str(remotes))
    bare = remotes / "gitops-poc" / "api-gateway.git"
    team_commit(bare, tmp_path, "README.md", "team\n", "team")
    (generated_root / "services/api-gateway/.cicd/prod.yaml").write_text("# changed\n")
    head = bare_head(bare)
    result = publish_json(capsys, generated_root, "--remote-base", str(remotes), "--dry-run")["api-gateway"]
    assert result["outcome"] == "merged" and result["files"] == [{"status": "M", "path": ".cicd/prod.yaml"}]
    assert bare_head(bare) == head and len(reflog(bare)) == 2


def test_a_push_that_races_a_team_commit_is_merged_again_not_forced(
    generated_root: Path,
    remotes: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publish_json(capsys, generated_root, "--remote-base", str(remotes))
    bare = remotes / "gitops-poc" / "auth-adapter.git"
    real_fetch = publish_git.Scratch.fetch
    raced: list[str] = []

    def fetch_then_someone_pushes(self: publish_git.Scratch, remote: str, branch: str) -> str | None:
        head = real_fetch(self, remote, branch)
        if remote == str(bare) and not raced:  # between our fetch and our push, a team pushes
            raced.append(team_commit(bare, tmp_path, ".cicd/staging.yaml", "# raced\n", "team: race"))
        return head

    monkeypatch.setattr(publish_git.Scratch, "fetch", fetch_then_someone_pushes)
    (generated_root / "services/auth-adapter/README.md").write_text("# new readme\n")
    result = publish_json(capsys, generated_root, "--remote-base", str(remotes))["auth-adapter"]
    assert result["outcome"] == "merged" and result["previous"] == raced[0]
    assert show(bare, ".cicd/staging.yaml").endswith("# raced") and show(bare, "README.md") == "# new readme"
    assert_fast_forward_only(bare)


def test_the_git_branch_of_the_configuration_is_used(
    generated_root: Path, remotes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (generated_root / ".env").write_text("GIT_BRANCH=trunk\n")
    publish_json(capsys, generated_root, "--remote-base", str(remotes))
    bare = remotes / "gitops-poc" / "gitops-config.git"
    assert bare_head(bare, "trunk")
    assert git(f"--git-dir={bare}", "symbolic-ref", "HEAD") == "refs/heads/trunk"
