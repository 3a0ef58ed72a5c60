"""The git side of `status`: each service repository's history of its values files, read in one walk.

Per repository, whatever the number of environments and commits: one `git log` over the environments'
`.cicd/<env>.yaml` (each commit with the blob it left, `--raw`) and one `git cat-file --batch` for every blob
that walk named. Never one git process per cell or per commit: 2,000 services x 3 environments is 4,000
processes, not hundreds of thousands.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gitops_poc import gitnet, proc
from gitops_poc.argv import END_OF_OPTIONS, Opt, Part, Value
from gitops_poc.delivery.decide import values_path
from gitops_poc.delivery.pins import find_pin
from gitops_poc.delivery.values import read_image
from gitops_poc.errors import ToolError, UsageError
from gitops_poc.gitrepo import check_revision
from gitops_poc.publish.remote import RemoteBase
from gitops_poc.status.model import Commit, Version

GIT_TIMEOUT = 120.0  # seconds for one git process (a fetch from a slow remote included)
WORKERS = 4  # repositories read at once: git processes wait on I/O as much as on the CPU
_RECORD, _FIELD = "\x1e", "\x00"
# The body, not %(trailers): write-back commits end with a sentence after their `Pipeline:` line, which
# git's trailer parser does not count as a trailer block.
_FORMAT = "%x1e%H%x00%an%x00%aI%x00%s%x00%b%x00"
_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*): (.+)$")
_ABSENT = "0" * 40


class RepositoryMissing(ToolError):
    """A service's repository (or its branch) is not where the remote base says."""


@dataclass(frozen=True)
class Walked:
    """One repository's walk: the commits, per path the (commit index, blob or None) pairs oldest first."""

    commits: list[Commit]
    versions: dict[str, list[tuple[int, str | None]]]


