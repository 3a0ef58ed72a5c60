"""The three-way merge of one repository, in publish's scratch repository: the template at the version the
repository took is the base, the repository's default branch is ours, the template now is theirs.

git 2.39 has no `merge-tree --merge-base`: the base is declared instead, by a scratch commit whose parents
are the branch head and the base (never pushed), so git finds the base as the merge base.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitops_poc.publish.git import Scratch
from gitops_poc.rollout.template.files import Files
from gitops_poc.templatestamp import STAMP_FILE

# The scratch commits are never pushed: a fixed identity and time keep them out of the user's name.
_IDENT = b"gitops-poc <gitops-poc@localhost> 0 +0000"
_REF = b"refs/rollout/template"


@dataclass(frozen=True)
class Merged:
    commit: str  # on top of the head (not pushed yet)
    tree: str
    files: tuple[str, ...]  # changed against the head


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def _quoted(path: str) -> bytes:
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return b'"' + escaped.encode() + b'"'


def template_commits(scratch: Scratch, base: Files, new: Files) -> tuple[str, str]:
    """A commit of `base` and a child of it holding `new`, made by one `git fast-import` (a commit of
    in-memory files by add, write-tree and commit-tree takes three processes each)."""
    stream = bytearray(b"reset " + _REF + b"\n")
    for mark, files in ((1, base), (2, new)):
        stream += b"commit " + _REF + b"\nmark :%d\ncommitter " % mark + _IDENT + b"\n" + _data(b"template\n")
        if mark == 2:
            stream += b"from :1\n"
        stream += b"deleteall\n"
        for path, (content, executable) in sorted(files.items()):
            stream += b"M " + (b"100755" if executable else b"100644") + b" inline " + _quoted(path) + b"\n"
            stream += _data(content)
    stream += b"get-mark :1\nget-mark :2\ndone\n"
    marks = scratch.out("fast-import", "--quiet", "--force", "--done", input=bytes(stream)).split()
    return marks[0], marks[1]


def merge_template(
    scratch: Scratch, head: str, kept: bytes | None, base: Files, new: Files, stamp: bytes, message: str
) -> Merged:
    """The head (whose stamp is `kept`) with the template's changes from `base` to `new` merged in and `stamp`
    recorded; MergeConflict (from Scratch.merge) names the files where the team's edits and the template's
    changes meet."""
    if kept is not None:
        base = {**base, STAMP_FILE: (kept, False)}  # the head's stamp as the base has it: the new one wins
    base_commit, new_commit = template_commits(scratch, base, {**new, STAMP_FILE: (stamp, False)})
    derived = scratch.commit(f"{head}^{{tree}}", [head, base_commit], "the head derives from the base\n")
    tree = scratch.merge(derived, new_commit)
    commit = scratch.commit(tree, [head], message)
    return Merged(commit, tree, tuple(delta.path for delta in scratch.changed_files(head, commit)))
