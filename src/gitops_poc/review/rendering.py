"""Render many Applications at once: each chart resolved once, `helm template` runs in parallel on every
core, and every output goes through the content-addressed render cache."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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


def render_all(
    jobs: Sequence[Job],
    helm: Helm,
    kube_version: str | None,
    cache: RenderCache | None,
    environ: Mapping[str, str] = os.environ,
    on_progress: Callable[[int, int], None] | None = None,
    mirror: str | None = None,
) -> list[Result]:
    """One result per job, in the jobs' order. With `mirror`, every chart is pulled from that repository
    (same name and version) instead of the Application's repoURL: CI and tests without the public one."""
    charts: dict[ChartRef, ChartResult] = {}
    for job in jobs:
        ref = job.inputs.chart
        if ref not in charts:
            pulled = ref if mirror is None else replace(ref, repo=mirror)
            charts[ref] = resolve_chart(pulled, chart_path=None, helm=helm, cache=cache_root(environ))

    def one(job: Job) -> Result:
        chart = charts[job.inputs.chart]
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

    results: list[Result] = []
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        for done, result in enumerate(pool.map(one, jobs), start=1):
            results.append(result)
            if on_progress is not None:
                on_progress(done, len(jobs))
    return results
