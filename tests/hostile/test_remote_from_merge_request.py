"""A merge request that points gitops-config's pipeline at another server: its GITOPS_REMOTE_BASE (a one-line
change in the generated `.gitlab-ci.yml`, easy to miss in review) names a server on another origin. The
jobs that read the services from there (`lint`, `status`) run with the pipeline's tokens in their
environment: the job's CI_JOB_TOKEN and, where a pipeline is given one, GITLAB_TOKEN. Neither may reach that
server: it is not GitLab's address (CI_SERVER_URL in the pipeline).

The server is GitLab-like and takes the very token the pipeline has, so a leak would show as a successful
read; it records every credential sent to it. The commands run as the pipeline runs them: the real CLI in a
child process, the environment made of GitLab CI's predefined variables and the merge request's own
`.gitlab-ci.yml` variables.

Out of reach of any tool, and said in README: a merge request that changes a job's script or adds GITLAB_URL
to the pipeline's variables can send the secrets that pipeline sees anywhere; GitLab's protected variables
keep them out of merge-request pipelines."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gitops_poc.cli import main
from tests.clirun import run_cli
from tests.gitlab.conftest import API_TOKEN
from tests.gitlab.fake_gitlab import FakeGitLab, fake_gitlab

READER = "gitops-poc/gitops-config"
SERVICES = ("api-gateway", "auth-adapter", "web-grpc", "web-http", "health-demo")


@pytest.fixture
def gitlab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    with fake_gitlab(API_TOKEN, tmp_path / "gitlab-repos") as fake:
        monkeypatch.setenv("GITLAB_URL", fake.url)
        monkeypatch.setenv("GITLAB_TOKEN", API_TOKEN)
        yield fake


@pytest.fixture
def attacker(tmp_path: Path) -> Iterator[FakeGitLab]:
    """The server the merge request names: the same repositories, taking the same token."""
    with fake_gitlab(API_TOKEN, tmp_path / "attacker-repos", host="127.0.0.2") as fake:
        yield fake


def merge_request_pipeline_env(clone: Path, gitlab: FakeGitLab, attacker: FakeGitLab) -> dict[str, str]:
    """The merge request's change to .gitlab-ci.yml, committed on its branch, and the environment a job of
    its pipeline gets: the file's variables ($CI_SERVER_URL expanded) over GitLab CI's predefined ones."""
    pipeline = clone / ".gitlab-ci.yml"
    text = pipeline.read_text()
    assert "GITOPS_REMOTE_BASE: $CI_SERVER_URL" in text
    pipeline.write_text(
        text.replace("GITOPS_REMOTE_BASE: $CI_SERVER_URL", f"GITOPS_REMOTE_BASE: {attacker.url}")
    )
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", "-b", "mr"], check=True)
    subprocess.run(
        ["git", "-C", str(clone), "commit", "-qam", "ci: read the services from a mirror"], check=True
    )
    predefined = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_SERVER_URL": gitlab.url,
        "CI_JOB_TOKEN": gitlab.issue_job_token(READER),
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "GITLAB_TOKEN": API_TOKEN,  # a pipeline given one (unprotected): the worse case
    }
    variables = yaml.safe_load(pipeline.read_text())["variables"]
    env = {k: str(v).replace("$CI_SERVER_URL", gitlab.url) for k, v in variables.items()}
    return {**env, **predefined, "GITLAB_URL": ""}


def test_a_merge_request_pointing_the_remote_base_elsewhere_sends_it_no_token(
    gitlab: FakeGitLab,
    attacker: FakeGitLab,
    generated_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, clone = generated_root, tmp_path / "gitops-config"
    assert main(["gitlab", "bootstrap", "--root", str(root)]) == 0
    assert main(["publish", "--root", str(root), "--remote-base", gitlab.url]) == 0
    # The attacker's server holds the same repositories, so a read there with a token would succeed.
    monkeypatch.setenv("GITLAB_URL", attacker.url)
    assert main(["gitlab", "bootstrap", "--root", str(root)]) == 0
    assert main(["publish", "--root", str(root), "--remote-base", attacker.url]) == 0
    attacker.git_credentials.clear()
    attacker.requests.clear()
    subprocess.run(["git", "clone", "-q", str(gitlab.git_root / READER) + ".git", str(clone)], check=True)
    env = merge_request_pipeline_env(clone, gitlab, attacker)

    lint = run_cli("lint", "--root", str(clone), env=env, tmpdir=tmp_path / "crash")
    assert f"value files of {len(SERVICES)} service(s) not read" in lint.err, lint.err
    assert f"is only sent to GitLab at {gitlab.url} (CI_SERVER_URL), not to {attacker.url}" in lint.err
    status = run_cli("status", "--root", str(clone), "--no-cluster", env=env, tmpdir=tmp_path / "crash")
    assert status.code == 2 and "Traceback" not in status.text, status.err
    assert attacker.git_credentials == [], "a token of the pipeline reached the merge request's server"
    assert attacker.requests == []
    for run in (lint, status):
        assert env["CI_JOB_TOKEN"] not in run.text and API_TOKEN not in run.text and not run.crash_logs

    # The pipeline as generated (GITOPS_REMOTE_BASE: $CI_SERVER_URL) reads every service with its tokens.
    env["GITOPS_REMOTE_BASE"] = gitlab.url
    lint = run_cli("lint", "--root", str(clone), env=env, tmpdir=tmp_path / "crash")
    assert "not read" not in lint.err, lint.err
    assert attacker.git_credentials == []
