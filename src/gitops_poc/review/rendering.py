"""Render many Applications at once: each chart resolved once, `helm template` runs in parallel on every
core, and every output goes through the content-addressed render cache."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace

from gitops_poc.errors import GitopsError
from gitops_poc.render.cache import RenderCache
from gitops_poc.render.chart import cache_root, resolve_chart
from gitops_poc.render.helm import Helm, HelmError, HelmNotFound
from gitops_poc.render.manifests import Manifest
from gitops_poc.render.model import ChartRef, ChartResult, ChartUnavailable
from gitops_poc.render.service import render_manifests
from gitops_poc.review.sources import RenderInput


@dataclass(frozen=True)
class Job:
    service: str
    env: str
    inputs: RenderInput


Result = tuple[Manifest, ...] | str  # the objects, or why there are none


def workers() -> int:
    """helm is one process per render: as many as there are cores this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@contextmanager
def rendering(
    jobs: Sequence[Job],
    helm: Helm,
    kube_version: str | None,
    cache: RenderCache | None,
    environ: Mapping[str, str] = os.environ,
    on_progress: Callable[[int, int], None] | None = None,
    mirror: str | None = None,
) -> Iterator[Iterator[Result]]:
    """Start every render (in the background, on every core) and hand back their results, in the jobs'
    order, each as soon as it is done: the caller's own work overlaps `helm template`, which keeps the cores
    busy. With `mirror`, every chart is pulled from that repository (same name and version) instead of the
    Application's repoURL: CI and tests without the public one. Progress is told as renders finish."""
    charts: dict[ChartRef, ChartResult] = {}
    for job in jobs:
        ref = job.inputs.chart
        if ref not in charts:
            pulled = ref if mirror is None else replace(ref, repo=mirror)
            charts[ref] = resolve_chart(pulled, chart_path=None, helm=helm, cache=cache_root(environ))
    done = itertools.count(1)
    lock = threading.Lock()

    def one(job: Job) -> Result:
        result = _render(job, charts[job.inputs.chart], helm, kube_version, cache)
        if on_progress is not None:
            with lock:
                on_progress(next(done), len(jobs))
        return result

    with ThreadPoolExecutor(max_workers=workers()) as pool:
        try:
            yield pool.map(one, jobs)
        except BaseException:  # the caller gave up (an error, Ctrl-C): renders not started never start
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _render(
    job: Job, chart: ChartResult, helm: Helm, kube_version: str | None, cache: RenderCache | None
) -> Result:
    if isinstance(chart, ChartUnavailable):
        return chart.note
    try:
        inputs = job.inputs.rendered(job.service, job.env)
        rendered = render_manifests(inputs, helm, chart, kube_version, cache)
    except HelmNotFound:
        raise
    except HelmError as exc:
        return str(exc)
    except GitopsError as exc:  # output that does not parse
        return str(exc)
    return rendered.manifests or ()
