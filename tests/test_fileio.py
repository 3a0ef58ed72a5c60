"""The one file boundary (gitops_poc.fileio): regular files only, a cap per kind, decoding errors with their
position; writes whole or not at all, never over or through anything but a regular file."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gitops_poc import fileio
from gitops_poc.fileio import FileKind, FileMissing, FileRefused, NotText, WriteFailed, WriteRefused
from tests.childlimits import limited

SMALL = FileKind("test file", 16)


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a\r\nb\n")
    assert fileio.read_bytes(path, SMALL) == b"a\r\nb\n"
    assert fileio.read_text(path, SMALL) == "a\nb\n"
    assert fileio.read_text(path, SMALL, universal=False) == "a\r\nb\n"


def test_a_missing_file_is_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(FileMissing, match="no such file"):
        fileio.read_bytes(tmp_path / "absent", SMALL)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "socket", "folder", "file on the way"])
def test_anything_but_a_regular_file_is_refused_at_once_naming_it(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "thing"
    if kind == "fifo":
        os.mkfifo(path)  # nobody writes: a blocking open would wait for ever
    elif kind == "dev-zero":
        path = Path("/dev/zero")  # never ends
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_text("x")
        path = path / "below"
    with pytest.raises(FileRefused) as caught:
        fileio.read_bytes(path, SMALL)
    assert not isinstance(caught.value, FileMissing)
    assert str(path) in str(caught.value)
    if kind == "socket":
        server.close()


def test_a_file_over_its_kind_cap_is_refused_naming_the_kind(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"x" * 16)
    assert fileio.read_bytes(path, SMALL) == b"x" * 16  # the cap itself is allowed
    path.write_bytes(b"x" * 17)
    with pytest.raises(FileRefused, match=r"larger than 16 bytes, the most a test file may hold"):
        fileio.read_bytes(path, SMALL)


def test_a_link_is_followed_unless_told_not_to(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("t")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert fileio.read_text(link, SMALL) == "t"
    with pytest.raises(FileRefused, match="is a symlink; refusing to follow it"):
        fileio.read_text(link, SMALL, follow=False)


def test_bytes_that_are_not_utf8_are_reported_with_their_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_bytes(b"a: 1\nname: caf\xe9\n")
    with pytest.raises(NotText, match=r"values.yaml: not UTF-8 text \(byte 14, line 2, column 10\)"):
        fileio.read_text(path, SMALL)


def test_a_write_creates_keeps_the_mode_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "f.yaml"
    fileio.write_atomic(path, "one\r\n")
    assert path.read_bytes() == b"one\r\n"  # as given: no newline translation
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    path.chmod(0o640)
    fileio.write_atomic(path, b"two")
    assert path.read_bytes() == b"two" and stat.S_IMODE(path.stat().st_mode) == 0o640
    fileio.write_atomic(path, "three", private=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(path.parent) == ["f.yaml"]


@pytest.mark.parametrize("kind", ["dev-full", "dev-null", "fifo", "folder", "symlink", "dangling symlink"])
def test_a_write_over_anything_but_a_regular_file_is_refused_and_leaves_it(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "out"
    elsewhere = tmp_path / "elsewhere"
    if kind == "dev-full":
        path = Path("/dev/full")
    elif kind == "dev-null":
        path = Path("/dev/null")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "symlink":
        elsewhere.write_text("kept")
        path.symlink_to(elsewhere)
    else:
        path.symlink_to(elsewhere)
    before = os.lstat(path)
    with pytest.raises(WriteRefused) as caught:
        fileio.write_atomic(path, "data")
    assert str(path) in str(caught.value)
    after = os.lstat(path)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)
    if kind == "symlink":
        assert elsewhere.read_text() == "kept"
    if kind == "dangling symlink":
        assert not elsewhere.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_write_the_disk_refuses_is_an_error_and_the_old_file_stays(tmp_path: Path) -> None:
    """A full disk as the kernel reports it, in a child process: the file size limit fails write(2)."""
    path = tmp_path / "f"
    path.write_text("old")
    script = (
        "import sys; from pathlib import Path; from gitops_poc import fileio\n"
        "try:\n    fileio.write_atomic(Path(sys.argv[1]), 'x' * 100_000)\n"
        "except fileio.WriteFailed as exc:\n    print(exc); sys.exit(2)\n"
    )
    result = subprocess.run(
        limited([sys.executable, "-c", script, str(path)], file_size=1024),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert f"{path}: cannot write: File too large; the file is unchanged" in result.stdout
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["f"]


def test_write_failed_is_exit_2() -> None:
    assert WriteFailed("x").exit_code == 2 and WriteRefused("x").exit_code == 2
    assert FileRefused("x").exit_code == 2
