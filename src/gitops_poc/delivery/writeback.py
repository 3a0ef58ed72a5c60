"""Write-back that cannot lose a change: decide on the branch's current head, commit on top of it, push
without force; when the push loses a race, fetch the new head and decide again (the key-level change is
re-applied to what the others pushed: no text rebase, no merge commit), after a jittered backoff, a
bounded number of times."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gitops_poc.delivery.decide import Decision, Outcome, Reader
from gitops_poc.delivery.gitops import GitError, Identity, Repository
from gitops_poc.errors import UsageError

Decide = Callable[[Reader], Decision]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 30
    base_seconds: float = 0.05
    cap_seconds: float = 2.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """ "Full jitter" (uniform between 0 and an exponential bound): racers spread out instead of
        colliding again in lock step."""
        return rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**attempt))


@dataclass
class WriteBack:
    """What happened: the last decision, the commit that landed (if any), how many attempts it took."""

    decision: Decision
    attempts: int
    commit: str | None = None
    base: str | None = None  # the commit the change was made on
    pushed: bool = False
    rejections: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        return self.decision.outcome


def commit_message(
    decision: Decision, subject: str, pipeline_url: str | None, trailers: Sequence[tuple[str, str]] = ()
) -> str:
    """Subject, a line on who wrote it, then git trailers (`git log --format=%(trailers)` reads them):
    the pipeline, and what a release recorded (evidence, a break-glass reason, a rollback's source)."""
    lines = [subject, "", "Written by gitops-poc (key-level change of image values; never force-pushed)."]
    found = [("Pipeline", str(pipeline_url or decision.pipeline))] if decision.pipeline is not None else []
    found += [(key, " ".join(value.split())) for key, value in trailers]
    if found:
        lines += ["", *(f"{key}: {value}" for key, value in found)]
    return "\n".join(lines) + "\n"


def push_with_retry(
    repo: Repository,
    url: str,
    branch: str,
    decide: Decide,
    message: Callable[[Decision], str],
    identity: Identity,
    policy: RetryPolicy = RetryPolicy(),
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[int, float, str], None] | None = None,
) -> WriteBack:
    rng = rng or random.Random()
    rejections: list[str] = []
    decision: Decision | None = None
    for attempt in range(1, policy.attempts + 1):
        head = repo.fetch(url, branch)
        decision = decide(lambda path, head=head: repo.read(head, path))  # type: ignore[misc]
        if decision.outcome is not Outcome.UPDATED:
            return WriteBack(decision, attempt, base=head, rejections=rejections)
        commit = repo.commit_files(head, decision.files, message(decision), identity)
        result = repo.push(url, commit, branch)
        if result.ok:
            return WriteBack(decision, attempt, commit, head, True, rejections)
        if not result.retryable:
            raise GitError(f"push to {branch!r} refused: {result.message}")
        rejections.append(result.message)
        if attempt < policy.attempts:
            pause = policy.delay(attempt, rng)
            if on_retry is not None:
                on_retry(attempt, pause, result.message)
            sleep(pause)
    assert decision is not None
    gave_up = Decision(
        Outcome.GAVE_UP,
        f"gave up after {policy.attempts} attempts: every push lost the race to another writer "
        "(nothing was forced or lost; re-run the job)",
        decision.env,
        decision.image,
        decision.before,
        pipeline=decision.pipeline,
    )
    return WriteBack(gave_up, policy.attempts, rejections=rejections)


def commit_locally(
    repo: Repository, decide: Decide, message: Callable[[Decision], str], identity: Identity
) -> WriteBack:
    """Without --push: the same decision on HEAD, committed onto the checked-out branch."""
    head = repo.head()
    decision = decide(lambda path: repo.read(head, path))
    if decision.outcome is not Outcome.UPDATED:
        return WriteBack(decision, 1, base=head)
    if dirty := repo.working_copy_differs(list(decision.files)):
        raise UsageError(
            f"{', '.join(dirty)}: uncommitted changes; commit or stash them first (nothing was written)"
        )
    commit = repo.commit_files(head, decision.files, message(decision), identity)
    repo.advance_local(commit, head, list(decision.files))
    return WriteBack(decision, 1, commit, head)