def git_output(
    git_dir: Path, *args: Part, stdin: bytes | None = None, env: Mapping[str, str] | None = None
) -> bytes:
    command: list[Part] = ["git", Opt("--git-dir", git_dir), *args]
    try:
        result = proc.run(
            command,
            input=stdin,
            timeout=GIT_TIMEOUT,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})},
        )
    except FileNotFoundError:
        raise ToolError("git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise ToolError(f"git {args[0]} in {git_dir} took more than {GIT_TIMEOUT:.0f} s") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ToolError(f"git {args[0]} in {git_dir}: {message[-1] if message else 'failed'}")
    return result.stdout


def _trailers(body: str) -> tuple[tuple[str, str], ...]:
    """`Key: value` lines of a commit body (Pipeline:, Gitops-Poc-Publish:, ...)."""
    return tuple((m.group(1), m.group(2).strip()) for m in map(_TRAILER.match, body.splitlines()) if m)


def parse_log(output: str, paths: Sequence[str]) -> Walked:
    """`git log --raw` output (newest first) as commits and each path's blobs, oldest first."""
    commits: list[Commit] = []
    versions: dict[str, list[tuple[int, str | None]]] = {p: [] for p in paths}
    for record in reversed(output.split(_RECORD)[1:]):
        commit_id, author, when, subject, trailers, raw = record.split(_FIELD, 5)
        index = len(commits)
        moment = datetime.fromisoformat(when)
        commits.append(Commit(commit_id, author, moment, subject, _trailers(trailers), index))
        for line in raw.splitlines():
            if not line.startswith(":"):
                continue
            meta, _, path = line.partition("\t")
            blob = meta.split()[3]
            if path in versions:
                versions[path].append((index, None if blob == _ABSENT else blob))
    return Walked(commits, versions)


def read_blobs(git_dir: Path, blobs: Sequence[str]) -> dict[str, str]:
    """The text of each blob, through one `git cat-file --batch`."""
    if not blobs:
        return {}
    data = git_output(git_dir, "cat-file", "--batch", stdin="".join(b + "\n" for b in blobs).encode())
    texts: dict[str, str] = {}
    at = 0
    for blob in blobs:
        end = data.index(b"\n", at)
        header = data[at:end].split()
        at = end + 1
        if len(header) < 3:  # "<oid> missing"
            continue
        size = int(header[2])
        texts[blob] = data[at : at + size].decode("utf-8", "replace")
        at += size + 1
    return texts


def _version(commit: Commit, text: str | None, where: str, newest: bool) -> Version:
    """One version; the pipeline record (a costly round-trip parse) only for the newest, the one shown."""
    if text is None:
        return Version(commit, present=False)
    try:
        state = read_image(text, where, record=newest)
        pin = find_pin(text, where)
    except UsageError as exc:
        return Version(commit, present=True, problem=str(exc))
    return Version(commit, present=True, image=state.image(), record=state.pipeline, pin=pin)


def read_histories(
    git_dir: Path, ref: str, environments: Sequence[str], name: str
) -> dict[str, list[Version]]:
    """Every version of each environment's values file on `ref`, oldest first."""
    paths = [values_path(env) for env in environments]
    try:
        git_output(
            git_dir, "rev-parse", "--verify", "--quiet", END_OF_OPTIONS, Value(f"{ref}^{{commit}}", "branch")
        )
    except ToolError:
        raise RepositoryMissing(f"{name}: no branch {ref!r} in {git_dir}") from None
    log = git_output(
        git_dir,
        "log",
        f"--format={_FORMAT}",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "--topo-order",  # parents before children even when their times tie
        "--diff-merges=first-parent",
        END_OF_OPTIONS,
        Value(ref, "branch"),
        "--",
        *(Value(p, "file") for p in paths),
    ).decode("utf-8", "replace")
    walked = parse_log(log, paths)
    blobs = sorted({b for found in walked.versions.values() for _, b in found if b})
    texts = read_blobs(git_dir, blobs)
    histories = {}
    for env, path in zip(environments, paths, strict=True):
        found = walked.versions[path]
        histories[env] = [
            _version(
                walked.commits[i],
                texts.get(b) if b else None,
                f"{name}:{path}@{walked.commits[i].short}",
                newest=n == len(found) - 1,
            )
            for n, (i, b) in enumerate(found)
        ]
    return histories


class Repositories:
    """Where each service's repository is read: the bare repository of a local remote base in place, or a
    scratch bare repository that a URL's branch is fetched into (read-only either way)."""

    def __init__(self, base: RemoteBase, branch: str, env: Mapping[str, str] | None = None) -> None:
        self.base, self.branch = base, check_revision(branch, "GIT_BRANCH")
        self.env = dict(env or {})
        self._scratch: Path | None = None

    @contextmanager
    def open(self) -> Iterator[Repositories]:
        if self.base.is_local:
            yield self
            return
        with tempfile.TemporaryDirectory(prefix="gitops-poc-status-") as folder:
            self._scratch = Path(folder) / "repo.git"
            git_output(self._scratch, "init", "--quiet", "--bare")
            try:
                yield self
            finally:
                self._scratch = None

    def locate(self, repo_path: str, service: str) -> tuple[Path, str]:
        """(git dir, ref) holding the service's branch."""
        location = self.base.location(repo_path)
        if self.base.is_local:
            folder = Path(location)
            if not folder.is_dir():
                raise RepositoryMissing(f"{service}: no repository at {folder} (run `gitops-poc publish`)")
            return folder, self.branch
        assert self._scratch is not None
        ref = f"refs/gitops-poc-status/{service}"
        try:
            fetched = gitnet.talk(
                ["git", Opt("--git-dir", self._scratch)],
                [
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-write-fetch-head",  # several fetches into the scratch repository at once
                    END_OF_OPTIONS,
                    Value(location, "remote"),
                    Value(f"+refs/heads/{self.branch}:{ref}", "GIT_BRANCH"),
                ],
                location,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **self.env},
            )
        except FileNotFoundError:
            raise ToolError("git is not installed or not on PATH") from None
        if fetched.returncode != 0:
            message = fetched.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RepositoryMissing(
                f"{service}: cannot fetch {self.branch!r} from {location}: "
                f"git fetch: {message[-1] if message else 'failed'}"
            )
        return self._scratch, ref


ReadOne = Callable[[str], "dict[str, list[Version]] | str"]


def read_all(
    services: Sequence[str],
    read_one: ReadOne,
    progress: Callable[[int, int], None] | None = None,
    workers: int = WORKERS,
) -> dict[str, dict[str, list[Version]] | str]:
    """Each service's histories (or why they could not be read), several repositories at once."""
    results: dict[str, dict[str, list[Version]] | str] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for done, (service, result) in enumerate(
            zip(services, pool.map(read_one, services), strict=True), start=1
        ):
            results[service] = result
            if progress is not None:
                progress(done, len(services))
    return results
