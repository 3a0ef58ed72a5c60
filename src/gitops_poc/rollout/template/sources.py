"""The versions of templates/service-repo, read from the platform root's git repository: the one to roll out
(committed, so a later rollout finds it again as its base) and the one each repository took."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from gitops_poc import gitrepo, proc
from gitops_poc.errors import UsageError
from gitops_poc.generate.init_plan import TEMPLATE_DIR
from gitops_poc.generate.services import template_version
from gitops_poc.layout import SERVICES_DIR
from gitops_poc.proc import END_OF_OPTIONS, Part, Value

TEMPLATE_PATH = TEMPLATE_DIR.as_posix()


class TemplateVersions:
    """The template's versions as folders (extracted once each) and where a version is recorded in history."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.top = gitrepo.toplevel(root)
        self.prefix = root.resolve().relative_to(self.top.resolve()).as_posix()
        self.dir = Path(tempfile.mkdtemp(prefix="gitops-poc-template-"))
        self._folders: dict[str, Path] = {}
        self._created: dict[str, str | None] = {}
        self._known: dict[str, bool] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _path(self, relative: str) -> str:
        return relative if self.prefix == "." else f"{self.prefix}/{relative}"

    def _git(self, *args: Part) -> subprocess.CompletedProcess[str]:
        return proc.run(["git", "-C", self.top, *args], text=True)

    def tree_at(self, rev: str) -> str | None:
        """The template's tree id at revision `rev` (None: the template did not exist there); an unknown
        revision is bad input."""
        commit = gitrepo.resolve(self.root, rev)
        listed = self._git(
            "ls-tree",
            END_OF_OPTIONS,
            Value(commit, "commit"),
            "--",
            Value(self._path(TEMPLATE_PATH), "folder"),
        )
        fields = listed.stdout.split() if listed.returncode == 0 else []
        return fields[2] if len(fields) >= 3 and fields[1] == "tree" else None

    def current(self) -> str:
        """The version to roll out: the template as committed at HEAD, which must be what the folder holds."""
        committed = self.tree_at("HEAD")
        if committed is None:
            raise UsageError(
                f"{self.root / TEMPLATE_DIR}: not committed in {self.top}; commit the template first (the "
                "next rollout reads the version it rolls out back from git, as its base)"
            )
        on_disk = template_version(self.root / TEMPLATE_DIR)
        if on_disk != committed:
            raise UsageError(
                f"{self.root / TEMPLATE_DIR}: differs from its last commit (or holds files git ignores); "
                "commit the template first (the next rollout reads this version back from git, as its base)"
            )
        return committed

    def has(self, tree: str) -> bool:
        if tree not in self._known:
            found = self._git("cat-file", "-e", END_OF_OPTIONS, Value(f"{tree}^{{tree}}", "template version"))
            self._known[tree] = found.returncode == 0
        return self._known[tree]

    def folder(self, tree: str) -> Path:
        """The template of version `tree` as a folder (extracted from git once)."""
        with self._lock:  # workers ask for the same versions at once: extracted once
            if tree not in self._folders:
                self._folders[tree] = self._extract(tree)
            return self._folders[tree]

    def _extract(self, tree: str) -> Path:
        archive = proc.run(
            [
                "git",
                "-C",
                self.top,
                "archive",
                "--format=tar",
                END_OF_OPTIONS,
                Value(tree, "template version"),
            ]
        )
        if archive.returncode != 0:
            raise UsageError(f"cannot read template version {tree}: {archive.stderr.decode().strip()}")
        target = self.dir / tree
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(target, filter="data")
        return target

    def at_creation(self, service: str) -> str | None:
        """For a repository made before versions were recorded: the template as committed together with the
        service's folder when it first appeared in the platform root's history (None: no such commit, or no
        template in it)."""
        if service not in self._created:
            folder = Value(self._path(f"{SERVICES_DIR}/{service}"), "folder")
            log = self._git(
                "log", "--diff-filter=A", "--format=%H", "--reverse", END_OF_OPTIONS, "HEAD", "--", folder
            )
            first = log.stdout.split()[0] if log.returncode == 0 and log.stdout.split() else None
            self._created[service] = self.tree_at(first) if first else None
        return self._created[service]
