"""Benchmark `gitops-poc demo` (what `make demo` runs after the install): the whole loop, and each step.

Target: under a minute on the development machines (2 cores). Prints the seconds each step took (from the
demo's own step lines) and the total wall time.
Run: .venv/bin/python bench/bench_demo.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEP = re.compile(r"==> \[(\d+)/(\d+)\] (.*?)  \((\d+\.\d) s\)")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "gitops_poc", "demo", "--workspace", str(Path(tmp) / "demo")],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        )
        total = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-2000:])
        return 1
    steps = [(int(n), title, float(at)) for n, _, title, at in STEP.findall(proc.stdout)]
    for (number, title, at), following in zip(steps, [*[s[2] for s in steps[1:]], None], strict=True):
        took = (following if following is not None else total) - at
        print(f"step {number:2d} {took:5.1f} s  {title[:80]}")
    print(f"total {total:.1f} s (target: under 60 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
