"""Render many Applications at once: each chart resolved once, `helm template` runs in parallel on every
core, and every output goes through the content-addressed render cache. The workers only run helm; the
caller's thread parses and stores each output as it takes it, so a core never waits on that for its next
render."""

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
from gitops_poc.render.model import ChartRef, ChartResult, ChartUnavailable, LocalChart, Rendered
from gitops_poc.render.service import Output, template_output, with_manifests
from gitops_poc.review.sources import RenderInput


@dataclass(frozen=True)
class Job:
    service: str
    env: str
    inputs: RenderInput


Result = tuple[Manifest, ...] | str  # the objects, or why there are none


@dataclass(frozen=True)
class _Done:
    """A render helm has finished, its output not parsed yet."""

    rendered: Rendered
    chart: LocalChart
    output: Output


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

    def one(job: Job) -> _Done | str:
        result = _render(job, charts[job.inputs.chart], helm, kube_version, cache)
        if on_progress is not None:
            with lock:
                on_progress(next(done), len(jobs))
        return result

    with ThreadPoolExecutor(max_workers=workers()) as pool:
        try:
            yield (_parsed(result, cache) for result in pool.map(one, jobs))
        except BaseException:  # the caller gave up (an error, Ctrl-C): renders not started never start
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _render(
    job: Job, chart: ChartResult, helm: Helm, kube_version: str | None, cache: RenderCache | None
) -> _Done | str:
    if isinstance(chart, ChartUnavailable):
        return chart.note
    try:
        inputs = job.inputs.rendered(job.service, job.env)
        return _Done(inputs, chart, template_output(inputs, helm, chart, kube_version, cache))
    except HelmNotFound:
        raise
    except (HelmError, GitopsError) as exc:  # helm failed; a values file does not parse
        return str(exc)


def _parsed(result: _Done | str, cache: RenderCache | None) -> Result:
    """The objects of a finished render, stored in the cache first (in the caller's thread)."""
    if isinstance(result, str):
        return result
    try:
        rendered = with_manifests(result.rendered, result.chart, result.output, cache)
    except GitopsError as exc:  # output that does not parse
        return str(exc)
    return rendered.manifests or ()
