"""Credentials reach git through a credential helper fed from the environment: a real smart-HTTP git server
with Basic authentication proves they are used, and the recorded argv of every process proves they never
appear in an argument list, the output, or .git/config."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitops_poc.delivery.gitops import credential_environment, redact
from tests.delivery.conftest import git, make_service_remote
from tests.delivery.githttp import serve_git
from tests.delivery.processes import recording

TOKEN = "glpat-T0kenThatMustNeverLeak"


def run_tool(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitops_poc", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def http_remote(tmp_path: Path):  # type: ignore[no-untyped-def]
    remote = make_service_remote(tmp_path)
    root = tmp_path / "srv"
    (root / "acme").mkdir(parents=True)
    remote.bare.rename(root / "acme" / "api-gateway.git")
    remote.bare = root / "acme" / "api-gateway.git"
    with serve_git(root, "oauth2", TOKEN) as (url, seen):
        git(remote.clone, "remote", "set-url", "origin", f"{url}/acme/api-gateway.git")
        yield remote, url, seen


def test_push_over_http_authenticates_through_the_helper_and_the_token_never_shows(
    http_remote,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    remote, url, seen = http_remote
    log = recording(tmp_path / "rec")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[credential]\n\thelper = store\n")  # must not receive the token
    env = {**os.environ, **log.env, "HOME": str(home), "CI_PUSH_TOKEN": TOKEN, "CI_PIPELINE_IID": "41"}
    result = run_tool(
        remote.clone, env, "ci", "bump", "--env", "dev", "--tag", "4.1.0", "--push", "-o", "json"
    )
    assert result.returncode == 0, result.stderr
    assert '"result": "updated"' in result.stdout
    assert "4.1.0" in git(remote.bare, "show", "main:.cicd/dev.yaml")
    assert "Basic " + base64.b64encode(f"oauth2:{TOKEN}".encode()).decode() in seen  # the helper answered
    recorded = log.everything()
    # The recording saw the helper run (it names the variable, never the value), and the fetch and push.
    assert '"$CI_PUSH_TOKEN"; }; f get' in recorded and "remote-http" in recorded
    assert any("push" in argv for argv in log.argvs()) and any("fetch" in argv for argv in log.argvs())
    for place in (recorded, result.stdout, result.stderr, (remote.clone / ".git" / "config").read_text()):
        assert TOKEN not in place
    assert not (home / ".git-credentials").exists()


def test_a_wrong_token_fails_clearly_without_showing_it(http_remote, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    remote, _url, _seen = http_remote
    wrong = "glpat-WrongTokenValue123"
    env = {**os.environ, "HOME": str(tmp_path), "CI_PUSH_TOKEN": wrong}
    result = run_tool(remote.clone, env, "ci", "bump", "--env", "dev", "--tag", "4.1.0", "--push")
    assert result.returncode == 1 and "cannot fetch branch 'main'" in result.stderr
    assert wrong not in result.stderr + result.stdout
    no_token = run_tool(
        remote.clone,
        {**os.environ, "HOME": str(tmp_path)},
        "ci",
        "bump",
        "--env",
        "dev",
        "--tag",
        "4.1.0",
        "--push",
    )
    assert no_token.returncode == 1  # no prompt, no hang: GIT_TERMINAL_PROMPT=0


@pytest.mark.parametrize("variable", ["CI_PUSH_TOKEN", "CI_JOB_TOKEN"])
def test_the_write_back_token_goes_to_its_gitlab_only(
    variable: str,
    http_remote,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """In GitLab CI the pipeline's token belongs to CI_SERVER_URL (CI_PUSH_TOKEN: GITLAB_URL when set): a
    remote on another origin (here the git server, with GitLab elsewhere) is sent none, and says why."""
    remote, url, seen = http_remote
    elsewhere = url.replace("127.0.0.1", "127.0.0.2")
    env = {**os.environ, "HOME": str(tmp_path), variable: TOKEN, "CI_SERVER_URL": elsewhere}
    result = run_tool(remote.clone, env, "ci", "bump", "--env", "dev", "--tag", "4.1.0", "--push")
    assert result.returncode != 0
    assert f"{variable} is only sent to GitLab at {elsewhere} (CI_SERVER_URL), not to {url}" in result.stderr
    assert [given for given in seen if given] == [], "a credential reached another origin than its GitLab"
    # The remote on CI_SERVER_URL's origin: the token is sent (this server takes the push token's user only).
    argv = ("ci", "bump", "--env", "dev", "--tag", "4.1.0", "--push")
    result = run_tool(remote.clone, {**env, "CI_SERVER_URL": url}, *argv)
    user = "oauth2" if variable == "CI_PUSH_TOKEN" else "gitlab-ci-token"
    assert "Basic " + base64.b64encode(f"{user}:{TOKEN}".encode()).decode() in seen
    assert (result.returncode == 0) is (variable == "CI_PUSH_TOKEN"), result.stderr


def test_job_token_username_and_redaction() -> None:
    env = credential_environment({"CI_JOB_TOKEN": "jobtoken123"})
    assert "gitlab-ci-token" in env["GIT_CONFIG_VALUE_1"] and "jobtoken123" not in str(env)
    assert credential_environment({}) == {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}
    assert (
        redact("x https://u:jobtoken123@h/p jobtoken123", {"CI_JOB_TOKEN": "jobtoken123"})
        == "x https://***@h/p ***"
    )
