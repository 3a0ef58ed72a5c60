"""The target branch's side of a review: the platform folder as it is at a git revision, checked out once
into a temporary folder so every reader (plan, render, lint) reads it exactly as it reads the working tree."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gitops_poc import gitrepo, proc
from gitops_poc.argv import Opt, Part, Value
from gitops_poc.checkout import Checkout
from gitops_poc.errors import UsageError
from gitops_poc.layout import GITOPS_CONFIG_DIR


def _git(top: Path, *args: Part, environ: dict[str, str] | None = None, stdin: str | None = None) -> str:
    result = proc.run(["git", "-C", top, *args], env=environ, input=stdin, text=True)
    if result.returncode != 0:
        raise UsageError(f"git {args[0]} failed in {top}: {result.stderr.strip()}")
    return result.stdout


def unit_of(path: str) -> str:
    """The part of the platform folder a file belongs to: `services/<name>`, else its top folder or file."""
    parts = path.split("/")
    return "/".join(parts[:2]) if parts[0] == "services" and len(parts) > 2 else parts[0]


def changed_units(root: Path, rev: str) -> set[str]:
    """The units (see unit_of) whose files differ between `rev` and the working tree, untracked files
    included: git compares, nothing is read twice."""
    commit = gitrepo.resolve(root, rev)
    changed = _git(
        root, "diff", "--name-only", "--relative", "-z", Value(commit, "revision"), "--", "."
    ).split("\0")
    changed += _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", ".").split("\0")
    return {unit_of(path) for path in changed if path}


@contextmanager
def tree_at(
    root: Path, rev: str, units: set[str] | None = None, name: str = "base", under: Path | None = None
) -> Iterator[Path]:
    """`root` (a folder in a git repository) as it is at `rev` (only the files of `units` when given),
    removed afterwards; its files in the folder `under` of the side when given. A folder that did not exist
    at `rev` is an empty side: everything is new."""
    commit = gitrepo.resolve(root, rev)
    top = gitrepo.toplevel(root)
    prefix = root.resolve().relative_to(top.resolve()).as_posix()
    treeish = Value(commit if prefix == "." else f"{commit}:{prefix}", "revision")
    scratch = Path(tempfile.mkdtemp(prefix="gitops-poc-review-"))
    folder = scratch / name  # a service repository's lint names the service after its folder
    folder.mkdir()
    # A private index: the repository's own index and working tree are never touched. git writes the files
    # (fast at thousands of files); nothing outside `folder` is written.
    environ = {**os.environ, "GIT_INDEX_FILE": str(scratch / "index")}
    try:
        if prefix == "." or _exists(top, treeish):
            _git(top, "read-tree", treeish, environ=environ)
            listed = _git(top, "ls-files", "-z", environ=environ).split("\0")
            wanted = [path for path in listed if path and (units is None or unit_of(path) in units)]
            # File names on stdin, NUL-separated: never on the command line, whatever they hold.
            prefix_opt = Opt("--prefix", f"{folder / under if under else folder}/")
            _git(top, "checkout-index", prefix_opt, "--stdin", "-z", environ=environ, stdin="\0".join(wanted))
        yield folder
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextmanager
def base_side(root: Path, rev: str, checkout: Checkout) -> Iterator[tuple[Path, frozenset[str]]]:
    """The target branch's platform folder and the units (unit_of) the change touches. In a published
    gitops-config clone every file is gitops-config's, and the services' value files (not part of the merge
    request) are read from the head side."""
    changed = changed_units(root, rev)
    if checkout.published:
        touched = frozenset({GITOPS_CONFIG_DIR.as_posix()} if changed else ())
        with tree_at(root, rev, under=GITOPS_CONFIG_DIR) as tree:
            yield tree, touched
        return
    with tree_at(root, rev, changed | {GITOPS_CONFIG_DIR.as_posix()}) as tree:
        yield tree, frozenset(changed)


def _exists(top: Path, treeish: Value) -> bool:
    return proc.run(["git", "-C", top, "cat-file", "-e", treeish]).returncode == 0
