from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_poc.argv import render
from gitops_poc.errors import UsageError
from gitops_poc.render.chart import (
    SOURCE_MARKER,
    cache_root,
    cached_chart,
    local_chart,
    resolve_chart,
)
from gitops_poc.render.helm import Helm
from gitops_poc.render.model import ChartRef, ChartUnavailable, LocalChart

VERSION = "3.13.0"  # the pinned version, in the published repository


def test_pull_arguments_for_classic_and_oci_repositories() -> None:
    assert render(ChartRef("https://example.org/charts", "app", "3.13.0").pull_args()) == [
        "--repo=https://example.org/charts",
        "--version=3.13.0",
        "--",
        "app",
    ]
    assert render(ChartRef("oci://registry.example.org/charts", "app", "3.13.0").pull_args()) == [
        "--version=3.13.0",
        "--",
        "oci://registry.example.org/charts/app",
    ]


def test_cache_root_follows_xdg_then_home(tmp_path: Path) -> None:
    assert cache_root({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == Path("/x/gitops-poc/charts")
    assert cache_root({"HOME": "/h"}) == Path("/h/.cache/gitops-poc/charts")


def test_local_chart_accepts_a_folder_or_tgz_and_rejects_anything_else(
    tmp_path: Path, helm: str, k8app_chart: Path
) -> None:
    assert local_chart(k8app_chart).path == k8app_chart
    subprocess.run([helm, "package", str(k8app_chart), "-d", str(tmp_path)], check=True, capture_output=True)
    packaged = tmp_path / f"app-{VERSION}.tgz"
    assert local_chart(packaged).path == packaged
    with pytest.raises(UsageError, match="no Chart.yaml"):
        local_chart(tmp_path)
    with pytest.raises(UsageError, match="no such chart"):
        local_chart(tmp_path / "missing")


def test_unreachable_repository_is_a_note_not_a_crash(helm: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    result = resolve_chart(
        ChartRef("http://127.0.0.1:9", "app", "3.13.0"), chart_path=None, helm=Helm(helm), cache=cache
    )
    assert isinstance(result, ChartUnavailable)
    assert "cannot pull chart app 3.13.0 from http://127.0.0.1:9" in result.note
    assert "127.0.0.1:9" in result.note and "refused" in result.note
    assert list(cache.iterdir()) == []  # the staging folder is gone


def test_pinned_chart_is_pulled_once_then_served_from_the_cache(
    helm: str, tmp_path: Path, helm_repo: tuple[str, Callable[[], None]]
) -> None:
    url, stop = helm_repo
    cache = tmp_path / "cache"
    ref = ChartRef(url, "app", VERSION)
    progress: list[str] = []

    first = resolve_chart(ref, chart_path=None, helm=Helm(helm), cache=cache, on_pull=progress.append)
    assert isinstance(first, LocalChart)
    assert first.path == cache / f"app-{VERSION}"
    assert (first.path / "templates" / "deployment.yaml").is_file()
    assert (first.path / SOURCE_MARKER).read_text().strip() == url
    assert len(progress) == 1 and "Pulling chart app" in progress[0]
    assert sorted(p.name for p in cache.iterdir()) == [f"app-{VERSION}"]  # no staging leftovers

    stop()  # no network from here on: the cache must be enough
    again = resolve_chart(ref, chart_path=None, helm=Helm(helm), cache=cache, on_pull=progress.append)
    assert again == LocalChart(first.path, again.description) and "cached" in again.description
    assert len(progress) == 1


def test_a_cached_chart_from_another_repository_is_not_reused(
    helm: str, tmp_path: Path, helm_repo: tuple[str, Callable[[], None]]
) -> None:
    url, _ = helm_repo
    cache = tmp_path / "cache"
    assert isinstance(
        resolve_chart(ChartRef(url, "app", VERSION), chart_path=None, helm=Helm(helm), cache=cache),
        LocalChart,
    )
    assert cached_chart(ChartRef("https://fork.example.org", "app", VERSION), cache) is None
    # Re-pulling from the original repository replaces nothing it should not and still works.
    (cache / f"app-{VERSION}" / SOURCE_MARKER).write_text("https://fork.example.org\n")
    result = resolve_chart(ChartRef(url, "app", VERSION), chart_path=None, helm=Helm(helm), cache=cache)
    assert isinstance(result, LocalChart)
    assert (result.path / SOURCE_MARKER).read_text().strip() == url


def test_unknown_version_in_a_reachable_repository(
    helm: str, tmp_path: Path, helm_repo: tuple[str, Callable[[], None]]
) -> None:
    url, _ = helm_repo
    result = resolve_chart(
        ChartRef(url, "app", "9.9.9"), chart_path=None, helm=Helm(helm), cache=tmp_path / "c"
    )
    assert isinstance(result, ChartUnavailable) and "9.9.9" in result.note


def test_an_explicit_chart_wins_over_the_pinned_one(helm: str, k8app_chart: Path, tmp_path: Path) -> None:
    ref = ChartRef("http://127.0.0.1:9", "app", "3.13.0")
    result = resolve_chart(ref, chart_path=k8app_chart, helm=Helm(helm), cache=tmp_path / "c")
    assert result == LocalChart(k8app_chart, f"chart {k8app_chart}")
    assert not (tmp_path / "c").exists()
