"""The demo's release brakes: a pipeline job stopped by a freeze window, a promotion to production refused
without evidence, and a rollback that the next pipeline cannot undo."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gitops_poc.demo.commands import TOOL, DemoFailed, Reporter, Shell

ANY_EXIT = tuple(range(256))


def freeze_window(now: datetime) -> list[dict[str, object]]:
    """A freeze on staging that opened a minute ago and closes in half an hour: what release.yaml's
    syncWindows would generate into the pipeline's SYNC_WINDOWS (given here as a job variable)."""
    start = now - timedelta(minutes=1)
    return [
        {
            "kind": "deny",
            "schedule": f"{start.minute} {start.hour} * * *",
            "duration": "31m",
            "namespaces": ["poc-staging"],
            "description": "demo freeze",
        }
    ]


class ReleaseSteps:
    def __init__(self, shell: Shell, reporter: Reporter, clone: Path, image: Callable[[str], str]) -> None:
        self.shell, self.reporter, self.clone, self.image = shell, reporter, clone, image

    def _pull(self) -> None:
        self.shell.run(["git", "-C", str(self.clone), "pull", "--quiet", "--ff-only"], quiet=True)

    def freeze(self) -> None:
        before = self.image("staging")
        job = self.shell.run(
            [
                "gitlab-ci-local",
                "--force-shell-executor",
                "--variable",
                "GITOPS_MODE=pull",
                "--variable",
                f"SYNC_WINDOWS={json.dumps(freeze_window(datetime.now(UTC)))}",
                "update:staging",
            ],
            cwd=self.clone,
            expect=ANY_EXIT,
            show=6,
            grep=r"refused|FAIL|PASS",
        )
        self._pull()
        if "FAIL  update:staging" not in job.text or "the freeze ends at" not in job.text:
            raise DemoFailed("the update:staging job was not stopped by the freeze window")
        if self.image("staging") != before:
            raise DemoFailed("the frozen update:staging job changed staging")
        self.reporter.note("the job ran inside the freeze: it changed nothing (exit 7) and said until when")

    def evidence_and_rollback(self, sha: str) -> None:
        clone = str(self.clone)
        refused = self.shell.run(
            [TOOL, "ci", "promote", "--from", "staging", "--to", "prod", "--push", "-C", clone],
            # No cluster here: the staging Application cannot be read, so there is no evidence.
            env={"KUBECONFIG": str(self.clone.parent / "no-cluster.kubeconfig")},
            expect=(2,),
            show=3,
        )
        if "failing closed" not in refused.text:
            raise DemoFailed("the promotion to prod was not refused for missing evidence")
        self.reporter.note("no evidence that staging runs it healthily: prod was not changed (fail closed)")
        self.shell.run(
            [
                TOOL,
                "ci",
                "rollback",
                "--env",
                "staging",
                "--reason",
                "demo: bad release",
                "--push",
                "-C",
                clone,
            ],
            show=3,
        )
        self._pull()
        if self.image("staging") == sha:
            raise DemoFailed("the rollback did not bring staging's earlier image back")
        self.shell.run(
            [TOOL, "ci", "promote", "--from", "dev", "--to", "staging", "--push", "-C", clone],
            expect=(5,),
            show=2,
        )
        self.reporter.note("the rollback pinned staging: the next promotion stood down (exit 5)")
        self.shell.run([TOOL, "ci", "unpin", "--env", "staging", "--push", "-C", clone], show=1)
        self.shell.run(
            [TOOL, "ci", "promote", "--from", "dev", "--to", "staging", "--push", "-C", clone], show=1
        )
        self._pull()
        if self.image("staging") != sha:
            raise DemoFailed("after unpinning, the promotion did not bring dev's image to staging again")
