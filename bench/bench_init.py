"""Benchmark `init`: 200 services x 5 environments, and how the time grows from 100 to 200 to 400 services.

Target: under 5 s for 200 x 5 (first run, which creates ~1,200 files), growth close to linear.
Run: .venv/bin/python bench/bench_init.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _platform import FIVE_ENVIRONMENTS, make_platform, write_platform

from gitops_poc.changes import apply_changes
from gitops_poc.generate import plan_init

ENVIRONMENTS = FIVE_ENVIRONMENTS
GITOPS_POC = Path(sys.executable).with_name("gitops-poc")


def timed_init(count: int) -> tuple[float, float, int]:
    """(first run, second run) seconds in-process, and the number of files written."""
    platform = make_platform(count)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        changes = plan_init(platform, root)
        apply_changes(root, changes)
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = plan_init(platform, root)
        second = time.perf_counter() - start
        assert again == [], "second run must change nothing"
    return first, second, len(changes)


def cli_init(count: int) -> tuple[float, float]:
    """Whole-command wall time (process start included): init --yes, then init --check."""
    with tempfile.TemporaryDirectory() as tmp:
        write_platform(Path(tmp), count, generate=False)
        env = {k: v for k, v in os.environ.items() if k not in ("SERVICES", "ENVIRONMENTS")}
        times = []
        for args in (["--yes"], ["--check"]):
            start = time.perf_counter()
            subprocess.run(
                [str(GITOPS_POC), "init", "-C", tmp, *args],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - start)
    return times[0], times[1]


def main() -> None:
    print(f"init benchmark, environments: {ENVIRONMENTS} (5)")
    print(f"{'services':>8} {'files':>6} {'first run s':>12} {'re-run s':>9} {'per file ms':>12}")
    results = {}
    for count in (100, 200, 400):
        first, second, files = min(timed_init(count) for _ in range(3))
        results[count] = first
        print(f"{count:>8} {files:>6} {first:>12.3f} {second:>9.3f} {first / files * 1000:>12.3f}")
    growth = (results[200] / results[100], results[400] / results[200])
    linear = all(g < 2.5 for g in growth)  # x2.00 is linear; allow for a noisy 2-core machine
    print(
        f"growth 100->200: x{growth[0]:.2f}, 200->400: x{growth[1]:.2f} (linear = x2.00) "
        f"{'close to linear' if linear else 'WORSE THAN LINEAR'}"
    )
    first, check = cli_init(200)
    print(
        f"CLI, 200 services x 5 environments: init --yes {first:.2f} s, init --check {check:.2f} s "
        f"(target < 5 s) {'OK' if first < 5 else 'OVER TARGET'}"
    )


if __name__ == "__main__":
    main()
