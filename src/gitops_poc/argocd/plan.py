"""The `plan` view: the Applications a gitops-config ApplicationSet file generates, the image each one would
deploy, and what moving from another git revision of the file would add, change or delete.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_poc import gitrepo
from gitops_poc.argocd.applications import Application, Comparison, compare
from gitops_poc.argocd.appset import expand_all, load_applicationsets
from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.generate.gitops_config import APPLICATIONSET_FILE
from gitops_poc.servicerepo import read_values_file, service_dir, value_files
from gitops_poc.values import get_path, merge_files
from gitops_poc.yamlio import load_plain, read_text

NO_IMAGE = "-"


class TooManyDeletions(GitopsError):
    """The change would delete more Applications than --max-deletions allows."""

    exit_code = 1


@dataclass(frozen=True)
class PlanResult:
    file: Path
    applications: tuple[Application, ...]
    base: str | None = None  # the revision compared with
    base_applications: tuple[Application, ...] = ()
    comparison: Comparison | None = None


def default_file(root: Path) -> Path:
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
        raise UsageError(f"{where}: no ApplicationSet (kind: ApplicationSet, apiVersion: argoproj.io/...) found")
    return tuple(expand_all(appsets, where))


def make_plan(file: Path, base: str | None = None) -> PlanResult:
    head = read_applications(file)
    if base is None:
        return PlanResult(file, head)
    before = read_applications(file, base)
    return PlanResult(file, head, base, before, compare(before, head))


def check_deletions(result: PlanResult, max_deletions: int | None) -> None:
    """Raise TooManyDeletions when the change deletes more than `max_deletions` Applications."""
    if max_deletions is None or result.comparison is None:
        return
    deleted = result.comparison.deleted
    if len(deleted) > max_deletions:
        names = ", ".join(app.name for app in deleted[:10]) + (", ..." if len(deleted) > 10 else "")
        raise TooManyDeletions(
            f"this change deletes {len(deleted)} Application(s), more than --max-deletions {max_deletions}: {names}. "
            "A rename is a deletion too; if this is intended, raise --max-deletions.")


class _Blobs:
    """Files at one git revision through a single `git cat-file --batch` (a mass deletion reads thousands)."""

    def __init__(self, top: Path, commit: str) -> None:
        self.top, self.commit = top, commit
        self.proc: subprocess.Popen[bytes] | None = None

    def read(self, path: Path) -> str | None:
        if self.proc is None:
            self.proc = subprocess.Popen(["git", "-C", str(self.top), "cat-file", "--batch"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        relative = path.resolve().relative_to(self.top.resolve()).as_posix()
        self.proc.stdin.write(f"{self.commit}:{relative}\n".encode())
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) != 3:
            return None  # "<object> missing": the file does not exist at that revision
        data = self.proc.stdout.read(int(header[2]) + 1)[:-1]
        return data.decode() if header[1] == b"blob" else None

    def close(self) -> None:
        if self.proc is not None:
            self.proc.communicate()
            self.proc = None


class ImageReader:
    """`image.repository:image.tag` from a service's merged values (`services/<svc>/.cicd`) at a revision.

    Values are read at the revision only when the services live in the same repository as the
    ApplicationSet file; otherwise (and without a revision) from the working tree.
    """

    def __init__(self, root: Path, rev: str | None = None, file: Path | None = None) -> None:
        self.root = root
        self._files: dict[Path, dict[str, Any]] = {}
        self._blobs: _Blobs | None = None
        if rev is not None and file is not None:
            try:
                top = gitrepo.toplevel(file.resolve())
                if gitrepo.toplevel(root.resolve()) == top:
                    self._blobs = _Blobs(top, gitrepo.resolve(file.resolve(), rev))
            except UsageError:
                pass

    def _values(self, path: Path) -> dict[str, Any]:
        if path not in self._files:
            if self._blobs is None:
                self._files[path] = read_values_file(path).data
            else:
                text = self._blobs.read(path)
                data = load_plain(text, f"{path}@{self._blobs.commit[:12]}") if text else None
                self._files[path] = data if isinstance(data, dict) else {}
        return self._files[path]

    def close(self) -> None:
        if self._blobs is not None:
            self._blobs.close()

    def image(self, app: Application) -> str:
        directory = service_dir(self.root, app.service)
        if app.environment == "-" or (self._blobs is None and not directory.is_dir()):
            return NO_IMAGE
        try:
            merged = merge_files(self._values(directory / name) for name in value_files(app.environment))
        except UsageError:
            return NO_IMAGE
        repository, tag = get_path(merged, "image.repository"), get_path(merged, "image.tag")
        if not repository:
            return NO_IMAGE
        return f"{repository}:{tag}" if tag not in (None, "") else str(repository)
