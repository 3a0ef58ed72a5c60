"""The target branch's side of a review: the platform folder as it is at a git revision, extracted once
into a temporary folder so every reader (plan, render, lint) reads it exactly as it reads the working tree."""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gitops_poc import gitrepo, proc
from gitops_poc.argv import END_OF_OPTIONS, Value
from gitops_poc.errors import UsageError


@contextmanager
def tree_at(root: Path, rev: str) -> Iterator[Path]:
    """`root` (a folder in a git repository) as it is at `rev`, removed afterwards. A folder that did not
    exist at `rev` is an empty side: everything in the change is new."""
    commit = gitrepo.resolve(root, rev)
    top = gitrepo.toplevel(root)
    prefix = root.resolve().relative_to(top.resolve()).as_posix()
    folder = Path(tempfile.mkdtemp(prefix="gitops-poc-review-base-"))
    try:
        if prefix == "." or _exists(top, commit, prefix):
            tree = Value(commit if prefix == "." else f"{commit}:{prefix}", "revision")
            result = proc.run(["git", "-C", top, "archive", "--format=tar", END_OF_OPTIONS, tree])
            if result.returncode != 0:
                raise UsageError(
                    f"cannot read {root} at {rev}: {result.stderr.decode(errors='replace').strip()}"
                )
            with tarfile.open(fileobj=io.BytesIO(result.stdout), mode="r:") as archive:
                archive.extractall(folder, filter="data")  # nothing outside the folder, no device files
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _exists(top: Path, commit: str, prefix: str) -> bool:
    result = proc.run(["git", "-C", top, "cat-file", "-e", Value(f"{commit}:{prefix}", "revision")])
    return result.returncode == 0
