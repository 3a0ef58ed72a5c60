"""Benchmark `status` and `report --html` at 250, 500, 1,000 and 2,000 services x 3 environments.

Each service is a real bare repository under ROOT/.remotes (as `publish` leaves them) holding a history of
its values files written by `git fast-import`: the initial files, three pipeline bumps of dev, two
promotions and a pin (7 commits, 12 file versions). Timed in-process (the platform is built from the
configuration without a .env of 2,000 names on disk), best of --repeat runs:
what `status -o json --no-cluster` does (read every repository, build the matrix, serialise it) and what
`report --html --no-cluster --no-lint` does (the same, then the page written); then the growth per
doubling of services (target <= 2.2x: history is read once per repository, not per cell per commit), the
page's size, and the time headless chromium (Debian's, through Playwright) takes from navigation to the
rendered matrix of the 2,000-service page (target < 2 s). The load average is printed beside the figures.
Run: .venv/bin/python bench/bench_status.py [--sizes 250,500,1000,2000] [--repeat 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from gitops_poc.config import parse_config
from gitops_poc.delivery.pins import now_utc, timestamp
from gitops_poc.platform import Platform
from gitops_poc.publish.remote import parse_remote_base
from gitops_poc.report.model import build_page
from gitops_poc.report.site import write_site
from gitops_poc.status.collect import git_matrix
from gitops_poc.status.gitside import Repositories
from gitops_poc.status.model import Matrix

BRANCH = "main"
GROUP = "gitops-poc"
ENVS = ("dev", "staging", "prod")
DIGEST = "sha256:" + "0123456789abcdef" * 4


def _values(service: str, env: str, tag: str, pipeline: int | None, pin: str = "") -> str:
    record = f"  # gitops-poc: pipeline {pipeline}" if pipeline else ""
    return (
        pin
        + f"environment: {env}\nimage:\n  repository: registry.example.com/{GROUP}/{service}\n"
        + f'  tag: "{tag}"{record}\nreplicas: 1\n'
    )


def _stream(service: str) -> bytes:
    """A fast-import stream: 7 commits on `main`, each with its `Pipeline:` line as write-back writes it."""
    state = {env: _values(service, env, "0.1.0", None) for env in ENVS}
    commits: list[tuple[str, dict[str, str]]] = [("initial values", dict(state))]
    for n, tag in enumerate(("1.0.0", f"1.1.0@{DIGEST}", "1.2.0"), start=1):
        state["dev"] = _values(service, "dev", tag, n)
        commits.append(
            (f"ci(dev): update image to {tag} [skip ci]\n\nPipeline: {n}\n", {"dev": state["dev"]})
        )
    for source, target, tag, n in (("dev", "staging", "1.2.0", 3), ("staging", "prod", "1.2.0", 3)):
        state[target] = _values(service, target, tag, n)
        subject = f"ci({target}): promote image {tag} from {source} [skip ci]\n\nPipeline: {n}\n"
        commits.append((subject, {target: state[target]}))
    pin = '# gitops-poc:pin {"reason": "audit", "by": "ops", "at": "2026-12-01T10:00:00Z"}\n'
    state["prod"] = pin + state["prod"]
    commits.append(("ci(prod): pin (audit) [skip ci]\n", {"prod": state["prod"]}))
    out = []
    for index, (message, files) in enumerate(commits):
        data = message.encode()
        out.append(
            f"commit refs/heads/{BRANCH}\ncommitter CI <ci@example.invalid> {1764000000 + index * 60} +0000\n"
        )
        out.append(f"data {len(data)}\n")
        out.append(data.decode() + "\n")
        for env, text in files.items():
            blob = text.encode()
            out.append(f"M 100644 inline .cicd/{env}.yaml\ndata {len(blob)}\n{text}\n")
    return "".join(out).encode()


def make_repositories(root: Path, count: int) -> list[str]:
    services = [f"svc-{i:04d}" for i in range(count)]
    base = root / ".remotes" / GROUP
    base.mkdir(parents=True, exist_ok=True)
    for service in services:
        bare = base / f"{service}.git"
        if bare.exists():
            continue
        subprocess.run(["git", "init", "-q", "--bare", "-b", BRANCH, str(bare)], check=True)
        subprocess.run(
            ["git", f"--git-dir={bare}", "fast-import", "--quiet"], input=_stream(service), check=True
        )
    return services


def _platform(services: list[str]) -> Platform:
    """The platform of `services`. Built in-process: `.env` and the environment hold at most 4,096
    characters per value, about 500 service names, so 1,000 and 2,000 services cannot be configured there."""
    config = parse_config(f"ENVIRONMENTS={' '.join(ENVS)}\n", ".env", {})
    return Platform(config.model_copy(update={"services": tuple(services)}))


def status_seconds(root: Path, platform: Platform) -> tuple[float, Matrix]:
    """What `status -o json --no-cluster` does after parsing its options: read, build, serialise."""
    started = time.perf_counter()
    repositories = Repositories(parse_remote_base(None, root), BRANCH)
    matrix = git_matrix(platform, root, repositories, list(platform.services), list(ENVS), now_utc())
    json.dumps(matrix.as_dict())
    return time.perf_counter() - started, matrix


def report_seconds(root: Path, platform: Platform, site: Path) -> float:
    """What `report --html --no-cluster --no-lint` does: the same matrix, then the page written."""
    started = time.perf_counter()
    repositories = Repositories(parse_remote_base(None, root), BRANCH)
    matrix = git_matrix(platform, root, repositories, list(platform.services), list(ENVS), now_utc())
    write_site(site, build_page(matrix, timestamp(now_utc())))
    return time.perf_counter() - started


def browser_seconds(page: Path, rows: int) -> dict[str, float] | None:
    """Headless chromium's own clock (Navigation Timing, Paint Timing) for the page, from navigation start:
    the first paint of content (the matrix's first rows), the matrix's last row in the DOM and the page's
    scripts done (load event end), and the wall time seen from Playwright; None without a browser."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        view = browser.new_page(viewport={"width": 1280, "height": 800})
        started = time.perf_counter()
        view.goto(page.resolve().as_uri(), wait_until="load")
        view.wait_for_selector(f"#matrix tbody tr:nth-child({rows})", state="attached")
        view.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")  # painted
        wall = time.perf_counter() - started
        timing = view.evaluate(
            """() => {
              const nav = performance.getEntriesByType('navigation')[0];
              const fcp = performance.getEntriesByName('first-contentful-paint')[0];
              const dom = nav.domContentLoadedEventEnd;
              return {fcp: fcp ? fcp.startTime : -1, dom: dom, load: nav.loadEventEnd};
            }"""
        )
        browser.close()
    return {
        "first_paint": timing["fcp"] / 1000,
        "dom_ready": timing["dom"] / 1000,
        "loaded": timing["load"] / 1000,
        "wall": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,500,1000,2000")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="Build (or reuse) the repositories here and keep them.")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-status-"))
    root = folder / "platform"
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    started = time.perf_counter()
    services = make_repositories(root, max(sizes))
    print(
        f"{len(services)} repositories x 7 commits (git fast-import) in {time.perf_counter() - started:.1f} s"
    )
    rows = []
    for size in sizes:
        platform = _platform(services[:size])
        status = min(status_seconds(root, platform)[0] for _ in range(args.repeat))
        site = folder / f"site-{size}"
        report = min(report_seconds(root, platform, site) for _ in range(args.repeat))
        page = site / "index.html"
        rows.append((size, status, report, page.stat().st_size, page))
    print(
        f"{'services':>8} {'cells':>6} {'status s':>9} {'x/doubling':>10} "
        f"{'report s':>9} {'x/doubling':>10} {'page KiB':>9}"
    )
    for i, (size, status, report, bytes_, _) in enumerate(rows):
        grow_s = f"{status / rows[i - 1][1]:.2f}" if i and size == 2 * rows[i - 1][0] else "-"
        grow_r = f"{report / rows[i - 1][2]:.2f}" if i and size == 2 * rows[i - 1][0] else "-"
        print(
            f"{size:>8} {size * 3:>6} {status:>9.2f} {grow_s:>10} "
            f"{report:>9.2f} {grow_r:>10} {bytes_ // 1024:>9}"
        )
    size, *_, page = rows[-1]
    seconds = browser_seconds(page, size)
    if seconds is None:
        print("browser: no chromium/Playwright (scripts/install-tools.sh browser): not measured")
    else:
        verdict = "within" if seconds["loaded"] < 2 else "over"
        print(
            f"browser, {size} services: first paint {seconds['first_paint']:.2f} s, matrix in the DOM "
            f"{seconds['dom_ready']:.2f} s, scripts done {seconds['loaded']:.2f} s ({verdict} 2 s), "
            f"wall {seconds['wall']:.2f} s through Playwright"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
