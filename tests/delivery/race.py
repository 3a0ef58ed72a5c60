"""Many pipelines writing to one service repository at once: the harness behind the concurrency test and
bench/bench_writeback.py. Every writer is its own process with its own clone, as CI jobs are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.delivery.conftest import ServiceRemote, git


@dataclass(frozen=True)
class Job:
    kind: str  # "bump" or "promote"
    env: str
    pipeline: int | None = None
    tag: str | None = None
    source: str | None = None

    def args(self) -> list[str]:
        if self.kind == "bump":
            assert self.tag is not None
            return ["ci", "bump", "--env", self.env, "--tag", self.tag, "--pipeline", str(self.pipeline)]
        assert self.source is not None
        return ["ci", "promote", "--from", self.source, "--to", self.env]


@dataclass
class Finished:
    job: Job
    returncode: int
    report: dict[str, Any]
    seconds: float
    stderr: str = field(repr=False, default="")


def clones(remote: ServiceRemote, count: int, prefix: str = "writer") -> list[Path]:
    return [remote.new_clone(f"{prefix}-{i:02d}") for i in range(count)]


def run_tool_race(
    remote: ServiceRemote, jobs: list[Job], env: dict[str, str] | None = None
) -> tuple[list[Finished], float]:
    """Start one `gitops-poc ci ... --push -o json` process per job at once; wait for all."""
    paths = clones(remote, len(jobs))
    environ = {**os.environ, **(env or {})}
    environ.pop("CI_PIPELINE_IID", None)
    start = time.perf_counter()

    def one(job: Job, clone: Path) -> Finished:
        began = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "gitops_poc", *job.args(), "--push", "-o", "json", "-C", str(clone)],
            capture_output=True,
            text=True,
            env=environ,
            check=False,
            timeout=300,
        )
        report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
        return Finished(job, result.returncode, report, time.perf_counter() - began, result.stderr)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        finished = list(pool.map(one, jobs, paths))
    return finished, time.perf_counter() - start


def run_plain_push_race(remote: ServiceRemote, count: int) -> tuple[int, int, float]:
    """The original pipelines' way: edit the file, commit, plain `git push`; (landed, failed, seconds)."""
    paths = clones(remote, count, "plain")
    for i, clone in enumerate(paths):
        values = clone / ".cicd" / "dev.yaml"
        values.write_text(values.read_text().replace('tag: "', f'tag: "plain-{i}-', 1))
        git(clone, "commit", "-q", "-am", f"ci(dev): update image to plain-{i} [skip ci]")
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=count) as pool:
        codes = list(
            pool.map(
                lambda c: (
                    subprocess.run(
                        ["git", "-C", str(c), "push", "-q", "origin", "HEAD:main"],
                        capture_output=True,
                        check=False,
                    ).returncode
                ),
                paths,
            )
        )
    seconds = time.perf_counter() - start
    landed = sum(1 for code in codes if code == 0)
    return landed, count - landed, seconds


def reflog(bare: Path, ref: str = "main") -> list[str]:
    """Commits the branch pointed at, oldest first (the bare repository logs every ref update)."""
    return list(reversed(git(bare, "reflog", "show", "--format=%H", ref).split()))


def fast_forwards_only(bare: Path) -> bool:
    """Each update of main moved it to a commit whose only parent is the previous head: no force push,
    no rewritten history, no merge commit."""
    heads = reflog(bare)
    for old, new in zip(heads, heads[1:], strict=False):
        parents = git(bare, "rev-list", "--parents", "-n", "1", new).split()[1:]
        if parents != [old]:
            return False
    return True


def sixteen_jobs() -> list[Job]:
    """16 writers over two environments: dev bumped by pipelines 1-8; staging bumped by pipelines 11-16 and
    promoted from dev twice. Interleaved so that older pipelines often start after newer ones."""
    dev = [Job("bump", "dev", p, f"1.0.{p}") for p in (3, 8, 1, 6, 2, 7, 4, 5)]
    staging = [Job("bump", "staging", p, f"2.0.{p}") for p in (14, 11, 16, 12, 15, 13)]
    promotes = [Job("promote", "staging", source="dev"), Job("promote", "staging", source="dev")]
    mixed: list[Job] = []
    for i in range(8):
        mixed.append(dev[i])
        mixed.append(staging[i] if i < 6 else promotes[i - 6])
    return mixed
