"""The loopback Helm repository serves the offline copy of a published chart repository to the real helm."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gitops_poc.errors import UsageError
from gitops_poc.helmrepo import repository_reachable, serve_chart_repository
from tests.conftest import require_shared_charts


def test_helm_pulls_the_published_chart_by_version(k8app_repo: str, helm: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [helm, "pull", "app", "--repo", k8app_repo, "--version", "3.13.0", "--untar", "-d", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "version: 3.13.0" in (tmp_path / "app" / "Chart.yaml").read_text(encoding="utf-8")


def test_a_folder_without_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no index.yaml"), serve_chart_repository(tmp_path):
        pass


def _run_entry(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gitops_poc.helmrepo", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_entry_serves_the_copy_when_the_repository_cannot_be_reached(helm: str, tmp_path: Path) -> None:
    process = _run_entry("--unless-reachable", "http://127.0.0.1:9", str(require_shared_charts("k8app")))
    try:
        assert process.stdout is not None and process.stderr is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url != "http://127.0.0.1:9"
        assert "http://127.0.0.1:9 cannot be reached: serving the offline copy" in process.stderr.readline()
        pulled = subprocess.run(
            [helm, "pull", "app", "--repo", url, "--version", "3.12.1", "-d", str(tmp_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert pulled.returncode == 0, pulled.stderr
        assert (tmp_path / "app-3.12.1.tgz").is_file()
    finally:
        process.terminate()
    assert process.wait(timeout=10) == 0  # SIGTERM is the way to stop it


def test_the_entry_prints_a_reachable_repository_and_serves_nothing(k8app_repo: str) -> None:
    assert repository_reachable(k8app_repo) and not repository_reachable("http://127.0.0.1:9")
    process = _run_entry("--unless-reachable", k8app_repo, "/nonexistent")
    out, _ = process.communicate(timeout=30)
    assert (process.returncode, out) == (0, f"{k8app_repo}\n")


def test_the_entry_refuses_a_folder_that_is_no_repository(tmp_path: Path) -> None:
    process = _run_entry(str(tmp_path))
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2 and "no index.yaml" in err
