"""Before a wave writes anything: every service of the environment rendered with the new chart version
(the parallel, cached renderer `review` uses) and its objects validated as the API server would."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gitops_poc.layout import service_dir
from gitops_poc.platform import Platform
from gitops_poc.render.cache import RenderCache
from gitops_poc.render.helm import Helm
from gitops_poc.render.model import ChartRef
from gitops_poc.render.validate import validate_manifests
from gitops_poc.review.rendering import Job, rendering
from gitops_poc.review.sources import service_inputs

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Verdict:
    """One service of the wave: rendered and valid (error None), or why not."""

    service: str
    env: str
    objects: int
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"service": self.service, "env": self.env, "objects": self.objects, "error": self.error}


def _job(platform: Platform, root: Path, service: str, env: str, chart: ChartRef) -> Job | str:
    inputs = service_inputs(platform, service_dir(root, service), service, env, chart)
    return inputs if isinstance(inputs, str) else Job(service, env, inputs)


def preflight(
    platform: Platform,
    root: Path,
    env: str,
    chart: ChartRef,
    helm: Helm,
    cache: RenderCache | None,
    kube_version: str,
    environ: Mapping[str, str] = os.environ,
    on_progress: Progress | None = None,
    services: Sequence[str] | None = None,
) -> list[Verdict]:
    """A verdict per service of `env` (SERVICES order) with `chart`; failures carry helm's or the
    validator's message."""
    names = list(services if services is not None else platform.services)
    jobs = {name: _job(platform, root, name, env, chart) for name in names}
    runnable = [job for job in jobs.values() if isinstance(job, Job)]
    with rendering(runnable, helm, kube_version, cache, environ, on_progress) as rendered:
        results = dict(zip((job.service for job in runnable), rendered, strict=True))
    verdicts = []
    for name in names:
        job = jobs[name]
        if isinstance(job, str):
            verdicts.append(Verdict(name, env, 0, job))
            continue
        result = results[name]
        if isinstance(result, str):
            verdicts.append(Verdict(name, env, 0, result))
            continue
        report = validate_manifests(result, kube_version)
        error = None
        if not report.ok:
            shown = "; ".join(str(f) for f in report.errors[:3])
            more = f" (+{len(report.errors) - 3} more)" if len(report.errors) > 3 else ""
            error = f"{len(report.errors)} object problem(s) the API server would reject: {shown}{more}"
        verdicts.append(Verdict(name, env, len(result), error))
    return verdicts
