"""The target branch's side of a review: the platform folder as it is at a git revision, extracted once
into a temporary folder so every reader (plan, render, lint) reads it exactly as it reads the working tree."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gitops_poc import gitrepo
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
            result = subprocess.run(
                [
                    "git",
                    "-C",
                    str(top),
                    "archive",
                    "--format=tar",
                    commit if prefix == "." else f"{commit}:{prefix}",
                ],
                capture_output=True,
                stdin=subprocess.DEVNULL,
                check=False,
            )
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
    result = subprocess.run(
        ["git", "-C", str(top), "cat-file", "-e", f"{commit}:{prefix}"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return result.returncode == 0
