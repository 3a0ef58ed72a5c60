"""`ci rollback` as a use case: read the environment's image history at the branch head, choose the
earlier image, and write it with a pin through the same write-back as `ci bump` (key-level, retried on lost
races, never forced)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gitops_poc.delivery.decide import Decision, values_path
from gitops_poc.delivery.pins import Pin, timestamp
from gitops_poc.delivery.target import Target
from gitops_poc.delivery.writeback import RetryPolicy, WriteBack
from gitops_poc.delivery.writes import OnRetry, Trailer, write
from gitops_poc.errors import UsageError
from gitops_poc.release.history import Entry, choose, image_at, image_history
from gitops_poc.release.rollback import decide_rollback, pin_reason, repository_change


@dataclass(frozen=True)
class RollbackPlan:
    head: str
    current: Entry
    target: Entry
    pin: Pin

    def trailers(self) -> tuple[Trailer, ...]:
        return (
            ("Rollback-from", self.current.reference),
            ("Rollback-to", self.target.reference),
            ("Rollback-source", self.target.commit),
        )


def plan_rollback(
    target: Target,
    env: str,
    now: datetime,
    *,
    push: bool,
    steps: int | None,
    to: str | None,
    allow_repository_change: bool,
    reason: str | None,
    pinner: str,
) -> RollbackPlan:
    repo = target.repo
    head = repo.fetch(target.url, target.branch) if push else repo.head()
    path = values_path(env)
    if repo.read(head, path) is None:
        raise UsageError(f"{path} does not exist in the repository: is {env!r} one of its environments?")
    commits = repo.run("log", "--format=%H", head, "--", path).stdout.split()
    history = image_history(commits, repo.read, env)
    at_ref = None
    if to is not None:
        if not to.strip() or to.startswith("-"):
            raise UsageError(f"--to {to!r} is not a commit or an image tag")
        tagged = any(to in (e.image.tag, e.image.tag_field) for e in history[1:])
        found = repo.run("rev-parse", "--verify", "--quiet", f"{to}^{{commit}}", check=False).stdout.strip()
        if found and not tagged:
            at_ref = image_at(repo.read, found, env)
            if at_ref is None:
                raise UsageError(f"--to {to!r}: {path} sets no image at commit {found[:12]}")
    current, chosen = choose(history, env, steps=steps, to=to, at_ref=at_ref)
    if problem := repository_change(current, chosen, allow_repository_change):
        raise UsageError(problem)
    pin = Pin(pin_reason(current, chosen, reason), pinner, timestamp(now))
    return RollbackPlan(head, current, chosen, pin)


def preview(target: Target, env: str, plan: RollbackPlan, now: datetime) -> tuple[Decision, str]:
    """The decision on the head and the diff it would commit (--dry-run: nothing is written)."""
    repo = target.repo
    decision = decide_rollback(lambda p: repo.read(plan.head, p), env, plan.target, plan.pin, now)
    diff = ""
    for path, text in decision.files.items():
        old = repo.read(plan.head, path) or ""
        diff += "".join(
            difflib.unified_diff(
                old.splitlines(keepends=True), text.splitlines(keepends=True), f"a/{path}", f"b/{path}"
            )
        )
    return decision, diff


def run_rollback(
    target: Target,
    env: str,
    plan: RollbackPlan,
    now: datetime,
    *,
    push: bool,
    policy: RetryPolicy,
    on_retry: OnRetry | None = None,
    trailers: Sequence[Trailer] = (),
) -> WriteBack:
    return write(
        target,
        lambda read: decide_rollback(read, env, plan.target, plan.pin, now),
        lambda d: f"ci({env}): roll back to {plan.target.image.tag_field} [skip ci]",
        push=push,
        policy=policy,
        on_retry=on_retry,
        trailers=(*plan.trailers(), *trailers),
    )
