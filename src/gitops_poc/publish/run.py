"""The `publish` use case: each repository's folder, merged onto its remote branch and pushed fast-forward."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from pathlib import Path

from gitops_poc import fileio
from gitops_poc.errors import GitopsError
from gitops_poc.platform import Platform
from gitops_poc.publish.files import checkout_contains, clean_commit, publishable_files
from gitops_poc.publish.git import GitFailed, MergeConflict, PushRejected, Scratch, create_bare
from gitops_poc.publish.model import (
    PUBLISH_TRAILER,
    ROOT_TRAILER,
    Outcome,
    RepoResult,
    Repository,
    repositories,
)
from gitops_poc.publish.record import Record
from gitops_poc.publish.remote import RemoteBase
from gitops_poc.vendoring import require_vendored

PUSH_ATTEMPTS = 4  # a remote that keeps moving (busy CI) gets a few fresh merges before publish gives up
Progress = Callable[[Repository, str], None]


class PublishConflict(GitopsError):
    """A repository could not be merged or pushed; the ones before it are published, it and later ones not."""


def _message(repo: Repository, files: int, root_commit: str | None) -> str:
    trailers = f"{PUBLISH_TRAILER}: {repo.name}\n"
    if root_commit:
        trailers += f"{ROOT_TRAILER}: {root_commit}\n"
    return (
        f"Publish {repo.folder.as_posix()} from the platform root ({files} files)\n\n"
        "Written by `gitops-poc publish`: generated and team files, as the platform root has them.\n\n"
        + trailers
    )


def _bases(scratch: Scratch, head: str, folder: Path, recorded: str | None) -> list[str]:
    """The publishes in `head`'s history that this checkout's files derive from (the merge bases).

    Never merely the newest publish: another checkout may have made it, and its changes would look like ours
    to undo. Two sources: this checkout's own record (its last publish, kept by a copy), and the newest
    publish of a clean git commit that the checkout's HEAD contains (a fresh clone, a CI job). None found:
    the merge has no base, and a file both sides hold differently is a conflict (exit 1), never overwritten.
    """
    found = []
    if recorded and scratch.is_ancestor(recorded, head):
        found.append(recorded)
    for commit, root_commit in scratch.publishes(head):
        if commit in found:
            break  # the record is newer than any publish a clean commit of this checkout made
        if root_commit and checkout_contains(folder, root_commit):
            found.append(commit)
            break
    if len(found) == 2 and scratch.is_ancestor(found[0], found[1]):
        found = found[1:]
    elif len(found) == 2 and scratch.is_ancestor(found[1], found[0]):
        found = found[:1]
    return found


def _publish_one(
    scratch: Scratch,
    repo: Repository,
    folder: Path,
    remote: str,
    branch: str,
    dry_run: bool,
    create: bool,
    record: Record,
    files: list[str],
) -> RepoResult:
    root_commit = clean_commit(folder)
    for _attempt in range(PUSH_ATTEMPTS):
        head = None if create else scratch.fetch(remote, branch)
        bases = _bases(scratch, head, folder, record.get(remote, branch)) if head else []
        kept = scratch.commits_since(bases, head) if head else 0
        if not files:
            return RepoResult(repo, remote, Outcome.UNCHANGED, head, head, remote_commits=kept)
        tree = scratch.tree_of(folder, files)
        same = [base for base in bases if scratch.tree(base) == tree]
        if same or (head is not None and scratch.tree(head) == tree):  # this checkout changed nothing
            if not dry_run:
                record.set(remote, branch, same[0] if same else str(head))
            return RepoResult(repo, remote, Outcome.UNCHANGED, head, head, remote_commits=kept)
        local = scratch.commit(tree, bases, _message(repo, len(files), root_commit))
        if head is None:
            new, outcome = local, Outcome.CREATED
        elif bases == [head]:
            new, outcome = local, Outcome.UPDATED
        else:
            try:
                merged = scratch.merge(head, local)
            except MergeConflict as exc:
                since = (
                    "since the last publish"
                    if bases
                    else "(no publish is known that this checkout's files derive from)"
                )
                raise PublishConflict(
                    f"{repo.path}: the platform root and {remote} both changed {exc} {since}; "
                    f"nothing was pushed. Bring the remote's change into {folder} (or undo yours), "
                    "then publish again"
                ) from None
            if merged == scratch.tree(head) and bases:  # the remote already has these changes
                # (With no base, the merge is pushed even so: it records what this checkout derives from.)
                return RepoResult(repo, remote, Outcome.UNCHANGED, head, head, remote_commits=kept)
            message = (
                f"Merge the platform root's {repo.folder.as_posix()} into {branch} (gitops-poc publish)\n"
            )
            new, outcome = scratch.commit(merged, [head, local], message), Outcome.MERGED
        delta = scratch.changed_files(head, new)
        if dry_run:
            return RepoResult(repo, remote, outcome, head, head, delta, create, kept)
        try:
            scratch.push(remote, new, branch)
        except PushRejected:
            create = False
            continue  # someone pushed in between: fetch, merge again
        record.set(remote, branch, local)  # the commit of this checkout's files, now in the remote's history
        return RepoResult(repo, remote, outcome, new, head, delta, create, kept)
    raise PublishConflict(
        f"{repo.path}: {remote} kept moving; gave up after {PUSH_ATTEMPTS} attempts (run publish again)"
    )


def publish(
    platform: Platform,
    root: Path,
    base: RemoteBase,
    *,
    dry_run: bool = False,
    git_env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    absent: Collection[str] = (),
) -> list[RepoResult]:
    """Publish every repository of the platform (gitops-config, then the services) to `base`.

    `absent`: repository paths known not to exist yet (a dry run before GitLab creates them): planned as new.
    Local bare repositories are created on demand (not in a dry run); GitLab projects must exist
    (`gitlab bootstrap` creates them).
    """
    # A service repository carries its copies of libs/: never publish copies that differ from the source.
    require_vendored(root, platform.services, "publish")
    results = []
    branch = platform.config.git_branch
    record = Record(root)
    # Every folder's files chosen first: a folder publish refuses stops it before anything is pushed.
    selections = {repo: publishable_files(root, root / repo.folder) for repo in repositories(platform)}
    with Scratch(git_env) as scratch:
        try:
            for repo, selection in selections.items():
                if progress:
                    progress(repo, "publishing")
                remote = base.location(repo.path)
                create = (base.is_local and not (Path(remote) / "HEAD").exists()) or repo.path in absent
                if create and base.is_local and not dry_run:
                    create_bare(Path(remote), branch)
                try:
                    result = _publish_one(
                        scratch,
                        repo,
                        root / repo.folder,
                        remote,
                        branch,
                        dry_run,
                        create,
                        record,
                        selection.files,
                    )
                except GitFailed as exc:
                    raise GitFailed(f"{repo.path}: {exc}") from None
                results.append(replace(result, withheld=tuple(selection.withheld)))
                if progress:
                    progress(repo, result.outcome.value)
        finally:
            if not dry_run:
                record.save()  # what was pushed before a failure is recorded too
    if base.folder is not None and not dry_run:
        _ignore_in_root(base.folder, root)
    return results


def _ignore_in_root(folder: Path, root: Path) -> None:
    """A base inside the platform root (the default) must stay out of the root's own git repository."""
    if not folder.resolve().is_relative_to(root.resolve()):
        return
    marker = folder / ".gitignore"
    if folder.is_dir() and not os.path.lexists(marker):
        fileio.write_atomic(marker, "# bare repositories made by gitops-poc publish\n*\n")
