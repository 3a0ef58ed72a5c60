"""What `rollout template` did (or would do) to each service repository, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Our branch in every service repository: one per repository whatever the template version, so a second
# rollout updates the open merge request instead of opening another.
ROLLOUT_BRANCH = "gitops-poc/template-rollout"
# Marks the commits this command makes: only a branch whose head carries it is ever replaced.
ROLLOUT_TRAILER = "Gitops-Poc-Template"


class Outcome(StrEnum):
    PROPOSED = "proposed"  # our branch pushed and a merge request opened (or updated)
    PUSHED = "pushed"  # --push: the merge is on the default branch
    UNCHANGED = "unchanged"  # our branch and its merge request already propose exactly this
    DECLINED = "declined"  # the team closed the merge request of exactly this change: not reopened
    UP_TO_DATE = "up-to-date"  # the repository took this template version already
    CONFLICT = "conflict"  # the team's edits and the template's changes touch the same lines: nothing pushed
    BRANCH_TAKEN = "branch-taken"  # someone else committed on our branch: left alone
    NO_BASE = "no-base"  # the version the repository took is unknown: nothing pushed
    NOT_PUBLISHED = "not-published"  # the repository or its default branch does not exist
    PENDING = "pending"  # beyond this run's --batch: the next run takes it


# The outcomes that make the command's exit 1: a repository the template did not reach.
FINDINGS = (Outcome.CONFLICT, Outcome.BRANCH_TAKEN, Outcome.NO_BASE)


@dataclass(frozen=True)
class RepoRollout:
    service: str
    repository: str  # <group>/<service>
    outcome: Outcome
    taken: str | None = None  # the template version the repository had taken (tree id)
    files: tuple[str, ...] = ()  # changed files, or for a conflict the conflicting ones
    detail: str = ""  # why (no base, branch taken), or the merge request's address
    commit: str | None = None  # what was pushed (or would be)
    merge_request: str = ""  # created, updated or unchanged

    def as_json(self) -> dict[str, object]:
        return {
            "service": self.service,
            "repository": self.repository,
            "outcome": self.outcome.value,
            "taken": self.taken,
            "files": list(self.files),
            "detail": self.detail,
            "commit": self.commit,
            "merge_request": self.merge_request,
        }
