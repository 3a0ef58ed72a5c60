"""Benchmark `render`: every default service x environment (5 x 3 = 15), rendered and validated.

Figures: the CLI's start-up alone (`gitops-poc --version`, best of 5), in-process (helm template + parse +
offline validation, custom resources against the pinned charts' CRDs, one Python process as `diff` and
scripts use it), the CLI run once per combination (what a user or CI pays, Python start-up included), and
`diff` across two revisions of every environment of one service (6 renders).
The charts are the published ones (k8app, and the Vault Secrets Operator and Argo CD charts whose CRDs
validate the custom resources), pulled once into an empty cache as users pull them: from the configured
repositories or, where the k8app one cannot be reached, from ../shared/charts served on loopback.
Run: .venv/bin/python bench/bench_render.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _charts import chart_repositories

from gitops_poc.changes import apply_changes
from gitops_poc.config import load_config
from gitops_poc.generate import plan_init
from gitops_poc.platform import Platform
from gitops_poc.render.chart import cache_root, resolve_chart
from gitops_poc.render.crds import load_crd_schemas
from gitops_poc.render.helm import Helm, find_helm
from gitops_poc.render.model import ChartRef, LocalChart
from gitops_poc.render.service import render_service
from gitops_poc.render.validate import validate_manifests

REPO = Path(__file__).resolve().parent.parent
GITOPS_POC = Path(sys.executable).with_name("gitops-poc")


def startup() -> float:
    """The CLI's own start-up: `gitops-poc --version`, best of 5."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([str(GITOPS_POC), "--version"], check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def pull(platform: Platform) -> tuple[float, LocalChart]:
    start = time.perf_counter()
    chart = resolve_chart(
        ChartRef.from_config(platform.config),
        chart_path=None,
        helm=Helm(find_helm(REPO)),
        cache=cache_root(os.environ),
    )
    assert isinstance(chart, LocalChart), chart
    return time.perf_counter() - start, chart


def in_process(platform: Platform, root: Path, chart: LocalChart) -> tuple[float, list[float], int]:
    helm = Helm(find_helm(REPO))
    times, objects = [], 0
    start = time.perf_counter()
    crds = load_crd_schemas(platform.config, helm, os.environ)
    assert not crds.unavailable, crds.unavailable
    for service in platform.services:
        for env in platform.environments:
            one = time.perf_counter()
            rendered = render_service(
                platform,
                root / "services" / service,
                service,
                env,
                helm=helm,
                chart=chart,
                kube_version="1.30",
            )
            report = validate_manifests(rendered.manifests or (), "1.30", crds)
            assert report.ok, report.errors
            objects += len(rendered.manifests or ())
            times.append(time.perf_counter() - one)
    return time.perf_counter() - start, times, objects


def cli(platform: Platform, root: Path) -> float:
    start = time.perf_counter()
    for service in platform.services:
        for env in platform.environments:
            subprocess.run(
                [str(GITOPS_POC), "render", service, env, "-C", str(root)], check=True, capture_output=True
            )
    return time.perf_counter() - start


def cli_diff(root: Path) -> float:
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "bench"]):
        subprocess.run(
            ["git", "-C", str(root), *args],
            check=True,
            capture_output=True,
            env={
                "GIT_AUTHOR_NAME": "b",
                "GIT_AUTHOR_EMAIL": "b@x",
                "GIT_COMMITTER_NAME": "b",
                "GIT_COMMITTER_EMAIL": "b@x",
                "PATH": "/usr/bin:/bin",
            },
        )
    start = time.perf_counter()
    result = subprocess.run(
        [str(GITOPS_POC), "diff", "api-gateway", "--base", "HEAD", "-C", str(root)],
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return time.perf_counter() - start


def main() -> None:
    public = load_config(None, os.environ).chart_repo
    with tempfile.TemporaryDirectory() as tmp, chart_repositories(public) as urls:
        root = Path(tmp) / "platform"
        apply_changes(root, plan_init(Platform(load_config(None, {})), root))
        os.environ.update(urls)  # for the renders only: the generated files name the public repositories
        os.environ["XDG_CACHE_HOME"] = str(
            Path(tmp) / "cache"
        )  # an empty chart cache: the first pull is measured
        platform = Platform(load_config(None, os.environ))
        seconds, chart = pull(platform)
        print(
            f"chart pull: {chart.description}: {seconds:.2f} s (once; every render after it uses the cache)"
        )
        combos = len(platform.services) * len(platform.environments)
        total, times, objects = in_process(platform, root, chart)
        print(
            f"render in-process: {combos} service x env, {objects} objects validated: {total:.2f} s "
            f"(median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms per render; "
            f"the first includes loading the 1.30 schemas; the total includes pulling the VSO and Argo CD"
            f" charts and extracting their CRDs once)"
        )
        print(f"CLI start-up alone (gitops-poc --version, best of 5): {startup() * 1000:.0f} ms")
        print(f"render CLI, one process per combination: {combos} runs in {cli(platform, root):.2f} s")
        print(
            "diff CLI, api-gateway HEAD vs working tree, all 3 environments (6 renders):"
            f" {cli_diff(root):.2f} s"
        )


if __name__ == "__main__":
    main()
