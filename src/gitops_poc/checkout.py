"""A checkout read as a platform folder: the platform folder itself, or a clone of the published gitops-config
repository (its files at the top), placed as gitops-config/ in a scratch platform folder beside the services'
value files read from their repositories: every reader (lint, review, report, init) keeps one layout."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gitops_poc import proc
from gitops_poc.argv import END_OF_OPTIONS, Value
from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.layout import GITOPS_CONFIG_DIR, VALUES_DIR, is_published_gitops_config, service_dir
from gitops_poc.status.gitside import WORKERS, Repositories, git_output

Locate = Callable[[str], tuple[Path, str]]  # service -> (git dir, ref) of its branch


@dataclass(frozen=True)
class Checkout:
    """`root` is the platform folder to read; `published` when it stands in for a gitops-config clone."""

    root: Path
    published: bool = False
    # Services whose value files could not be read (published clone only), with why.
    missing_values: dict[str, str] = field(default_factory=dict)

    @property
    def scope(self) -> tuple[Path, ...]:
        """The parts of the platform the checkout holds (relative); empty: all of it."""
        return (GITOPS_CONFIG_DIR,) if self.published else ()

    def lint_paths(self) -> list[Path]:
        return [self.root / part for part in self.scope]

    def shown(self, file: str) -> str:
        """A file name relative to `root`, as the clone names it (GitLab links reports by it)."""
        prefix = f"{GITOPS_CONFIG_DIR.as_posix()}/"
        return file.removeprefix(prefix) if self.published else file

    def inside(self, clone: Path, path: Path) -> Path:
        """A path the user gave in the clone, in the platform folder read instead."""
        if not self.published:
            return path
        try:
            relative = path.resolve().relative_to(clone.resolve())
        except ValueError:
            raise UsageError(f"{path}: not inside the gitops-config checkout {clone}") from None
        return self.root / GITOPS_CONFIG_DIR / relative


def _copy_clone(clone: Path, target: Path) -> None:
    """The files git tracks in the clone, as they are in the working tree: a job's caches and outputs in the
    project folder (.review-cache/, public/) are not gitops-config's. Links are copied as links: rootpath
    still refuses one that leads outside."""
    listed = proc.run(["git", "-C", clone, "ls-files", "-z", "--cached"])
    if listed.returncode != 0:  # not a git work tree (an unpacked archive): every file but .git
        shutil.copytree(clone, target, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        return
    target.mkdir(parents=True)
    for name in dict.fromkeys(os.fsdecode(listed.stdout).split("\0")):
        source = clone / name
        if not name or not os.path.lexists(source):  # deleted in the working tree
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name, follow_symlinks=False)


def _values(locate: Locate, service: str, folder: Path) -> str | None:
    """Write the service's .cicd/ at its branch into `folder` (None), or say why it cannot be read."""
    try:
        git_dir, ref = locate(service)
        archive = git_output(
            git_dir, "archive", "--format=tar", END_OF_OPTIONS, Value(ref, "ref"), VALUES_DIR
        )
    except GitopsError as exc:
        return str(exc)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")  # regular files and folders inside `folder` only
    return None


@contextmanager
def platform_checkout(
    root: Path, services: Sequence[str], repositories: Repositories | None, repo_path: Callable[[str], str]
) -> Iterator[Checkout]:
    """`root` as a platform folder. A published gitops-config clone is copied (its working tree, what the
    merge request holds) into a scratch folder removed afterwards; with `repositories`, each service's
    value files at its branch are placed in services/<name>/, as Argo CD reads them (`$values`)."""
    if not is_published_gitops_config(root):
        yield Checkout(root)
        return
    scratch = Path(tempfile.mkdtemp(prefix="gitops-poc-checkout-"))
    try:
        _copy_clone(root, scratch / GITOPS_CONFIG_DIR)
        missing: dict[str, str] = {}
        if repositories is None:
            missing = {s: "no --remote-base: the service repositories are not read" for s in services}
        else:
            with repositories.open() as opened:

                def one(service: str) -> str | None:
                    folder = service_dir(scratch, service)
                    folder.mkdir(parents=True)
                    return _values(lambda s: opened.locate(repo_path(s), s), service, folder)

                with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                    for service, problem in zip(services, pool.map(one, services), strict=True):
                        if problem is not None:
                            missing[service] = problem
        yield Checkout(scratch, published=True, missing_values=missing)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
