"""The git side of publishing, in a scratch bare repository: fetch the remote branch, write the root's
files as a commit, merge, push without force. Only this module runs git for `publish`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from gitops_poc import gitnet, proc
from gitops_poc.errors import GitopsError, ToolError, UsageError
from gitops_poc.proc import END_OF_OPTIONS, Opt, Part, Value
from gitops_poc.publish.model import PUBLISH_TRAILER, ROOT_TRAILER, FileDelta

# Used only when git has no identity configured (a fresh CI container); a configured one wins.
FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "gitops-poc",
    "GIT_AUTHOR_EMAIL": "gitops-poc@localhost",
    "GIT_COMMITTER_NAME": "gitops-poc",
    "GIT_COMMITTER_EMAIL": "gitops-poc@localhost",
}


# A push that lost a race: the branch moved, or another push held the ref lock at that instant (two
# checkouts publishing at once).
_RACE = re.compile(
    r"\[rejected\]|fetch first|non-fast-forward|stale info|failed to (update|lock) ref|cannot lock ref|"
    r"incorrect old value"
)


class GitFailed(ToolError):
    """A git command failed (an unreachable remote, a push refused for a reason other than a race)."""


class MergeConflict(GitopsError):
    """The root and the remote changed the same lines since the last publish: nothing was pushed."""

    def __init__(self, files: list[str]) -> None:
        super().__init__(", ".join(files))
        self.files = tuple(files)


class PushRejected(Exception):
    """The remote branch moved between fetch and push (a race): fetch and merge again."""


class Scratch:
    """A temporary bare repository holding the remote's branch and the commits publish makes."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gitops-poc-publish-"))
        self.git_dir = self.dir / "repo.git"
        self.env = {**os.environ, **(env or {}), "GIT_TERMINAL_PROMPT": "0"}
        self.run("init", "--quiet", "--bare", END_OF_OPTIONS, self.git_dir, git_dir=False)
        if self.run("var", "GIT_COMMITTER_IDENT", check=False).returncode != 0:
            self.env.update({k: v for k, v in FALLBACK_IDENTITY.items() if not self.env.get(k)})

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _git(self, git_dir: bool, work_tree: Path | None) -> list[Part]:
        cmd: list[Part] = ["git"]
        if git_dir:
            cmd.append(Opt("--git-dir", self.git_dir))
        if work_tree is not None:
            cmd.append(Opt("--work-tree", work_tree))
        return cmd

    def run(
        self,
        *args: Part,
        check: bool = True,
        git_dir: bool = True,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        work_tree: Path | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        try:
            result = proc.run(
                [*self._git(git_dir, work_tree), *args], input=input, env={**self.env, **(env or {})}
            )
        except FileNotFoundError:
            raise UsageError("git is not installed or not on PATH") from None
        if check and result.returncode != 0:
            raise GitFailed(f"git {args[0]} failed: {result.stderr.decode(errors='replace').strip()}")
        return result

    def talk(self, remote: str, *args: Part) -> subprocess.CompletedProcess[bytes]:
        """A git command that talks to `remote`, within the network limits (gitnet)."""
        try:
            return gitnet.talk(self._git(True, None), args, remote, env=self.env)
        except FileNotFoundError:
            raise UsageError("git is not installed or not on PATH") from None

    def out(self, *args: Part, **kwargs: object) -> str:
        return self.run(*args, **kwargs).stdout.decode().strip()  # type: ignore[arg-type]

    # --- reading the remote ---------------------------------------------------------------------------
    def fetch(self, remote: str, branch: str, into: str = "refs/remote/head") -> str | None:
        """The remote branch's head, fetched into the ref `into` (None: the branch or the repository does not
        exist yet)."""
        where, ref = Value(remote, "remote"), Value(f"refs/heads/{branch}", "branch")
        listed = self.talk(remote, "ls-remote", "--heads", END_OF_OPTIONS, where, ref)
        if listed.returncode != 0:
            raise GitFailed(f"cannot read {remote}: {listed.stderr.decode(errors='replace').strip()}")
        if not listed.stdout.strip():
            return None
        spec = Value(f"+refs/heads/{branch}:{into}", "branch")
        fetched = self.talk(remote, "fetch", "--quiet", "--no-tags", END_OF_OPTIONS, where, spec)
        if fetched.returncode != 0:
            raise GitFailed(f"cannot fetch from {remote}: {fetched.stderr.decode(errors='replace').strip()}")
        return self.out("rev-parse", "--verify", END_OF_OPTIONS, into)

    def publishes(self, head: str, limit: int = 200) -> list[tuple[str, str]]:
        """The publish commits in `head`'s history, newest first, with the root commit each names (or "")."""
        raw = self.out(
            "log",
            "--topo-order",
            f"--max-count={limit}",
            "--fixed-strings",
            f"--grep={PUBLISH_TRAILER}: ",
            f"--format=%H %(trailers:key={ROOT_TRAILER},valueonly,separator=%x20)",
            END_OF_OPTIONS,
            Value(head, "commit"),
        )
        found = []
        for line in raw.splitlines():
            commit, _, root = line.partition(" ")
            if commit:
                found.append((commit, root.strip().split(" ")[0]))
        return found

    def is_ancestor(self, commit: str, of: str) -> bool:
        """Whether `commit` is `of` or in its history (False when this repository does not have it)."""
        args = ("merge-base", "--is-ancestor", END_OF_OPTIONS, Value(commit, "commit"), Value(of, "commit"))
        return self.run(*args, check=False).returncode == 0

    def commits_since(self, bases: Sequence[str], head: str) -> int:
        excluded = (Value(f"^{base}", "commit") for base in bases)
        return int(self.out("rev-list", "--count", END_OF_OPTIONS, Value(head, "commit"), *excluded))

    # --- writing ----------------------------------------------------------------------------------------
    def tree_of(self, folder: Path, files: Sequence[str]) -> str:
        """The tree of `files` (relative to `folder`) as they are on disk, modes included."""
        index = self.dir / "index"
        index.unlink(missing_ok=True)
        env = {"GIT_INDEX_FILE": str(index), "GIT_LITERAL_PATHSPECS": "1"}
        data = "\0".join(files).encode() + b"\0"
        self.run(
            "add",
            "--force",
            "--pathspec-from-file=-",
            "--pathspec-file-nul",
            input=data,
            env=env,
            work_tree=folder,
        )
        return self.out("write-tree", env=env)

    def tree(self, commit: str) -> str:
        return self.out("rev-parse", "--verify", END_OF_OPTIONS, Value(f"{commit}^{{tree}}", "commit"))

    def commit(self, tree: str, parents: Sequence[str], message: str) -> str:
        args: list[Part] = ["commit-tree"]
        for parent in parents:
            args += ["-p", Value(parent, "commit")]
        return self.out(*args, END_OF_OPTIONS, Value(tree, "tree"), input=message.encode())

    def merge(self, ours: str, theirs: str) -> str:
        """The tree of a three-way merge of two commits; MergeConflict names the files both sides changed."""
        result = self.run(
            "merge-tree",
            "--write-tree",
            "--name-only",
            "--no-messages",
            "--allow-unrelated-histories",
            END_OF_OPTIONS,
            Value(ours, "commit"),
            Value(theirs, "commit"),
            check=False,
        )
        lines = result.stdout.decode().splitlines()
        if result.returncode == 1:
            conflicted = sorted({line for line in lines[1:] if line})
            raise MergeConflict(conflicted)
        if result.returncode != 0:
            raise GitFailed(f"git merge-tree failed: {result.stderr.decode(errors='replace').strip()}")
        return lines[0]

    def changed_files(self, before: str | None, after: str) -> tuple[FileDelta, ...]:
        if before is None:
            names = self.out("ls-tree", "-r", "--name-only", END_OF_OPTIONS, Value(after, "commit"))
            return tuple(FileDelta("A", n) for n in names.splitlines())
        commits = (Value(before, "commit"), Value(after, "commit"))
        raw = self.out("diff-tree", "-r", "--no-renames", "--name-status", END_OF_OPTIONS, *commits)
        return tuple(FileDelta(*line.split("\t", 1)) for line in raw.splitlines() if line)

    def read(self, commit: str, path: str) -> bytes | None:
        """The bytes of `path` in `commit` (None: no such file)."""
        found = self.run("cat-file", "blob", END_OF_OPTIONS, Value(f"{commit}:{path}", "path"), check=False)
        return found.stdout if found.returncode == 0 else None

    def push(self, remote: str, commit: str, branch: str, lease: str | None = None) -> None:
        """Fast-forward only (no `+`, no --force): a remote that moved on refuses (PushRejected). With `lease`
        (a branch of our own: "" = must not exist yet, else the head we read), the branch is replaced only
        while it still is what we read; main never gets a lease."""
        spec = Value(f"{commit}:refs/heads/{branch}", "branch")
        options: list[Part] = []
        if lease is not None:
            options.append(Opt("--force-with-lease", f"refs/heads/{branch}:{lease}"))
        result = self.talk(
            remote, "push", "--quiet", "--porcelain", *options, END_OF_OPTIONS, Value(remote, "remote"), spec
        )
        if result.returncode == 0:
            return
        text = (result.stdout + result.stderr).decode(errors="replace")
        if _RACE.search(text):
            raise PushRejected(text.strip())
        raise GitFailed(f"cannot push to {remote}: {result.stderr.decode(errors='replace').strip()}")


def create_bare(path: Path, branch: str) -> None:
    """A local remote, as a server would hold it; its reflog records every update (an audit of pushes)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file on the way, no permission, a full disk
        raise GitFailed(f"cannot create the remote {path}: {exc.strerror or exc}") from None
    steps: tuple[tuple[str, list[Part]], ...] = (
        ("init", ["git", "init", "--quiet", "--bare", Opt("--initial-branch", branch), END_OF_OPTIONS, path]),
        ("config", ["git", Opt("--git-dir", path), "config", "core.logAllRefUpdates", "always"]),
    )
    for command, argv in steps:
        result = proc.run(argv)
        if result.returncode != 0:
            raise GitFailed(f"git {command} failed: {result.stderr.decode(errors='replace').strip()}")
