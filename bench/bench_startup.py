"""The CLI's start-up: `gitops-poc --version`, `--help`, and `<command> --help` for the commands docs quote
(the lazy CLI imports a command's modules only when that command runs). Best of 5 each.
Run: .venv/bin/python bench/bench_startup.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

GITOPS_POC = Path(sys.executable).with_name("gitops-poc")
CASES = (["--version"], ["--help"], ["render", "--help"], ["lint", "--help"], ["plan", "--help"])


def best_of(args: list[str], runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(GITOPS_POC), *args], check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    for args in CASES:
        print(f"gitops-poc {' '.join(args)}: {best_of(args) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
