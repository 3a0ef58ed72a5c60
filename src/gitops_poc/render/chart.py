"""Which chart to render with: `--chart PATH`, or the pinned chart pulled once into a local cache.

A pull that fails (no network, unknown version) is a result, not an exception: callers fall back to the
merged values and tell the user why.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from gitops_poc import fileio
from gitops_poc.errors import UsageError
from gitops_poc.render.helm import Helm, HelmError
from gitops_poc.render.model import ChartRef, ChartResult, ChartUnavailable, LocalChart

SOURCE_MARKER = ".gitops-poc-source"  # the repository a cached chart came from


def cache_root(environ: Mapping[str, str]) -> Path:
    """`$XDG_CACHE_HOME/gitops-poc/charts`, else `~/.cache/gitops-poc/charts`."""
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "gitops-poc" / "charts"


def local_chart(path: Path) -> LocalChart:
    """A chart given with `--chart`: a chart folder or a packaged .tgz."""
    if path.is_dir():
        if not (path / "Chart.yaml").is_file():
            raise UsageError(f"--chart {path}: the folder has no Chart.yaml")
    elif not path.is_file():
        raise UsageError(f"--chart {path}: no such chart folder or .tgz file")
    return LocalChart(path, f"chart {path}")


def cached_chart(ref: ChartRef, cache: Path) -> LocalChart | None:
    """The cached copy of `ref`, if one was pulled from the same repository before."""
    folder = cache / f"{ref.name}-{ref.version}"
    marker = folder / SOURCE_MARKER
    if (
        (folder / "Chart.yaml").is_file()
        and marker.is_file()
        and fileio.read_text(marker, fileio.JSON_STATE).strip() == ref.repo
    ):
        return LocalChart(folder, f"{ref} (cached in {folder})")
    return None


def pull_chart(ref: ChartRef, helm: Helm, cache: Path) -> ChartResult:
    """Pull `ref` into a temporary folder next to the cache, then rename it into place (atomic)."""
    folder = cache / f"{ref.name}-{ref.version}"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".pull-", dir=cache))
    except OSError as exc:
        return ChartUnavailable(f"cannot use the chart cache {cache}: {exc}")
    try:
        helm.pull(ref.pull_args(), staging)
        pulled = staging / ref.name
        if not (pulled / "Chart.yaml").is_file():
            return ChartUnavailable(f"helm pull of {ref} produced no chart folder {ref.name}/")
        fileio.write_atomic(pulled / SOURCE_MARKER, ref.repo + "\n")
        if folder.exists():  # stale: pulled earlier from another repository
            os.rename(folder, staging / "previous")
        try:
            os.rename(pulled, folder)
        except OSError:
            # Another process won the race; its copy is as good as ours.
            if cached_chart(ref, cache) is None:
                raise
        return LocalChart(folder, f"{ref} (pulled into {folder})")
    except HelmError as exc:
        return ChartUnavailable(f"cannot pull chart {ref}: {exc}")
    except OSError as exc:
        return ChartUnavailable(f"cannot store chart {ref} in {cache}: {exc}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def resolve_chart(
    ref: ChartRef,
    *,
    chart_path: Path | None,
    helm: Helm,
    cache: Path,
    on_pull: Callable[[str], None] | None = None,
) -> ChartResult:
    """`--chart PATH` when given; else the cached pinned chart; else pull it once (reporting progress)."""
    if chart_path is not None:
        return local_chart(chart_path)
    if (hit := cached_chart(ref, cache)) is not None:
        return hit
    if on_pull is not None:
        on_pull(f"Pulling chart {ref} into {cache} (once) ...")
    return pull_chart(ref, helm, cache)
