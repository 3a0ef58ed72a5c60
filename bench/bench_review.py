"""Benchmark `review`: how long a merge request waits for its note.

Figures, each beside its reference measured in the same run:
- a one-service values change through the CLI (target < 3 s), on the smallest platform below;
- a chart bump 3.12.1 -> 3.13.0 at N services x 3 environments (default N = 250, 500, 1000): `review`
  with an empty render cache, beside `helm template` alone for the same renders (both sides) spread over
  all cores (target <= 1.3x), the growth per doubling of N (target <= 2.2x), and the second run with a warm
  render cache.
The charts come from the k8app repository, or from ../shared/charts served on loopback when it cannot be
reached; they are pulled before timing. Note the machine's load (printed): the lead reruns this.
Run: .venv/bin/python bench/bench_review.py [N ...]   (--help: the options)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _charts import chart_repositories
from _platform import env_text

from gitops_poc.changes import apply_changes
from gitops_poc.config import load_config
from gitops_poc.generate import plan_init
from gitops_poc.layout import service_dir, value_files
from gitops_poc.platform import Platform
from gitops_poc.render.chart import cache_root, resolve_chart
from gitops_poc.render.helm import Helm, find_helm
from gitops_poc.render.model import ChartRef, LocalChart
from gitops_poc.review.rendering import workers

REPO = Path(__file__).resolve().parent.parent
GITOPS_POC = Path(sys.executable).with_name("gitops-poc")
ENVIRONMENTS = "dev staging prod"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def generate(root: Path, services: int, version: str, extra: str) -> Platform:
    (root / ".env").write_text(env_text(services, ENVIRONMENTS) + f"CHART_VERSION={version}\n" + extra)
    platform = Platform(load_config(root / ".env", os.environ))
    apply_changes(root, plan_init(platform, root))
    return platform


def review(root: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [str(GITOPS_POC), "review", "-C", str(root), "--base", "HEAD", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"review failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed


def helm_alone(platform: Platform, root: Path, charts: list[LocalChart], helm: Helm) -> float:
    """`helm template` of every Application with each chart (base and head), over all cores."""
    jobs = [
        (chart, service, env)
        for chart in charts
        for service in platform.services
        for env in platform.environments
    ]

    def one(job: tuple[LocalChart, str, str]) -> None:
        chart, service, env = job
        files = [service_dir(root, service) / name for name in value_files(env)]
        helm.template(service, chart.path, platform.namespace(env), files, platform.config.kubernetes_version)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        list(pool.map(one, jobs))
    return time.perf_counter() - start


def pull(platform: Platform, version: str, helm: Helm) -> LocalChart:
    ref = ChartRef(platform.config.chart_repo, platform.config.chart_name, version)
    chart = resolve_chart(ref, chart_path=None, helm=helm, cache=cache_root(os.environ))
    assert isinstance(chart, LocalChart), chart
    return chart


def main(sizes: list[int]) -> None:
    print(f"load: {os.getloadavg()}, cores used: {workers()}")
    helm = Helm(find_helm(REPO))
    with chart_repositories("https://d7561985.github.io/k8app") as urls, tempfile.TemporaryDirectory() as tmp:
        extra = "".join(f"{k}={v}\n" for k, v in urls.items())
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        previous = None
        for index, services in enumerate(sizes):
            setup = time.perf_counter()
            root = Path(tmp) / f"platform-{services}"
            root.mkdir()
            git(root, "init", "-q", "-b", "main")
            platform = generate(root, services, "3.12.1", extra)
            git(root, "add", "-A")
            git(root, "-c", "user.name=b", "-c", "user.email=b@example.invalid", "commit", "-qm", "base")
            charts = [pull(platform, v, helm) for v in ("3.12.1", "3.13.0")]
            if index == 0:
                values = root / "services" / "svc-000" / ".cicd" / "prod.yaml"
                values.write_text(values.read_text() + "\nextraEnv: {}\n")
                review(root)  # the target branch's side, as the previous pipeline left it in the cache
                one = review(root)
                print(
                    f"one-service values change, {services} services x 3 envs, CLI: {one:.2f} s "
                    "(target < 3 s)"
                )
                git(root, "checkout", "-q", "--", ".")
            generate(root, services, "3.13.0", extra)
            print(f"{services} services: set up in {time.perf_counter() - setup:.0f} s (platforms, charts)")
            reference = helm_alone(platform, root, charts, helm)
            os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / f"cold-{services}")
            for chart in ("3.12.1", "3.13.0"):
                pull(platform, chart, helm)
            cold = review(root)
            warm = review(root)
            renders = 2 * services * 3
            growth = f", growth x{cold / previous:.2f} per doubling (target <= 2.2)" if previous else ""
            print(
                f"chart bump, {services} services x 3 envs ({renders} renders): review {cold:.1f} s, "
                f"helm template alone {reference:.1f} s -> x{cold / reference:.2f} (target <= 1.3){growth}; "
                f"warm cache {warm:.1f} s"
            )
            previous = cold
            os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "sizes",
        nargs="*",
        type=int,
        default=[250, 500, 1000],
        help="services per platform (default 250 500 1000)",
    )
    main(parser.parse_args().sizes)
