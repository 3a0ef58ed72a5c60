"""Reading files at a git revision with the real git binary: single reads and the batch reader."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitops_poc.errors import UsageError
from gitops_poc.gitrepo import RevisionReader, list_at, read_at, resolve


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Two commits: `first` has a/b.yaml, a/crlf.txt, a/spaced name.txt, top.txt, bin.dat; the second edits
    b.yaml."""
    repo = tmp_path / "repo"
    (repo / "a").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "a/b.yaml").write_text("version: 1\n")
    (repo / "a/crlf.txt").write_bytes(b"one\r\ntwo\r\n")
    (repo / "a/spaced name.txt").write_text("spaces\n")
    (repo / "top.txt").write_text("top\n")
    (repo / "bin.dat").write_bytes(b"\xff\xfe\x00")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    git(repo, "tag", "first")
    (repo / "a/b.yaml").write_text("version: 2\n")
    git(repo, "commit", "-qam", "second")
    (repo / "a/b.yaml").write_text("version: working tree\n")  # never read at a revision
    return repo


def test_reads_many_files_at_one_revision_through_one_process(repo: Path) -> None:
    with RevisionReader(repo / "a", "first") as reader:
        assert reader.read("b.yaml") == "version: 1\n"
        pid = reader._proc.pid if reader._proc else None
        assert reader.read(repo / "a" / "b.yaml") == "version: 1\n"  # absolute paths too
        assert reader.read("spaced name.txt") == "spaces\n"
        assert reader.read("crlf.txt") == "one\ntwo\n"  # universal newlines, as read_text and read_at give
        assert reader.read("../top.txt") == "top\n"  # relative to the folder, anywhere in the repository
        assert reader.read(repo / "top.txt") == "top\n"
        assert reader._proc is not None and reader._proc.pid == pid
    with RevisionReader(repo, "main") as reader:
        assert reader.read("a/b.yaml") == "version: 2\n"


def test_missing_files_and_folders_are_none(repo: Path) -> None:
    with RevisionReader(repo, "first") as reader:
        assert reader.read("a/nope.yaml") is None
        assert reader.read("a") is None  # a folder
        assert reader.read("a/b.yaml") == "version: 1\n"  # still usable after a miss


def test_bad_input_is_a_usage_error(repo: Path, tmp_path: Path) -> None:
    with (
        RevisionReader(repo, "no-such-rev") as reader,
        pytest.raises(UsageError, match="unknown git revision 'no-such-rev'"),
    ):
        reader.read("top.txt")
    with RevisionReader(repo, "first") as reader:
        with pytest.raises(UsageError, match="not UTF-8"):
            reader.read("bin.dat")
        with pytest.raises(UsageError, match="line break"):
            reader.read("a\nb")
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    with (
        RevisionReader(outside, "HEAD") as reader,
        pytest.raises(UsageError, match="not inside a git repository"),
    ):
        reader.read("x")


def test_close_ends_the_git_process(repo: Path) -> None:
    reader = RevisionReader(repo, "first")
    assert reader._proc is None  # nothing started before the first read
    reader.read("top.txt")
    proc = reader._proc
    assert proc is not None and proc.poll() is None
    reader.close()
    assert proc.returncode == 0 and reader._proc is None
    reader.close()  # twice is fine
    assert reader.read("top.txt") == "top\n"  # and a closed reader starts again when used
    reader.close()


def test_read_at_and_list_at(repo: Path) -> None:
    assert read_at(repo / "a/b.yaml", "first") == "version: 1\n"
    assert read_at(repo / "a/nope.yaml", "first") is None
    with pytest.raises(UsageError, match="unknown git revision"):
        read_at(repo / "a/b.yaml", "no-such-rev")
    assert sorted(list_at(repo / "a", "first")) == ["b.yaml", "crlf.txt", "spaced name.txt"]
    assert resolve(repo, "first") == git(repo, "rev-parse", "first")


@pytest.mark.parametrize(
    "rev",
    ["^HEAD", "^first", "first..main", "first...main", "main^@", "main^!", "main:a", "TREE", "BLOB"],
)
def test_a_revision_that_is_not_exactly_one_commit_is_a_usage_error(repo: Path, rev: str) -> None:
    # rev-parse --verify accepts `^HEAD` (printing `^<id>`) and cat-file reads a file from a tree id: either
    # would have made a base revision "a commit without the file", every Application a deletion unguarded.
    rev = {
        "TREE": git(repo, "rev-parse", "first^{tree}"),
        "BLOB": git(repo, "rev-parse", "first:top.txt"),
    }.get(rev, rev)
    with pytest.raises(UsageError, match="must name exactly one commit"):
        resolve(repo, rev)
    with pytest.raises(UsageError, match="must name exactly one commit"):
        read_at(repo / "top.txt", rev)
    with RevisionReader(repo, rev) as reader, pytest.raises(UsageError, match="must name exactly one commit"):
        reader.read("top.txt")
    assert resolve(repo, "first") == git(repo, "rev-parse", "first^{commit}")
