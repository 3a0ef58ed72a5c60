"""Read files as they are at a git revision (the real git binary; no working-tree changes)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Self

from gitops_poc import proc
from gitops_poc.errors import UsageError
from gitops_poc.proc import END_OF_OPTIONS, Part, Value

_COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 repositories


def _git(cwd: Path, *args: Part) -> subprocess.CompletedProcess[str]:
    try:
        return proc.run(["git", "-C", cwd, *args], text=True)
    except FileNotFoundError:
        raise UsageError("git is not installed or not on PATH") from None


def check_revision(rev: str, what: str = "git revision") -> str:
    """`rev` when git can only read it as a revision. An empty one (an unset CI variable) would make git read
    the index, and one starting with '-' would be read as an option: both are bad input, never a default."""
    if not rev.strip() or rev.startswith("-") or any(c in rev for c in "\n\r\0") or rev != rev.strip():
        raise UsageError(
            f"{what} {rev!r} is not a git revision: give a branch, tag or commit (an empty value is often an "
            "unset CI variable)"
        )
    return rev


def toplevel(path: Path) -> Path:
    folder = path if path.is_dir() else path.parent
    result = _git(folder, "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        raise UsageError(f"{path} is not inside a git repository: {result.stderr.strip()}")
    return Path(result.stdout.strip())


def resolve(path: Path, rev: str) -> str:
    """The commit id of `rev` in the repository holding `path`; a clear error for a revision that does not
    name exactly one commit (unknown, a range such as `A..B`, or a negation such as `^HEAD`, for which
    rev-parse succeeds and prints `^<id>`: compared as "no file", it would pass the deletion guard)."""
    check_revision(rev)
    folder = path if path.is_dir() else path.parent
    result = _git(
        folder, "rev-parse", "--verify", "--quiet", END_OF_OPTIONS, Value(f"{rev}^{{commit}}", "revision")
    )
    commit = result.stdout.strip()
    if result.returncode != 0 or not _COMMIT_ID.fullmatch(commit):
        raise UsageError(
            f"unknown git revision {rev!r} in {toplevel(path)}: it must name exactly one commit (a branch, "
            "tag or commit id; not a range or a ^negation)"
        )
    return commit


def read_at(path: Path, rev: str) -> str | None:
    """Text of `path` at `rev` (None when the file does not exist there); to read several files at one
    revision, use RevisionReader."""
    with RevisionReader(path.parent, resolve(path.parent, rev)) as reader:
        return reader.read(path.name)


def list_at(folder: Path, rev: str) -> list[str]:
    """Paths (relative to `folder`) of every file under `folder` at `rev`."""
    top = toplevel(folder)
    commit = resolve(folder, rev)
    relative = folder.resolve().relative_to(top.resolve()).as_posix()
    args: list[Part] = ["ls-tree", "-r", "--name-only", END_OF_OPTIONS, Value(commit, "commit")]
    if relative != ".":
        args += ["--", Value(relative, "folder")]
    result = _git(top, *args)
    if result.returncode != 0:
        raise UsageError(f"cannot list {folder} at {rev}: {result.stderr.strip()}")
    prefix = "" if relative == "." else relative + "/"
    return [line[len(prefix) :] for line in result.stdout.splitlines() if line]


class RevisionReader:
    """Files at one git revision through a single `git cat-file --batch` process, however many are read.

    Paths are relative to `folder` (or absolute); `read` gives None for a file that does not exist at the
    revision and raises UsageError for an unknown revision. Use it as a context manager (or call `close`);
    one reader serves one thread.
    """

    def __init__(self, folder: Path, rev: str) -> None:
        self.folder, self.rev = folder, check_revision(rev)
        self._proc: subprocess.Popen[bytes] | None = None
        self._commit: str | None = None  # what `rev` names, resolved before the first read

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def read(self, path: Path | str) -> str | None:
        relative = self._relative(Path(path))
        if "\n" in relative:
            raise UsageError(f"cannot read {relative!r} from git: the name holds a line break")
        child = self._start()
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(f"{self._commit}:./{relative}\n".encode())
            child.stdin.flush()
            header = child.stdout.readline()
        except BrokenPipeError:
            header = b""
        if not header:
            raise UsageError(f"git cat-file stopped while reading {relative} at {self.rev} in {self.folder}")
        if header.endswith((b" missing\n", b" ambiguous\n")):  # no such file at the revision
            return None
        _oid, kind, size = header.split()
        data = child.stdout.read(int(size) + 1)[:-1]  # the content, then a newline
        if kind != b"blob":
            return None  # a folder (tree) or a submodule: not a file
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"{relative} at {self.rev}: not UTF-8 text ({exc.reason})") from None
        # As Path.read_text and `git show` with text=True do: universal newlines.
        return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text

    def close(self) -> None:
        child, self._proc = self._proc, None
        if child is None:
            return
        assert child.stdin is not None and child.stdout is not None
        with contextlib.suppress(BrokenPipeError):
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.end_group(child, grace=1.0)
        child.stdout.close()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._commit is None:
            # Raises for an unknown revision, a range or a folder outside git; reading at the commit id
            # means cat-file never reads `rev` another way (`:/text` would take the path as search text).
            self._commit = resolve(self.folder, self.rev)
        if self._proc is None:
            try:
                self._proc = proc.start(
                    ["git", "-C", self.folder, "cat-file", "--batch"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except FileNotFoundError:
                raise UsageError("git is not installed or not on PATH") from None
        return self._proc

    def _relative(self, path: Path) -> str:
        """A relative path is relative to `folder`; an absolute one is made so (the working directory plays no
        part: `-C .` and `-C $PWD` read the same file)."""
        if not path.is_absolute():
            return path.as_posix()
        folder = Path(os.path.abspath(self.folder))
        try:
            return path.relative_to(folder).as_posix()
        except ValueError:
            return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()
