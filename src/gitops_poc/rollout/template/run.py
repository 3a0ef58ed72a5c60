"""The `rollout template` use case: for every service repository, the template's changes since the version it
took, merged with the team's edits, proposed as a merge request on our branch (or pushed with --push)."""

from __future__ import annotations

import itertools
import os
import queue
from collections.abc import Callable, Mapping
from concurrent.futures import CancelledError, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from gitops_poc.errors import ToolError
from gitops_poc.generate.services import TemplateRenderer
from gitops_poc.gitlab.client import GitLabApiError, MergeRequest
from gitops_poc.platform import Platform
from gitops_poc.proc import END_OF_OPTIONS, Value
from gitops_poc.publish.git import GitFailed, MergeConflict, PushRejected, Scratch
from gitops_poc.publish.remote import RemoteBase
from gitops_poc.rollout.template.files import Files, service_files
from gitops_poc.rollout.template.merge import Merged, merge_template
from gitops_poc.rollout.template.model import (
    ROLLOUT_BRANCH,
    ROLLOUT_TRAILER,
    Outcome,
    RepoRollout,
)
from gitops_poc.rollout.template.sources import TemplateVersions
from gitops_poc.templatestamp import STAMP_FILE, parse_stamp, stamp_text

# Repositories in flight at once: each is a handful of git processes, mostly waiting on the remote.
WORKERS = min(8, 2 * (os.cpu_count() or 1))
PUSH_ATTEMPTS = 4  # a default branch that keeps moving gets a few fresh merges (as publish)
# (project path, source branch, target branch, title, description, unless closed) -> the merge request
OpenMergeRequest = Callable[[str, str, str, str, str, bool], MergeRequest]
Progress = Callable[[str, int, int], None]


class RolloutStopped(ToolError):
    """GitLab or a remote failed mid-rollout: what was done stays (branches, merge requests); a re-run
    resumes, finding it done."""

    def __init__(self, message: str, results: list[RepoRollout]) -> None:
        super().__init__(message)
        self.results = results


@dataclass(frozen=True)
class Options:
    push: bool = False  # onto the default branch instead of a merge request
    dry_run: bool = False
    batch: int | None = None  # at most this many repositories changed by this run
    since: str | None = None  # the platform root's revision unrecorded repositories took the template at


def _message(service: str, old: str, new: str) -> str:
    return (
        f"Template rollout: templates/service-repo {new[:12]} into {service}\n\n"
        f"What changed in templates/service-repo since this repository took {old[:12]}, merged with the "
        "team's own edits (gitops-poc rollout template).\n\n"
        f"{ROLLOUT_TRAILER}: {new}\n"
    )


def _description(result: Merged, old: str, new: str) -> str:
    files = "\n".join(f"- `{name}`" for name in result.files)
    return (
        f"The changes of `templates/service-repo` from `{old[:12]}` (the version this repository took) to "
        f"`{new[:12]}`, merged with this repository's own edits by `gitops-poc rollout template`.\n\n"
        f"Files:\n{files}\n\n"
        f"A later rollout updates this merge request (branch `{ROLLOUT_BRANCH}`); commits of your own on it "
        "stop that.\n"
    )


