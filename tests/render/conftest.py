"""Fixtures for render/diff tests: a private chart cache and the published chart repository over HTTP."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from gitops_poc.helmrepo import serve_chart_repository
from tests.conftest import require_shared_charts


@pytest.fixture(autouse=True)
def chart_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test pulls into its own cache, so nothing leaks between tests or from the developer's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path / "xdg-cache" / "gitops-poc" / "charts"


@pytest.fixture
def helm_repo() -> Iterator[tuple[str, Callable[[], None]]]:
    """The published k8app repository served on a port of this test's own; the callable takes it offline."""
    with ExitStack() as stack:
        url = stack.enter_context(serve_chart_repository(require_shared_charts("k8app")))
        yield url, stack.close


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def git() -> Callable[..., str]:
    """Run real git in a repository; returns its stdout."""
    return _git
