"""Fixtures for render/diff tests: a private chart cache and a real local Helm repository over HTTP."""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def chart_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test pulls into its own cache, so nothing leaks between tests or from the developer's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path / "xdg-cache" / "gitops-poc" / "charts"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def helm_repo(
    tmp_path: Path, helm: str, test_chart: Path
) -> Iterator[tuple[str, http.server.ThreadingHTTPServer]]:
    """The test chart packaged and indexed as a classic Helm repository, served on a free local port."""
    folder = tmp_path / "helm-repo"
    folder.mkdir()
    subprocess.run([helm, "package", str(test_chart), "-d", str(folder)], check=True, capture_output=True)
    subprocess.run([helm, "repo", "index", str(folder)], check=True, capture_output=True)
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", server
    finally:
        server.shutdown()
        server.server_close()


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def git() -> Callable[..., str]:
    """Run real git in a repository; returns its stdout."""
    return _git
