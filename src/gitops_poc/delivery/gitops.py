"""The git plumbing behind write-back: fetch a branch head, read files at a commit, make a commit on top of it
without touching the working tree, push it without force.

Credentials never appear in a URL, an argument list or `.git/config`: `credential_environment` configures a
git credential helper through `GIT_CONFIG_*` variables of the git processes alone; the helper prints the
token from the environment variable that already holds it when git asks during a fetch or push.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gitops_poc import gitnet, proc
from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.gitauth import bound
from gitops_poc.proc import END_OF_OPTIONS, Opt, Part, Value
from gitops_poc.tokenhome import gitlab_home, job_home

TOKEN_VARIABLES = (("CI_PUSH_TOKEN", "oauth2"), ("CI_JOB_TOKEN", "gitlab-ci-token"))
TIMEOUT_SECONDS = 120.0
FETCHED_REF = "refs/gitops-poc/fetched"


class GitError(GitopsError):
    """git ran and failed for a reason retrying cannot fix (authentication, a missing remote, ...)."""


def token_values(environ: Mapping[str, str]) -> list[str]:
    return [environ[name] for name, _ in TOKEN_VARIABLES if len(environ.get(name, "")) >= 4]


def redact(text: str, environ: Mapping[str, str]) -> str:
    """Tokens and URL credentials removed, should git ever echo one."""
    for value in token_values(environ):
        text = text.replace(value, "***")
    return re.sub(r"(https?://)[^/@\s]+@", r"\1***@", text)


def credential_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Environment for git processes: no prompts, and (when a token variable is set) a credential helper that
    answers from it. The empty first `credential.helper` clears helpers from the user's config, so no
    `store` helper ever writes the token to disk. CI_PUSH_TOKEN goes only to GITLAB_URL, else CI_SERVER_URL;
    CI_JOB_TOKEN only to CI_SERVER_URL (neither set, outside CI: to the remote given)."""
    env = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}
    for variable, username in TOKEN_VARIABLES:
        if environ.get(variable):
            helper = (
                f'!f() {{ test "$1" = get || exit 0; echo username={username}; '
                f"printf 'password=%s\\n' \"${variable}\"; }}; f"
            )
            env.update(
                GIT_CONFIG_COUNT="2",
                GIT_CONFIG_KEY_0="credential.helper",
                GIT_CONFIG_VALUE_0="",
                GIT_CONFIG_KEY_1="credential.helper",
                GIT_CONFIG_VALUE_1=helper,
            )
            # Bound to its GitLab when one is known (always in GitLab CI): gitnet.talk drops it elsewhere.
            home = gitlab_home(environ, None) if variable == "CI_PUSH_TOKEN" else job_home(environ)
            if home is not None:
                env.update(bound(home, variable))
            break
    return env


