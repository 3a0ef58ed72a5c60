"""Write-back under contention: 16 pipelines finishing at once against one service repository.

Measures, in the same run and against the same kind of local bare repository:
  - ours: 16 concurrent `gitops-poc ci bump/promote --push` processes (two environments, several pipelines
    bumping the same key): time until all have landed or stood down, attempts per process;
  - the original pipelines' way: edit, commit, plain `git push` from 16 clones of the same head.

    .venv/bin/python bench/bench_writeback.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.delivery.conftest import make_service_remote  # noqa: E402
from tests.delivery.race import (  # noqa: E402
    fast_forwards_only,
    run_plain_push_race,
    run_tool_race,
    sixteen_jobs,
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat the measurement (default 1)")
    args = parser.parse_args()
    for round_no in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="bench-writeback-") as tmp:
            ours = make_service_remote(Path(tmp) / "ours")
            print(f"round {round_no}: 16 concurrent gitops-poc ci processes ...", file=sys.stderr, flush=True)
            finished, seconds = run_tool_race(ours, sixteen_jobs())
            results: dict[str, int] = {}
            for run in finished:
                results[run.report.get("result", f"exit {run.returncode}")] = (
                    results.get(run.report.get("result", f"exit {run.returncode}"), 0) + 1
                )
            attempts = [run.report.get("attempts", 0) for run in finished]
            per_process = [run.seconds for run in finished]
            print(
                f"ours:     16 processes, all settled in {seconds:.2f} s "
                f"(per process: median {statistics.median(per_process):.2f} s, max {max(per_process):.2f} s)"
            )
            print(
                f"          results: {', '.join(f'{k} {v}' for k, v in sorted(results.items()))}; "
                f"commits landed: {results.get('updated', 0)}; "
                f"fast-forwards only: {fast_forwards_only(ours.bare)}"
            )
            print(
                f"          attempts per process: {sorted(attempts)} (mean {statistics.mean(attempts):.1f}, "
                f"max {max(attempts)})"
            )

            original = make_service_remote(Path(tmp) / "original")
            landed, failed, plain_seconds = run_plain_push_race(original, 16)
            print(
                f"original: 16 plain `git push` from clones of one head: {landed} of 16 landed, "
                f"{failed} rejected "
                f"(non-fast-forward) in {plain_seconds:.2f} s; the rejected changes are lost"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
