"""With planted tokens: bootstrap and publish to a GitLab (REST API + git over HTTP) of the test's own, and
look for the tokens in every process's arguments, all output, the remotes' git config and the files left."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gitops_poc.cli import main
from tests.gitlab.conftest import API_TOKEN, PUSH_TOKEN
from tests.gitlab.fake_gitlab import FakeGitLab
from tests.publish.conftest import assert_fast_forward_only, bare_head


def test_publish_and_bootstrap_against_gitlab_leak_no_token(
    gitlab_env: FakeGitLab,
    generated_root: Path,
    capsys: pytest.CaptureFixture[str],
    process_args: list[list[str]],
) -> None:
    output = []

    def run(*args: str) -> int:
        code = main(list(args))
        captured = capsys.readouterr()
        output.append(captured.out + captured.err)
        return code

    root = str(generated_root)
    assert run("publish", "--root", root, "--remote-base", gitlab_env.url, "--dry-run") == 0
    assert gitlab_env.writes() == [] and "would create" in output[-1]
    assert run("publish", "--root", root, "--remote-base", gitlab_env.url) == 0
    assert "GitLab: create project gitops-poc/health-demo" in output[-1]
    assert run("gitlab", "bootstrap", "--root", root) == 0
    assert run("publish", "--root", root, "--remote-base", gitlab_env.url) == 0
    assert "Everything is up to date: nothing pushed" in output[-1]
    assert run("gitlab", "check", "--root", root) == 0

    # The pushes went over HTTP with the token, as user oauth2, and landed fast-forward.
    assert set(gitlab_env.git_auth) == {"oauth2"}
    bare = gitlab_env.git_root / "gitops-poc" / "health-demo.git"
    assert bare_head(bare)
    assert_fast_forward_only(bare)

    group_id = gitlab_env.state.groups["gitops-poc"]["id"]
    issued = [t["token"] for t in gitlab_env.state.deploy_tokens[group_id]]
    issued += [t["token"] for tokens in gitlab_env.state.agent_tokens.values() for t in tokens]
    review = [t["token"] for t in gitlab_env.state.access_tokens[group_id]]
    secrets = [API_TOKEN, PUSH_TOKEN, *issued, *review]
    assert len(issued) == 2 and len(review) == 1 and process_args
    assert any(args[:1] == ["git"] and "push" in args for args in process_args)
    for secret in secrets:
        assert not any(secret in arg for args in process_args for arg in args), "a token in a process's argv"
        assert not any(secret in text for text in output), "a token in the output"
        for config in gitlab_env.git_root.rglob("config"):
            assert secret not in config.read_text()
    # Issued tokens are in the credentials file only, which only its owner can read.
    env = generated_root / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert all(token in env.read_text() for token in issued)
    assert review[0] not in env.read_text()  # the review token lives in GitLab's variable only
    leftovers = [
        p for p in generated_root.rglob("*") if p.is_file() and p != env and ".remotes" not in p.parts
    ]
    for path in leftovers:
        text = path.read_text(errors="replace")
        assert not any(secret in text for secret in secrets), path
