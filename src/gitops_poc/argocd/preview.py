"""The `plan` command's use case: read a gitops-config ApplicationSet file (on disk or at a git revision),
expand it, and find the image each Application would deploy. The comparison itself is pure
(applications.py); this module is where the files and git are read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gitops_poc import gitrepo
from gitops_poc.argocd.applications import Application, PlanResult, compare
from gitops_poc.argocd.appset import expand_all, load_applicationsets
from gitops_poc.errors import UsageError
from gitops_poc.layout import (
    APPLICATIONSET_FILE,
    GITOPS_CONFIG_DIR,
    SERVICES_DIR,
    VALUES_DIR,
    is_published_gitops_config,
    service_dir,
    value_files,
)
from gitops_poc.servicerepo import read_values_file
from gitops_poc.values import get_path, merge_files
from gitops_poc.yamlio import read_text

NO_IMAGE = "-"


def default_file(root: Path) -> Path:
    """The ApplicationSet of the platform folder, or of a published gitops-config clone."""
    if is_published_gitops_config(root):
        return root / APPLICATIONSET_FILE.relative_to(GITOPS_CONFIG_DIR)
    return root / APPLICATIONSET_FILE


def read_applications(path: Path, rev: str | None = None) -> tuple[Application, ...]:
    """Expand every ApplicationSet in `path` (as it is on disk, or at git revision `rev`)."""
    if rev is None:
        text = read_text(path)
        if text is None:
            raise UsageError(f"{path}: no such file (generate it with `gitops-poc init`, or pass --file)")
        where = str(path)
    else:
        text = gitrepo.read_at(path, rev)
        where = f"{path}@{rev}"
        if text is None:
            return ()  # the file did not exist at that revision: everything is new
    appsets = load_applicationsets(text, where)
    if not appsets and rev is None:
        raise UsageError(
            f"{where}: no ApplicationSet (kind: ApplicationSet, apiVersion: argoproj.io/...) found"
        )
    return tuple(expand_all(appsets, where))


def make_plan(file: Path, base: str | None = None) -> PlanResult:
    head = read_applications(file)
    if base is None:
        return PlanResult(file, head)
    before = read_applications(file, base)
    return PlanResult(file, head, base, before, compare(before, head))


class ImageReader:
    """`image.repository:image.tag` from a service's merged values (`services/<svc>/.cicd`) at a revision.

    Values are read at the revision only when the services live in the same repository as the
    ApplicationSet file; otherwise (and without a revision) from the working tree.
    """

    def __init__(self, root: Path, rev: str | None = None, file: Path | None = None) -> None:
        self.root = root
        self._files: dict[Path, dict[str, Any]] = {}
        self._folders: set[Path] = set()  # service folders known not to be files
        # One `git cat-file --batch` for every values file: a mass deletion reads thousands.
        self._reader: gitrepo.RevisionReader | None = None
        if rev is not None and file is not None:
            try:
                if gitrepo.toplevel(root.resolve()) == gitrepo.toplevel(file.resolve()):
                    self._reader = gitrepo.RevisionReader(root, gitrepo.resolve(file.resolve(), rev))
            except UsageError:
                pass

    def _values(self, path: Path) -> dict[str, Any]:
        if path not in self._files:
            self._files[path] = read_values_file(path, reader=self._reader, within=self.root).data
        return self._files[path]

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()

    def _check_folder(self, directory: Path, service: str) -> None:
        """A file (or a link to one) where a service's folder belongs is bad input, never "no image"."""
        if directory in self._folders:
            return
        if self._reader is None:
            is_file = os.path.lexists(directory) and not directory.is_dir()
        else:  # at a revision: a folder is a tree, which reads as None; a file reads as its text
            is_file = self._reader.read(directory.absolute()) is not None
        if is_file:
            where = f" at {self._reader.rev}" if self._reader is not None else ""
            raise UsageError(
                f"{directory}{where} is a file, not the folder of service {service} "
                f"({SERVICES_DIR}/<service>/{VALUES_DIR}/ holds its values)"
            )
        self._folders.add(directory)

    def image(self, app: Application) -> str:
        directory = service_dir(self.root, app.service)
        if app.environment == "-":
            return NO_IMAGE
        self._check_folder(directory, app.service)
        if self._reader is None and not directory.is_dir():
            return NO_IMAGE
        # A values file that does not parse is an error (exit 2), never a silent "-".
        merged = merge_files(self._values(directory / name) for name in value_files(app.environment))
        repository, tag = get_path(merged, "image.repository"), get_path(merged, "image.tag")
        if not repository:
            return NO_IMAGE
        return f"{repository}:{tag}" if tag not in (None, "") else str(repository)
