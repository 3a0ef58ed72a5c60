"""Which version of templates/service-repo a service repository took: the template folder's git tree id,
kept in the repository's `.gitops-poc-template.json` (written by `new-service`, updated by `rollout
template`).

A git tree id names the template's content exactly (paths, bytes, executable bits) and is what the platform
root's git history holds for that folder, so `rollout template` can read the version a repository took back
as the base of its three-way merge. Computed here without git (the generator runs where git may be absent).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable

STAMP_FILE = ".gitops-poc-template.json"
STAMP_LIMIT = 64 << 10  # characters: a stamp is a few hundred; a bigger file is not one
_TREE_ID = re.compile(r"\A[0-9a-f]{40}\Z")

# (relative posix path, content, executable)
TemplateFile = tuple[str, bytes, bool]
_Folder = dict[str, "_Folder | tuple[bytes, bool]"]


def _object_id(kind: bytes, data: bytes) -> bytes:
    return hashlib.sha1(kind + b" " + str(len(data)).encode() + b"\0" + data, usedforsecurity=False).digest()


def tree_id(files: Iterable[TemplateFile]) -> str:
    """The id git gives the tree of these files (`git rev-parse HEAD:<folder>` once committed as they are)."""
    root: _Folder = {}
    for path, content, executable in files:
        *folders, name = path.split("/")
        node = root
        for folder in folders:
            child = node.setdefault(folder, {})
            assert isinstance(child, dict)
            node = child
        node[name] = (content, executable)

    def tree(node: _Folder) -> bytes:
        entries = []
        for name, item in node.items():
            if isinstance(item, dict):
                entries.append((name + "/", b"40000 " + name.encode() + b"\0" + tree(item)))
            else:
                content, executable = item
                mode = b"100755" if executable else b"100644"
                entries.append((name, mode + b" " + name.encode() + b"\0" + _object_id(b"blob", content)))
        # git sorts a tree's entries by name, a folder's name as if it ended with "/"
        return _object_id(b"tree", b"".join(entry for _, entry in sorted(entries, key=lambda e: e[0])))

    return tree(root).hex()


def stamp_text(tree: str) -> str:
    return (
        json.dumps(
            {
                "template": "templates/service-repo",
                "tree": tree,
                "note": "The template version this repository took (gitops-poc new-service, rollout "
                "template). Machine state: `rollout template` merges the template's changes since.",
            },
            indent=1,
        )
        + "\n"
    )


def parse_stamp(text: str | None) -> str | None:
    """The tree id a stamp names; None for no stamp or one that names none (edited, junk, too big)."""
    if not text or len(text) > STAMP_LIMIT:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    tree = data.get("tree") if isinstance(data, dict) else None
    # Only a tree id: the value reaches git's argv.
    return tree if isinstance(tree, str) and _TREE_ID.match(tree) else None
