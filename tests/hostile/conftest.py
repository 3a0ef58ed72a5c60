"""Fixtures for hostile-input tests: a generated platform in a real git repository, and a crash-log folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitops_poc.changes import apply_changes
from gitops_poc.config import load_config
from gitops_poc.generate import plan_init
from gitops_poc.platform import Platform


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def generate(root: Path, settings: dict[str, str] | None = None) -> Platform:
    platform = Platform(load_config(None, settings or {}))
    apply_changes(root, plan_init(platform, root))
    return platform


@pytest.fixture
def platform_root(tmp_path: Path) -> Path:
    """A platform generated from the defaults, committed as the first commit of a git repository."""
    root = tmp_path / "platform"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    generate(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial platform")
    return root


@pytest.fixture
def crash_dir(tmp_path: Path) -> Path:
    return tmp_path / "crash-logs"
