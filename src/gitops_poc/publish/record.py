"""What this checkout last published to each remote branch, kept in ROOT/.gitops-poc-published.json.

The base of a publish's three-way merge must be the state this checkout's files derive from. Another
checkout of the same root (a second clone, a copy, a CI job) may have published since; taking the newest
publish as the base would make its changes look like ours to undo. The record travels with the folder (a copy
made with `cp -r` derives from the same publishes) and is machine state: git-ignored by `init`.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

from gitops_poc import fileio
from gitops_poc.errors import UsageError
from gitops_poc.layout import LOCAL_STATE

RECORD_FILE = LOCAL_STATE[1]
RECORD = fileio.FileKind("publish record", 1 << 20)
_COMMIT = re.compile(
    r"\A(?:[0-9a-f]{40}|[0-9a-f]{64})\Z"
)  # a record per remote branch of each repository: a few hundred bytes each


def _key(remote: str, branch: str) -> str:
    return f"{remote} {branch}"


class Record:
    """The commits this root published (or found equal to its files), per remote and branch."""

    def __init__(self, root: Path) -> None:
        self.path = root / RECORD_FILE
        self.published: dict[str, str] = {}
        try:
            data = json.loads(fileio.read_bytes(self.path, RECORD, follow=False) or b"{}")
        except (UsageError, ValueError):
            return  # missing, not a file, too big, junk: no earlier publish known (the merge is more careful)
        entries = data.get("published") if isinstance(data, dict) else None
        if isinstance(entries, dict):
            # Only commit ids: the value reaches git's argv (an edited file must not pass it an option).
            self.published = {
                k: v
                for k, v in entries.items()
                if isinstance(k, str) and isinstance(v, str) and _COMMIT.match(v)
            }

    def get(self, remote: str, branch: str) -> str | None:
        return self.published.get(_key(remote, branch))

    def set(self, remote: str, branch: str, commit: str) -> None:
        self.published[_key(remote, branch)] = commit

    def save(self) -> None:
        if not self.path.parent.is_dir():
            return
        text = json.dumps({"published": dict(sorted(self.published.items()))}, indent=1) + "\n"
        # Something else at the record's name (a FIFO, a link) is left alone: with no record kept, the next
        # publish merges with no known base, which is only more careful.
        with contextlib.suppress(fileio.WriteRefused):
            fileio.write_atomic(self.path, text)
