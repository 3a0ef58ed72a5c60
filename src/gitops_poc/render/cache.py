"""A content-addressed cache of `helm template` output: the same chart, value files, release, namespace and
Kubernetes version give the same manifests, so a render already done (the target branch's side of a
review, a re-run) costs one file read."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from gitops_poc import fileio
from gitops_poc.errors import UsageError
from gitops_poc.render.chart import cache_root

SCHEMA = "1"  # bump when what is stored changes


def render_cache_root(environ: Mapping[str, str]) -> Path:
    """`$XDG_CACHE_HOME/gitops-poc/renders`, else `~/.cache/gitops-poc/renders`: beside the chart cache."""
    return cache_root(environ).parent / "renders"


_digests: dict[Path, str] = {}


def chart_digest(chart: Path) -> str:
    """SHA-256 over every file of a chart folder (or a packaged .tgz), names included; once per process
    (an absolute path is looked up as given first: resolving it costs more than a render's bookkeeping)."""
    if chart.is_absolute() and (known := _digests.get(chart)) is not None:
        return known
    resolved = chart.resolve()
    if resolved not in _digests:
        sha = hashlib.sha256()
        files = [resolved] if resolved.is_file() else sorted(p for p in resolved.rglob("*") if p.is_file())
        for path in files:
            sha.update(path.relative_to(resolved).as_posix().encode() if path != resolved else b"")
            sha.update(b"\0")
            sha.update(path.read_bytes())
            sha.update(b"\0")
        _digests[resolved] = sha.hexdigest()
    if chart.is_absolute():
        _digests[chart] = _digests[resolved]
    return _digests[resolved]


def render_key(
    chart: Path, value_texts: Sequence[str], release: str, namespace: str, kube_version: str | None
) -> str:
    """Everything `helm template` output depends on, hashed."""
    sha = hashlib.sha256()
    for part in (SCHEMA, chart_digest(chart), release, namespace, kube_version or "", *value_texts):
        sha.update(part.encode())
        sha.update(b"\0")
    return sha.hexdigest()


class RenderCache:
    """Outputs stored as `<folder>/<key[:2]>/<key>`; a failed read or write is only a miss."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def get(self, key: str) -> str | None:
        try:
            text = fileio.read_text(self._path(key), fileio.YAML_FILE, universal=False)
        except UsageError:  # absent, not a file, too big: a miss
            self.misses += 1
            return None
        self.hits += 1
        return text

    def put(self, key: str, output: str) -> None:
        with contextlib.suppress(UsageError):  # a read-only or full cache: only a miss next time
            fileio.write_atomic(self._path(key), output)