class _Rollout:
    def __init__(
        self,
        platform: Platform,
        base: RemoteBase,
        versions: TemplateVersions,
        options: Options,
        open_mr: OpenMergeRequest | None,
    ) -> None:
        self.platform, self.base, self.versions = platform, base, versions
        self.options, self.open_mr = options, open_mr
        self.branch = platform.config.git_branch
        self.new = versions.current()
        self.renderer = TemplateRenderer()
        self.since = versions.tree_at(options.since) if options.since else None

    def taken(self, service: str, stamp: bytes | None) -> tuple[str | None, str]:
        """The template version the repository took (its stamp is `stamp`), and where that comes from (or why
        it is unknown)."""
        recorded = parse_stamp(stamp.decode(errors="replace")) if stamp is not None else None
        if recorded is not None and self.versions.has(recorded):
            return recorded, STAMP_FILE
        if self.options.since:
            return self.since, f"--since {self.options.since}"
        if recorded is not None:
            return None, (
                f"{STAMP_FILE} names template version {recorded}, which the platform root's git history "
                "does not hold (fetch it, or give --since REV)"
            )
        created = self.versions.at_creation(service)
        if created is not None:
            return created, "the template committed with services/" + service
        return None, (
            f"no {STAMP_FILE}, and the platform root's history has no commit adding services/{service} with "
            "templates/service-repo in it: give --since REV (the root's revision whose template it took)"
        )

    def files(self, service: str, tree: str) -> Files:
        return service_files(self.platform, service, self.versions.folder(tree), self.renderer)

    def one(self, service: str, scratch: Scratch) -> RepoRollout:
        repo = self.platform.repo_path(service)
        remote = self.base.location(repo)
        for _attempt in range(PUSH_ATTEMPTS):
            if self.base.is_local and not (Path(remote) / "HEAD").exists():
                return RepoRollout(service, repo, Outcome.NOT_PUBLISHED, detail=f"no repository at {remote}")
            head = scratch.fetch(remote, self.branch)
            if head is None:
                return RepoRollout(service, repo, Outcome.NOT_PUBLISHED, detail=f"no branch {self.branch}")
            stamp = scratch.read(head, STAMP_FILE)
            old, source = self.taken(service, stamp)
            if old is None:
                return RepoRollout(service, repo, Outcome.NO_BASE, detail=source)
            if old == self.new:
                return RepoRollout(service, repo, Outcome.UP_TO_DATE, old)
            try:
                merged = merge_template(
                    scratch,
                    head,
                    stamp,
                    self.files(service, old),
                    self.files(service, self.new),
                    stamp_text(self.new).encode(),
                    _message(service, old, self.new),
                )
            except MergeConflict as exc:
                return RepoRollout(service, repo, Outcome.CONFLICT, old, exc.files, f"base: {source}")
            result = RepoRollout(service, repo, Outcome.PUSHED, old, merged.files, commit=merged.commit)
            if self.options.push:
                if self.options.dry_run:
                    return result
                try:
                    scratch.push(remote, merged.commit, self.branch)
                except PushRejected:
                    continue  # the team pushed in between: fetch and merge again
                return result
            return self.propose(scratch, replace(result, outcome=Outcome.PROPOSED), remote, head, merged, old)
        raise GitFailed(f"{remote}: {self.branch} kept moving; gave up after {PUSH_ATTEMPTS} attempts")

    def propose(
        self, scratch: Scratch, result: RepoRollout, remote: str, head: str, merged: Merged, old: str
    ) -> RepoRollout:
        """Our branch holds the merge (replaced only while it is ours), and one merge request proposes it."""
        ours = scratch.fetch(remote, ROLLOUT_BRANCH, into="refs/rollout/ours")
        current = False
        if ours is not None:
            parents, _, message = scratch.out(
                "log", "-1", "--format=%P%n%B", END_OF_OPTIONS, Value(ours, "commit")
            ).partition("\n")
            mine = f"\n{ROLLOUT_TRAILER}: " in message
            if not mine and not scratch.is_ancestor(ours, head):
                return replace(
                    result,
                    outcome=Outcome.BRANCH_TAKEN,
                    detail=f"{ROLLOUT_BRANCH} holds commits that are not this command's: left alone",
                )
            current = parents.split() == [head] and scratch.tree(ours) == merged.tree
        if self.options.dry_run:
            return replace(result, outcome=Outcome.UNCHANGED) if current else result
        commit = ours if current and ours else merged.commit
        if not current:
            try:
                scratch.push(remote, merged.commit, ROLLOUT_BRANCH, lease=ours or "")
            except PushRejected:
                return replace(
                    result,
                    outcome=Outcome.BRANCH_TAKEN,
                    detail=f"{ROLLOUT_BRANCH} moved while this run read it: run again",
                )
        assert self.open_mr is not None
        mr = self.open_mr(
            result.repository,
            ROLLOUT_BRANCH,
            self.branch,
            f"Template rollout: templates/service-repo {self.new[:12]}",
            _description(merged, old, self.new),
            current,  # our branch as it was: a merge request closed on it was the team's no to this change
        )
        outcome = {"unchanged": Outcome.UNCHANGED, "declined": Outcome.DECLINED}.get(
            mr.action, Outcome.PROPOSED
        )
        if outcome is Outcome.UNCHANGED and not current:
            outcome = Outcome.PROPOSED
        return replace(result, outcome=outcome, commit=commit, detail=mr.web_url, merge_request=mr.action)


def rollout_template(
    platform: Platform,
    root: Path,
    base: RemoteBase,
    options: Options,
    *,
    open_mr: OpenMergeRequest | None = None,
    git_env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    workers: int = WORKERS,
) -> list[RepoRollout]:
    """Every service repository, in SERVICES order, until `options.batch` of them changed (the rest PENDING),
    `workers` at a time (each with its own scratch repository). A merge request needs `open_mr` (GitLab);
    --push and --dry-run do not. A failing remote or GitLab stops the run: RolloutStopped with what was
    done."""
    services = list(platform.services)
    results: dict[str, RepoRollout] = {}
    failure: tuple[str, Exception] | None = None
    with ExitStack() as stack:
        versions = stack.enter_context(TemplateVersions(root))
        rollout = _Rollout(platform, base, versions, options, open_mr)
        idle: queue.SimpleQueue[Scratch] = queue.SimpleQueue()
        for _worker in range(max(1, min(workers, len(services)))):
            idle.put(stack.enter_context(Scratch(git_env)))
        started = itertools.count(1)

        def one(service: str) -> RepoRollout:
            if progress:
                progress(service, next(started), len(services))
            scratch = idle.get()
            try:
                return rollout.one(service, scratch)
            finally:
                idle.put(scratch)

        with ThreadPoolExecutor(max(1, workers), thread_name_prefix="rollout") as pool:
            index, changed = 0, 0
            while index < len(services) and failure is None:
                budget = len(services) if options.batch is None else options.batch - changed
                if budget <= 0:
                    break
                # Each repository changes at most once: a chunk within the budget cannot overshoot --batch.
                chunk = services[index : index + budget]
                index += len(chunk)
                futures = {service: pool.submit(one, service) for service in chunk}
                for service, future in futures.items():
                    try:
                        result = future.result()
                    except (GitLabApiError, GitFailed) as error:
                        failure = failure or (service, error)
                        for waiting in futures.values():
                            waiting.cancel()  # the ones not started yet: a re-run takes them
                        continue
                    except CancelledError:
                        continue
                    results[service] = result
                    changed += result.outcome in (Outcome.PROPOSED, Outcome.PUSHED)
    done = [results[s] for s in services if s in results]
    if failure is not None:
        service, exc = failure
        raise RolloutStopped(
            f"{platform.repo_path(service)}: {exc}. Stopped with {len(done)} of {len(services)} repositories "
            "done; what was done stays (branches, merge requests): run the same command again to resume",
            done,
        )
    for service in services[len(done) :]:
        done.append(
            RepoRollout(service, platform.repo_path(service), Outcome.PENDING, detail="beyond --batch")
        )
    return done
