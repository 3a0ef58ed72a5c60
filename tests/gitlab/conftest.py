"""A GitLab of the tests' own (REST API + git over HTTP) on loopback, with a planted token."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gitlab.fake_gitlab import FakeGitLab, fake_gitlab

API_TOKEN = "glpat-PLANTED-api-token-1234"
PUSH_TOKEN = "glpat-PLANTED-push-token-5678"


@pytest.fixture
def gitlab_server(tmp_path: Path) -> Iterator[FakeGitLab]:
    with fake_gitlab(API_TOKEN, tmp_path / "gitlab-repos") as fake:
        yield fake


@pytest.fixture
def gitlab_env(monkeypatch: pytest.MonkeyPatch, gitlab_server: FakeGitLab) -> FakeGitLab:
    """GITLAB_URL and GITLAB_TOKEN pointing at the fake, and the write-back token in CI_PUSH_TOKEN."""
    monkeypatch.setenv("GITLAB_URL", gitlab_server.url)
    monkeypatch.setenv("GITLAB_TOKEN", API_TOKEN)
    monkeypatch.setenv("CI_PUSH_TOKEN", PUSH_TOKEN)
    return gitlab_server


@pytest.fixture
def process_args(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """The argument list of every process started in this test (subprocess.run goes through Popen)."""
    started: list[list[str]] = []
    real_init = subprocess.Popen.__init__

    def recording_init(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        started.append([str(a) for a in args] if isinstance(args, list | tuple) else [str(args)])
        real_init(self, args, *rest, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "__init__", recording_init)
    yield started
