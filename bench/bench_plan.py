"""Benchmark `plan`: expand the generated ApplicationSet for 200 services x 5 environments (1,000
Applications).

Target: under 1 s for the expansion of 1,000 Applications. Also reported: one comparison with another
revision (1,000 vs 995 Applications) and whole-command wall times (process start included) for
`plan --output json`, `--output yaml` and the table (which also reads every service's values for the image
column).
Run: .venv/bin/python bench/bench_plan.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _platform import FIVE_ENVIRONMENTS, write_platform

from gitops_poc.argocd.applications import compare
from gitops_poc.argocd.appset import expand_all, load_applicationsets
from gitops_poc.layout import APPLICATIONSET_FILE

SERVICES = 200
ENVIRONMENTS = FIVE_ENVIRONMENTS
REPETITIONS = 7
TARGET_S = 1.0
GITOPS_POC = Path(sys.executable).with_name("gitops-poc")


def generate(root: Path, services: int) -> None:
    write_platform(root, services, ENVIRONMENTS)


def expansion_times(text: str) -> tuple[list[float], int]:
    times, count = [], 0
    for _ in range(REPETITIONS):
        start = time.perf_counter()
        apps = expand_all(load_applicationsets(text, "applicationset.yaml"), "applicationset.yaml")
        times.append(time.perf_counter() - start)
        count = len(apps)
    return times, count


def cli(root: Path, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [str(GITOPS_POC), "plan", "-C", str(root), *args], check=True, capture_output=True, text=True
    )
    return time.perf_counter() - start, done.stdout


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, SERVICES)
        text = (root / APPLICATIONSET_FILE).read_text()
        times, count = expansion_times(text)
        best, median = min(times), statistics.median(times)
        print(f"plan benchmark: {SERVICES} services x 5 environments ({ENVIRONMENTS})")
        print(
            f"expansion of {count} Applications in-process, {REPETITIONS} runs: min {best:.3f} s, "
            f"median {median:.3f} s, {best / count * 1e6:.0f} us per Application "
            f"(target < {TARGET_S:.0f} s) {'OK' if median < TARGET_S else 'OVER TARGET'}"
        )

        with tempfile.TemporaryDirectory() as tmp_base:
            generate(Path(tmp_base), SERVICES - 1)
            base_text = (Path(tmp_base) / APPLICATIONSET_FILE).read_text()
        start = time.perf_counter()
        head = expand_all(load_applicationsets(text, "head"), "head")
        base = expand_all(load_applicationsets(base_text, "base"), "base")
        comparison = compare(base, head)
        elapsed = time.perf_counter() - start
        print(
            f"expand both revisions and compare ({len(base)} -> {len(head)}, {len(comparison.added)} added): "
            f"{elapsed:.3f} s"
        )

        wall, out = cli(root, "--output", "json")
        assert len(json.loads(out)) == count
        print(
            f"CLI `gitops-poc plan --output json` ({count} manifests, process start included): {wall:.2f} s"
        )
        wall, out = cli(root, "--output", "yaml")
        assert out.count("kind: Application") == count
        print(f"CLI `gitops-poc plan --output yaml` ({count} manifests): {wall:.2f} s")
        wall, out = cli(root)
        print(f"CLI `gitops-poc plan` table with images from {SERVICES * 6} values files: {wall:.2f} s")
        start = time.perf_counter()
        subprocess.run([str(GITOPS_POC), "--help"], check=True, capture_output=True)
        print(
            f"(for reference, CLI start-up alone, `gitops-poc --help`: {time.perf_counter() - start:.2f} s)"
        )


if __name__ == "__main__":
    main()
