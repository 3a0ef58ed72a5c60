"""The loopback Helm repository serves the offline copy of a published chart repository to the real helm."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitops_poc.errors import UsageError
from gitops_poc.helmrepo import serve_chart_repository


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
