"""Issue #17 class 6, the crashes (exit 3) a file or a folder caused: each is now one error line, exit 2.

A two-line token file, a --remote-base that is a file, `init` on a full disk. (A non-UTF-8 gateway
configuration and a bootstrap written to /dev/full: services/api-gateway/tests/test_api_gateway_command.py
and tests/hostile/test_unbounded_reads.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.childlimits import limited
from tests.clirun import Run, run_cli, tree

TOKEN_LINES = ("glpat-PLANTED-first-line-4242", "glpat-PLANTED-second-line-4242")


@pytest.fixture
def two_line_token(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text("\n".join(TOKEN_LINES) + "\n")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ("gitlab", "check", "--url", "http://127.0.0.1:9"),
        ("gitlab", "bootstrap", "--url", "http://127.0.0.1:9"),
        ("gitlab", "bootstrap", "--url", "http://127.0.0.1:9", "--dry-run", "--push-token-file"),
        ("publish", "--remote-base", "https://gitlab.example.com"),
        ("publish",),
        ("setup", "push", "--dry-run"),
    ],
    ids=" ".join,
)
def test_a_two_line_token_file_is_exit_2_and_shows_neither_line(
    platform_root: Path, crash_dir: Path, two_line_token: Path, command: tuple[str, ...]
) -> None:
    option = () if command[-1].endswith("-file") else ("--token-file",)
    run = run_cli(*command, *option, str(two_line_token), "-C", str(platform_root), tmpdir=crash_dir)
    run.one_error(2, str(two_line_token), "more than one line")
    for line in TOKEN_LINES:
        assert line not in run.text


@pytest.mark.parametrize("base", ["{file}", "{file}/below", "file://{file}/below"])
def test_a_remote_base_that_is_a_file_is_exit_2_naming_it(
    platform_root: Path, crash_dir: Path, tmp_path: Path, base: str
) -> None:
    afile = tmp_path / "a-file"
    afile.write_text("not a folder\n")
    before = tree(platform_root, afile)
    for extra in ((), ("--dry-run",)):
        run = run_cli(
            "publish",
            "-C",
            str(platform_root),
            "--remote-base",
            base.format(file=afile),
            *extra,
            tmpdir=crash_dir,
        )
        run.one_error(2, f"{afile} is a file, not a folder")
    assert tree(platform_root, afile) == before


# --- init on a full disk ---------------------------------------------------------------------------------
def _init(root: Path, crash_dir: Path, limit: int | None = None) -> Run:
    """`init --yes` in a child process; with `limit`, files can grow to `limit` bytes only (a full disk, as
    write(2) reports it: EFBIG). Python ignores SIGXFSZ, so the write fails instead of killing the process."""

    crash_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        limited([sys.executable, "-m", "gitops_poc", "init", "--yes", "-C", str(root)], file_size=limit),
        env={**os.environ, "TMPDIR": str(crash_dir), "COLUMNS": "200", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    logs = tuple(p.read_text() for p in crash_dir.glob("gitops-poc-crash-*"))
    return Run(result.returncode, result.stdout, result.stderr, logs)


def _temporary_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*.tmp")]


def test_init_when_files_cannot_grow_is_exit_2_naming_the_file_and_the_cause(
    tmp_path: Path, crash_dir: Path
) -> None:
    root = tmp_path / "platform"
    root.mkdir()
    run = _init(root, crash_dir, limit=512)
    run.one_error(2, "cannot write", "File too large", str(root))
    assert not _temporary_files(root)
    # The same run with room finishes what the first one began.
    assert _init(root, crash_dir).code == 0
    assert _init(root, crash_dir).code == 0  # and a re-run changes nothing


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: a real full disk (ENOSPC). Mounting needs CAP_SYS_ADMIN; without it the test above
    (the file size limit) stands for it."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(
            "cannot mount a tmpfs here (needs CAP_SYS_ADMIN); the RLIMIT_FSIZE test covers a full disk"
        )
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True, check=False)


def test_init_on_a_full_disk_is_exit_2_naming_the_cause(tiny_disk: Path, crash_dir: Path) -> None:
    run = _init(tiny_disk, crash_dir)
    run.one_error(2, "No space left on device", str(tiny_disk))
    assert not _temporary_files(tiny_disk)
