"""Benchmark `rollout chart` and `rollout template`, a function per part.

template: `rollout template --push` over 50, 100 and 200 service repositories (local bare remotes, 5
environments, every 10th repository's team edited the line the template changes: a conflict), with the growth
per doubling; then the second run (nothing to do). Setup (init, publish, the team edits) is not timed.
Run: .venv/bin/python bench/bench_rollout.py [template] [SIZES...]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from _platform import write_platform

from gitops_poc.platform import Platform
from gitops_poc.publish.remote import parse_remote_base
from gitops_poc.publish.run import publish
from gitops_poc.rollout.template.model import Outcome
from gitops_poc.rollout.template.run import Options, rollout_template

TEMPLATE_SIZES = (50, 100, 200)
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


PARTS: dict[str, Callable[..., None]] = {"template": template_part}


def main(argv: list[str]) -> int:
    names = [a for a in argv if a in PARTS] or list(PARTS)
    sizes = [int(a) for a in argv if a.isdigit()]
    for name in names:
        PARTS[name](*([sizes] if sizes else []))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
