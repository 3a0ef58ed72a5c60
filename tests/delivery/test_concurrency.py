"""16 concurrent `ci bump` / `ci promote` processes against one bare repository (two environments, several
pipelines bumping the same key): every change lands or is correctly superseded, the newest pipeline wins,
history keeps every commit, the reflog shows only fast-forwards, and no token appears anywhere."""

from __future__ import annotations

from pathlib import Path

from gitops_poc.delivery.values import read_image
from tests.delivery.conftest import git, make_service_remote
from tests.delivery.processes import recording
from tests.delivery.race import fast_forwards_only, reflog, run_tool_race, sixteen_jobs

TOKEN = "glpat-ConcurrencyTestToken42"


def test_sixteen_concurrent_writers(tmp_path: Path) -> None:
    remote = make_service_remote(tmp_path / "repo")
    log = recording(tmp_path / "rec")
    jobs = sixteen_jobs()
    finished, _seconds = run_tool_race(remote, jobs, {**log.env, "CI_PUSH_TOKEN": TOKEN})

    for run in finished:
        assert run.returncode in (0, 4), (run.job, run.returncode, run.stderr)
        # A promotion that runs before any dev bump finds staging already equal to dev: nothing to do.
        allowed = ("updated", "superseded") + (("unchanged",) if run.job.kind == "promote" else ())
        assert run.report["result"] in allowed, run.report
    updated = [r for r in finished if r.report["result"] == "updated"]
    superseded = [r for r in finished if r.report["result"] == "superseded"]
    assert sum(1 for r in finished if r.job.kind == "bump" and r in updated + superseded) == 14

    # The newest pipeline's image is what each environment ends with.
    dev = read_image(remote.remote_file(".cicd/dev.yaml"), "dev")
    staging = read_image(remote.remote_file(".cicd/staging.yaml"), "staging")
    assert (dev.tag, dev.pipeline) == ("1.0.8", 8)
    assert (staging.tag, staging.pipeline) == ("2.0.16", 16)
    assert {r.job.pipeline for r in updated if r.job.kind == "bump"} >= {8, 16}

    # Every landed commit is in history; every stand-down was correct (a newer pipeline had written).
    history = git(remote.bare, "rev-list", "main").split()
    for run in updated:
        assert run.report["commit"] in history
    for run in superseded:
        own = run.job.pipeline if run.job.kind == "bump" else None
        recorded = run.report["previous"]["pipeline"]
        assert recorded is not None and (own is None or own < recorded)
    assert len(history) == 1 + len(updated)
    assert git(remote.bare, "rev-list", "--merges", "main") == ""

    # No force push: the bare repository's reflog shows only fast-forwards, one per landed commit.
    assert len(reflog(remote.bare)) == 1 + len(updated)
    assert fast_forwards_only(remote.bare)

    # No token in any process's argv, in the output, or in any clone's .git/config.
    assert len(log.argvs()) > 16 * 4
    assert TOKEN not in log.everything()
    for run in finished:
        assert TOKEN not in run.stderr and TOKEN not in str(run.report)
    for config in tmp_path.glob("repo/*/.git/config"):
        assert TOKEN not in config.read_text()
