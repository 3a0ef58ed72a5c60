"""Benchmark `rollout chart` and `rollout template`, a function per part.

preflight: the pre-flight of one `rollout chart` wave (every service of staging rendered with k8app 3.13.0 and
validated, the platform on 3.12.1) at 250, 500, 1,000 and 2,000 services, beside `helm template` alone for the
same renders over all cores (target <= 1.3x), with the growth per doubling. Charts from the k8app repository,
else ../shared/charts on loopback; pulled before timing, the render cache empty (cold). Note the load.
Run: .venv/bin/python bench/bench_rollout.py preflight [SIZES...]

template: `rollout template --push` over 50, 100 and 200 service repositories (local bare remotes, 5
environments, every 10th repository's team edited the line the template changes: a conflict), with the growth
per doubling; then the second run (nothing to do). Setup (init, publish, the team edits) is not timed.
Run: .venv/bin/python bench/bench_rollout.py [template] [SIZES...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _charts import chart_repositories
from _platform import env_text, write_platform

from gitops_poc.changes import apply_changes
from gitops_poc.config import load_config
from gitops_poc.generate import plan_init
from gitops_poc.layout import service_dir, value_files
from gitops_poc.platform import Platform
from gitops_poc.publish.remote import parse_remote_base
from gitops_poc.publish.run import publish
from gitops_poc.render.cache import RenderCache
from gitops_poc.render.chart import cache_root, resolve_chart
from gitops_poc.render.helm import Helm, find_helm
from gitops_poc.render.model import ChartRef, LocalChart
from gitops_poc.review.rendering import workers
from gitops_poc.rollout.preflight import preflight
from gitops_poc.rollout.template.model import Outcome
from gitops_poc.rollout.template.run import Options, rollout_template

TEMPLATE_SIZES = (50, 100, 200)
PREFLIGHT_SIZES = (250, 500, 1000, 2000)
IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]


def _git(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *IDENTITY, *map(str, args)], cwd=cwd, check=True, capture_output=True)
    return done.stdout.decode().strip()


def _team_edit(bare: Path, work: Path) -> None:
    """The repository's team changes the line the template will change."""
    _git("clone", "--quiet", bare, work)
    values = work / ".cicd" / "default.yaml"
    values.write_text(values.read_text().replace("LOG_LEVEL: info", "LOG_LEVEL: debug", 1))
    _git("commit", "--quiet", "-am", "team", cwd=work)
    _git("push", "--quiet", "origin", "HEAD:main", cwd=work)


def _fleet(tmp: Path, services: int) -> tuple[Platform, Path]:
    root = tmp / "platform"
    root.mkdir()
    platform = write_platform(root, services)
    _git("init", "--quiet", "--initial-branch=main", cwd=root)
    _git("add", "-A", cwd=root)
    _git("commit", "--quiet", "-m", "platform", cwd=root)
    publish(platform, root, parse_remote_base(str(tmp / "remotes"), root))
    for index, service in enumerate(platform.services):
        if index % 10 == 0:
            _team_edit(tmp / "remotes" / f"{platform.repo_path(service)}.git", tmp / f"team-{service}")
    template = root / "templates" / "service-repo"
    values = template / ".cicd" / "default.yaml"
    values.write_text(values.read_text().replace("LOG_LEVEL: info", "LOG_LEVEL: warn", 1))
    (template / "README.md").write_text((template / "README.md").read_text() + "\n## On call\n\n#oncall\n")
    _git("commit", "--quiet", "-am", "template change", cwd=root)
    return platform, root


def template_part(sizes: Sequence[int] = TEMPLATE_SIZES) -> None:
    rows = []
    for services in sizes:
        with tempfile.TemporaryDirectory() as scratch:
            tmp = Path(scratch)
            platform, root = _fleet(tmp, services)
            base = parse_remote_base(str(tmp / "remotes"), root)
            timings = []
            for _run in range(2):
                start = time.perf_counter()
                results = rollout_template(platform, root, base, Options(push=True))
                timings.append((time.perf_counter() - start, Counter(r.outcome for r in results)))
            first, second = timings
            assert first[1][Outcome.PUSHED] == services - first[1][Outcome.CONFLICT] > 0, first
            assert second[1][Outcome.PUSHED] == 0, second
            rows.append((services, first, second))
    previous = None
    for services, (seconds, outcomes), (again, _) in rows:
        growth = f"x{seconds / previous:.2f} for x2" if previous else ""
        print(
            f"template rollout, {services:4d} repositories: {seconds:6.2f} s "
            f"({seconds / services * 1000:.0f} ms a repository; {outcomes[Outcome.PUSHED]} pushed, "
            f"{outcomes[Outcome.CONFLICT]} conflicts) {growth:14} second run {again:5.2f} s"
        )
        previous = seconds


def _helm_alone(platform: Platform, root: Path, env: str, chart: Path, helm: Helm) -> float:
    """`helm template` of every service of `env` with `chart`, over all cores: the floor."""

    def one(service: str) -> None:
        files = [service_dir(root, service) / name for name in value_files(env)]
        helm.template(service, chart, platform.namespace(env), files, platform.config.kubernetes_version)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        list(pool.map(one, platform.services))
    return time.perf_counter() - start


def preflight_part(sizes: Sequence[int] = PREFLIGHT_SIZES) -> None:
    print(f"load: {os.getloadavg()}, cores used: {workers()}")
    helm = Helm(find_helm(None))
    with chart_repositories("https://d7561985.github.io/k8app") as urls, tempfile.TemporaryDirectory() as tmp:
        extra = "".join(f"{k}={v}\n" for k, v in urls.items())
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        previous = None
        for services in sizes:
            root = Path(tmp) / f"platform-{services}"
            root.mkdir()
            (root / ".env").write_text(
                env_text(services, "dev staging prod") + "CHART_VERSION=3.12.1\n" + extra
            )
            platform = Platform(load_config(root / ".env", {}))
            apply_changes(root, plan_init(platform, root))
            cfg = platform.config
            ref = ChartRef(cfg.chart_repo, cfg.chart_name, "3.13.0")
            chart = resolve_chart(ref, chart_path=None, helm=helm, cache=cache_root(os.environ))
            assert isinstance(chart, LocalChart), chart
            reference = _helm_alone(platform, root, "staging", chart.path, helm)
            cache = RenderCache(Path(tmp) / f"renders-{services}")  # empty: every render runs helm
            start = time.perf_counter()
            verdicts = preflight(platform, root, "staging", ref, helm, cache, cfg.kubernetes_version)
            seconds = time.perf_counter() - start
            assert len(verdicts) == services and not [v for v in verdicts if v.error], verdicts[:3]
            growth = f", growth x{seconds / previous:.2f} per doubling" if previous else ""
            print(
                f"pre-flight of one wave, {services:4d} services: {seconds:6.1f} s, helm template alone "
                f"{reference:6.1f} s -> x{seconds / reference:.2f} (target <= 1.3){growth}"
            )
            previous = seconds


PARTS: dict[str, Callable[..., None]] = {"preflight": preflight_part, "template": template_part}


def main(argv: list[str]) -> int:
    names = [a for a in argv if a in PARTS] or list(PARTS)
    sizes = [int(a) for a in argv if a.isdigit()]
    for name in names:
        PARTS[name](*([sizes] if sizes else []))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
