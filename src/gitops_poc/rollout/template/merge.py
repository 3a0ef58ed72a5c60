"""The three-way merge of one repository, in publish's scratch repository: the template at the version the
repository took is the base, the repository's default branch is ours, the template now is theirs.

git 2.39 has no `merge-tree --merge-base`: the base is declared instead, by a scratch commit whose parents
are the branch head and the base (never pushed), so git finds the base as the merge base.
"""

from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import dataclass

from gitops_poc.publish.git import Scratch
from gitops_poc.rollout.template.files import Files
from gitops_poc.templatestamp import STAMP_FILE

_folders = itertools.count()


@dataclass(frozen=True)
class Merged:
    commit: str  # on top of the head (not pushed yet)
    tree: str
    files: tuple[str, ...]  # changed against the head


def tree_of_files(scratch: Scratch, files: Files) -> str:
    """The git tree of in-memory files (executable bits kept)."""
    folder = scratch.dir / f"files-{next(_folders)}"
    try:
        for relative, (content, executable) in files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            os.chmod(path, 0o755 if executable else 0o644)
        return scratch.tree_of(folder, sorted(files))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def merge_template(
    scratch: Scratch, head: str, base: Files, new: Files, stamp: bytes, message: str
) -> Merged:
    """The head with the template's changes from `base` to `new` merged in and `stamp` recorded; MergeConflict
    (from Scratch.merge) names the files where the team's edits and the template's changes meet."""
    kept = scratch.read(head, STAMP_FILE)
    if kept is not None:
        base = {**base, STAMP_FILE: (kept, False)}  # the head's stamp as the base has it: the new one wins
    base_commit = scratch.commit(tree_of_files(scratch, base), [], "template as the repository took it\n")
    new_commit = scratch.commit(
        tree_of_files(scratch, {**new, STAMP_FILE: (stamp, False)}), [base_commit], "template now\n"
    )
    derived = scratch.commit(scratch.tree(head), [head, base_commit], "the head derives from the base\n")
    tree = scratch.merge(derived, new_commit)
    commit = scratch.commit(tree, [head], message)
    return Merged(commit, tree, tuple(delta.path for delta in scratch.changed_files(head, commit)))
