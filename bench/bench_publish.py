"""Benchmark `publish` to local bare repositories: 50 services x 5 environments (51 repositories).

Figures: the first publish (creates every bare repository), a second one (nothing changed: nothing pushed),
and one after a one-line change in one service (one repository pushed). Git processes dominate; the
second run is what CI pays on every pipeline of the platform repository.
Run: .venv/bin/python bench/bench_publish.py [SERVICES]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _platform import write_platform

from gitops_poc.publish.model import Outcome
from gitops_poc.publish.remote import parse_remote_base
from gitops_poc.publish.run import publish


def main() -> int:
    services = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "platform"
        root.mkdir()
        platform = write_platform(root, services)
        base = parse_remote_base(str(Path(tmp) / "remotes"), root)
        figures = []
        for label in ("first publish (creates)", "second publish (no change)", "one values file changed"):
            if label.startswith("one"):
                values = root / "services" / "svc-000" / ".cicd" / "dev.yaml"
                values.write_text(values.read_text() + "# changed\n")
            start = time.perf_counter()
            results = publish(platform, root, base)
            seconds = time.perf_counter() - start
            pushed = sum(1 for r in results if r.outcome is not Outcome.UNCHANGED)
            figures.append((label, seconds, pushed, len(results)))
        for label, seconds, pushed, total in figures:
            print(
                f"{label:28} {seconds:6.2f} s  {pushed:3d}/{total} repositories pushed  "
                f"({seconds / total * 1000:.0f} ms a repository)"
            )
        assert figures[1][2] == 0 and figures[2][2] == 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