def strip_credentials(url: str) -> tuple[str, bool]:
    """(url without user:password@, whether it had any); GitLab runners put the job token in origin's URL."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), True
    return url, False


@dataclass(frozen=True)
class Identity:
    """Who the commit is by: the pipeline's user in CI, else git's configuration, else the tool."""

    name: str
    email: str

    def environment(self) -> dict[str, str]:
        return {
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": self.email,
        }

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class PushResult:
    ok: bool
    retryable: bool  # rejected because the branch moved (or a concurrent update held the ref lock)
    message: str


# A push that lost a race: the branch moved (`fetch first`, `non-fast-forward`) or another receive-pack held
# the ref lock at that instant (`failed to update ref`, `cannot lock ref`, `incorrect old value`).
_RACE = re.compile(
    r"\[rejected\]|fetch first|non-fast-forward|failed to (update|lock) ref|cannot lock ref|"
    r"incorrect old value|stale info|failed to update ref"
)


class Repository:
    """One local clone, driven through the git binary."""

    def __init__(self, path: Path, environ: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.environ = dict(os.environ if environ is None else environ)
        self._env = {**self.environ, **credential_environment(self.environ)}

    def run(
        self, *args: Part, input: str | None = None, env: Mapping[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """git's output as text with universal newlines (what every command but `read` wants)."""
        result = self.run_bytes(*args, input=None if input is None else input.encode(), env=env, check=check)
        out, err = (b.decode(errors="replace").replace("\r\n", "\n") for b in (result.stdout, result.stderr))
        return subprocess.CompletedProcess(result.args, result.returncode, out, err)

    def run_bytes(
        self,
        *args: Part,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        try:
            result = proc.run(
                ["git", "-C", self.path, *args],
                input=input,
                env={**self._env, **(env or {})},
                timeout=TIMEOUT_SECONDS,
            )
        except FileNotFoundError:
            raise UsageError("git is not installed or not on PATH") from None
        except subprocess.TimeoutExpired:
            raise GitError(f"`git {args[0]}` did not finish within {TIMEOUT_SECONDS:.0f} s") from None
        return self._checked(args, result, check)

    def _checked(
        self, args: Sequence[Part], result: subprocess.CompletedProcess[bytes], check: bool
    ) -> subprocess.CompletedProcess[bytes]:
        if check and result.returncode != 0:
            stderr = result.stderr.decode(errors="replace").strip()
            raise GitError(f"git {args[0]} failed: {redact(stderr, self.environ)}")
        return result

    def talk(self, url: str, *args: Part) -> subprocess.CompletedProcess[str]:
        """A git command that talks to the remote `url`, within the network limits (gitnet)."""
        try:
            result = gitnet.talk(["git", "-C", self.path], args, url, env=self._env)
        except FileNotFoundError:
            raise UsageError("git is not installed or not on PATH") from None
        out, err = (b.decode(errors="replace").replace("\r\n", "\n") for b in (result.stdout, result.stderr))
        return subprocess.CompletedProcess(result.args, result.returncode, out, err)

    def toplevel(self) -> Path:
        result = self.run("rev-parse", "--show-toplevel", check=False)
        if result.returncode != 0:
            raise UsageError(
                f"{self.path} is not inside a git repository (run ci commands in a service repository)"
            )
        return Path(result.stdout.strip())

    def remote_url(self, remote: str) -> str:
        """The URL a remote name stands for; anything else (a URL, a path) is taken as given."""
        if re.fullmatch(r"[A-Za-z0-9._-]+", remote) and not Path(remote).exists():
            result = self.run("remote", "get-url", Value(remote, "--remote"), check=False)
            if result.returncode != 0:
                raise UsageError(
                    f"--remote {remote!r}: no such remote in {self.path} (give a URL or a remote name)"
                )
            return result.stdout.strip()
        return remote

    def current_branch(self) -> str | None:
        result = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return result.stdout.strip() or None

    def head(self) -> str:
        return self.run("rev-parse", "--verify", "HEAD^{commit}").stdout.strip()

    def config(self, key: str) -> str | None:
        result = self.run("config", "--get", key, check=False)
        return result.stdout.strip() or None

    def fetch(self, url: str, branch: str) -> str:
        """The commit `branch` points at on the remote now. It lands in a private local ref (the `+` forces
        only that local ref; the remote is never forced), not FETCH_HEAD or the remote-tracking branches."""
        result = self.talk(
            url,
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            END_OF_OPTIONS,
            Value(url, "--remote"),
            Value(f"+refs/heads/{branch}:{FETCHED_REF}", "--branch"),
        )
        if result.returncode != 0:
            raise GitError(
                f"cannot fetch branch {branch!r} from {redact(url, self.environ)}: "
                f"{redact(result.stderr.strip(), self.environ)}"
            )
        return self.run("rev-parse", "--verify", END_OF_OPTIONS, f"{FETCHED_REF}^{{commit}}").stdout.strip()

    def read(self, commit: str, path: str) -> str | None:
        """The file as committed, byte for byte (CRLF line endings and a byte order mark kept: the edit
        writes them back); None when the commit does not have it."""
        result = self.run_bytes("cat-file", "blob", Value(f"{commit}:{path}", "file"), check=False)
        if result.returncode != 0:
            return None
        try:
            return result.stdout.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"{path} at {commit[:12]}: not UTF-8 text (byte {exc.start})") from None

    def _mode(self, commit: str, path: str) -> str:
        listed = self.run(
            "ls-tree", END_OF_OPTIONS, Value(commit, "commit"), "--", Value(path, "file")
        ).stdout.split()
        return listed[0] if listed else "100644"

    def commit_files(self, parent: str, files: Mapping[str, str], message: str, identity: Identity) -> str:
        """A new commit: `parent`'s tree with `files` replaced. The index and working tree are not touched."""
        with tempfile.TemporaryDirectory(prefix="gitops-poc-index-") as tmp:
            index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self.run("read-tree", END_OF_OPTIONS, Value(parent, "commit"), env=index)
            for path, text in files.items():
                blob = self.run(
                    "hash-object", "-w", "--stdin", Opt("--path", path), input=text
                ).stdout.strip()
                entry = Value(f"{self._mode(parent, path)},{blob},{path}", "file")
                self.run("update-index", "--add", "--cacheinfo", entry, env=index)
            tree = self.run("write-tree", env=index).stdout.strip()
        return self.run(
            "commit-tree",
            "-p",
            Value(parent, "commit"),
            "-F",
            "-",
            END_OF_OPTIONS,
            Value(tree, "tree"),
            input=message,
            env=identity.environment(),
        ).stdout.strip()

    def push(self, url: str, commit: str, branch: str) -> PushResult:
        """A plain push of `commit` to `branch`: the remote takes it only as a fast-forward. Never forced."""
        spec = Value(f"{commit}:refs/heads/{branch}", "--branch")
        result = self.talk(
            url, "push", "--porcelain", "--quiet", END_OF_OPTIONS, Value(url, "--remote"), spec
        )
        text = redact((result.stdout + "\n" + result.stderr).strip(), self.environ)
        if result.returncode == 0:
            return PushResult(True, False, text)
        return PushResult(False, bool(_RACE.search(text)), text)

    def advance_local(self, commit: str, old: str, paths: Sequence[str]) -> None:
        """Move HEAD (and its branch) from `old` to `commit` and check out `paths` from it."""
        self.run(
            "update-ref",
            "-m",
            "gitops-poc ci",
            END_OF_OPTIONS,
            "HEAD",
            Value(commit, "commit"),
            Value(old, "commit"),
        )
        self.run("checkout", Value(commit, "commit"), "--", *(Value(p, "file") for p in paths))

    def working_copy_differs(self, paths: Sequence[str]) -> list[str]:
        """Those of `paths` with uncommitted changes (staged or not)."""
        result = self.run("status", "--porcelain", "--", *(Value(p, "file") for p in paths))
        return [line[3:] for line in result.stdout.splitlines() if line.strip()]
