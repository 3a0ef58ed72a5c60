"""The `publish` use case: each repository's folder, merged onto its remote branch and pushed fast-forward."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from gitops_poc.errors import GitopsError
from gitops_poc.platform import Platform
from gitops_poc.publish.files import publishable_files
from gitops_poc.publish.git import GitFailed, MergeConflict, PushRejected, Scratch, create_bare
from gitops_poc.publish.model import PUBLISH_TRAILER, Outcome, RepoResult, Repository, repositories
from gitops_poc.publish.remote import RemoteBase

PUSH_ATTEMPTS = 4  # a remote that keeps moving (busy CI) gets a few fresh merges before publish gives up
Progress = Callable[[Repository, str], None]


class PublishConflict(GitopsError):
    """A repository could not be merged or pushed; the ones before it are published, it and later ones not."""


def _message(repo: Repository, files: int) -> str:
    return (
        f"Publish {repo.folder.as_posix()} from the platform root ({files} files)\n\n"
        "Written by `gitops-poc publish`: generated and team files, as the platform root has them.\n\n"
        f"{PUBLISH_TRAILER}: {repo.name}\n"
    )


def _publish_one(
    scratch: Scratch,
    repo: Repository,
    folder: Path,
    remote: str,
    branch: str,
    dry_run: bool,
    create: bool,
) -> RepoResult:
    files = publishable_files(folder)
    for _attempt in range(PUSH_ATTEMPTS):
        head = None if create else scratch.fetch(remote, branch)
        base = scratch.last_published(head) if head else None
        kept = scratch.commits_since(base, head) if head else 0
        if not files:
            return RepoResult(repo, remote, Outcome.UNCHANGED, head, head, remote_commits=kept)
        tree = scratch.tree_of(folder, files)
        if base is not None and scratch.tree(base) == tree:
            return RepoResult(repo, remote, Outcome.UNCHANGED, head, head, remote_commits=kept)
        local = scratch.commit(tree, [base] if base else [], _message(repo, len(files)))
        if head is None:
            new, outcome = local, Outcome.CREATED
        elif head == base:
            new, outcome = local, Outcome.UPDATED
        else:
            try:
                merged = scratch.merge(head, local)
            except MergeConflict as exc:
                raise PublishConflict(
                    f"{repo.path}: the platform root and {remote} both changed {exc} since the last publish; "
                    f"nothing was pushed. Bring the remote's change into {folder} (or undo yours), "
                    "then publish again"
                ) from None
            if merged == scratch.tree(head):  # the remote already has these changes
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
    results = []
    branch = platform.config.git_branch
    with Scratch(git_env) as scratch:
        for repo in repositories(platform):
            if progress:
                progress(repo, "publishing")
            remote = base.location(repo.path)
            create = (base.is_local and not (Path(remote) / "HEAD").exists()) or repo.path in absent
            if create and base.is_local and not dry_run:
                create_bare(Path(remote), branch)
            try:
                result = _publish_one(scratch, repo, root / repo.folder, remote, branch, dry_run, create)
            except GitFailed as exc:
                raise GitFailed(f"{repo.path}: {exc}") from None
            results.append(result)
            if progress:
                progress(repo, result.outcome.value)
    if base.folder is not None and not dry_run:
        _ignore_in_root(base.folder, root)
    return results


def _ignore_in_root(folder: Path, root: Path) -> None:
    """A base inside the platform root (the default) must stay out of the root's own git repository."""
    if not folder.resolve().is_relative_to(root.resolve()):
        return
    marker = folder / ".gitignore"
    if folder.is_dir() and not marker.exists():
        marker.write_text("# bare repositories made by gitops-poc publish\n*\n", encoding="utf-8")
