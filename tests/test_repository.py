"""What the repository itself must never hold: the local tool and environment folders (`.tools`, `.venv`)
are per checkout. A committed `.tools` symlink once replaced the shared tool folder of every checkout that
merged it (git overwrites ignored files), so a tracked one fails here, before it lands."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_no_local_tool_or_environment_folder_is_tracked() -> None:
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "--", ".tools", ".venv", ".remotes"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tracked == [], f"untrack them: git rm --cached {' '.join(tracked)}"
