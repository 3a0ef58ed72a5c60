"""The repositories a platform root holds and what publishing did to each, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from gitops_poc.layout import GITOPS_CONFIG_DIR, SERVICES_DIR
from gitops_poc.platform import GITOPS_CONFIG_REPO, Platform

# The trailer that marks the commits holding the platform root's files. Each one's parent is the publish
# this checkout's files derive from (never merely the newest one), so git's merge base of "the remote" and
# "the root now" is the root as this checkout last had it: a three-way merge then keeps every change made on
# the remote since (a team's values edit, a CI image bump, another checkout's publish).
PUBLISH_TRAILER = "Gitops-Poc-Publish"
# Which merge base is right depends on the checkout publishing, not on the remote: two checkouts of one
# root publish in turn, and the newest publish may hold the other checkout's files. A publish of a folder
# that matched a commit of its git work tree names that commit here: a later checkout whose HEAD contains it
# has every change of that publish, so that publish is a base for it. (The checkout's own record,
# publish.record, covers the rest: its own earlier publishes, plain folders, copies.)
ROOT_TRAILER = "Gitops-Poc-Root"


@dataclass(frozen=True)
class Repository:
    """One repository of the platform: `folder` (relative to the root) is pushed to `<group>/<name>`."""

    name: str
    folder: Path
    path: str  # <group>/<name>, as GitLab names the project


def repositories(platform: Platform) -> list[Repository]:
    """gitops-config first (the ArgoCD objects the services' Applications come from), then each service."""
    repos = [Repository(GITOPS_CONFIG_REPO, GITOPS_CONFIG_DIR, platform.repo_path(GITOPS_CONFIG_REPO))]
    repos += [Repository(s, Path(SERVICES_DIR) / s, platform.repo_path(s)) for s in platform.services]
    return repos


class Outcome(StrEnum):
    CREATED = "created"  # the remote branch did not exist
    UPDATED = "updated"  # fast-forward: the remote had nothing new since the last publish
    MERGED = "merged"  # the remote moved on: the root's changes were merged on top of it
    UNCHANGED = "unchanged"  # nothing to push


@dataclass(frozen=True)
class FileDelta:
    status: str  # git's letter: A added, M modified, D deleted, T type changed
    path: str


@dataclass(frozen=True)
class Withheld:
    """A file git would track in a repository's folder that publish keeps back, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class RepoResult:
    repository: Repository
    remote: str  # where it was (or would be) pushed, without credentials
    outcome: Outcome
    commit: (
        str | None
    )  # the branch head after publishing (None: the remote has no branch and nothing to push)
    previous: str | None  # the branch head before
    files: tuple[FileDelta, ...] = ()  # what changes on the remote branch
    remote_created: bool = False
    remote_commits: int = 0  # commits on the remote since the last publish (kept)
    withheld: tuple[Withheld, ...] = ()  # files of the folder never pushed (credentials, links leaving it)

    def as_json(self) -> dict[str, object]:
        return {
            "repository": self.repository.path,
            "folder": self.repository.folder.as_posix(),
            "remote": self.remote,
            "outcome": self.outcome.value,
            "commit": self.commit,
            "previous": self.previous,
            "remote_created": self.remote_created,
            "remote_commits_kept": self.remote_commits,
            "files": [{"status": f.status, "path": f.path} for f in self.files],
            "withheld": [{"path": w.path, "reason": w.reason} for w in self.withheld],
        }
