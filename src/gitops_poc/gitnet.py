"""git's network limits: every git command that talks to a remote gets low-speed limits (http), a connect
timeout and keep-alives (ssh) and an overall deadline that ends its process group (any transport, git://
included), so a remote that accepts the connection and never answers ends in bounded time; and it follows no
redirect, and it is handed a token only for a remote on the token's home (gitauth.for_remote), so the token
never goes to another host."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from urllib.parse import urlsplit, urlunsplit

from gitops_poc import proc
from gitops_poc.envseconds import seconds
from gitops_poc.errors import ToolError
from gitops_poc.gitauth import for_remote
from gitops_poc.proc import Part

DEADLINE_VARIABLE = "GITOPS_POC_GIT_DEADLINE"
DEFAULT_DEADLINE = 300.0  # seconds for one fetch, ls-remote or push, from start to end
# Below 1 KB/s for 30 s: curl gives up (GIT_HTTP_LOW_SPEED_LIMIT/_TIME in the environment still win).
LOW_SPEED = ("-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=30")
# No redirect followed: git would ask for (and send) the token again on whatever host it is sent to.
NO_REDIRECTS = ("-c", "http.followRedirects=false")
SSH_COMMAND = "ssh -o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=2"
# What git says when a server wants credentials it was not given.
_WANTS_CREDENTIALS = re.compile(
    r"could not read (Username|Password)|Authentication failed|terminal prompts disabled|"
    r"returned error: 40[13]|HTTP Basic: Access denied|Invalid username or password"
)
_SSH_LIKE = re.compile(r"^(ssh://|git\+ssh://|ssh\+git://|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:)")


class RemoteTimeout(ToolError):
    """A git command talking to a remote did not finish within the deadline; its processes were ended."""


def deadline(environ: Mapping[str, str] | None = None) -> float:
    """GITOPS_POC_GIT_DEADLINE in seconds (default DEFAULT_DEADLINE); UsageError when not positive."""
    return seconds(DEADLINE_VARIABLE, DEFAULT_DEADLINE, environ)


def talk(
    git: Sequence[Part],
    command: Sequence[Part],
    remote: str,
    *,
    env: Mapping[str, str],
    cwd: str | PurePath | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """`git` (the program and its global options) running `command` against `remote`, within the limits.
    An ssh command the user chose (GIT_SSH_COMMAND, GIT_SSH, core.sshCommand) is left alone. A token in
    `env` whose home is another origin is left out; git's failure for want of it then says so (stderr)."""
    env, withheld = for_remote(remote, env)
    extra: dict[str, str] = {}
    if _SSH_LIKE.match(remote) and not (env.get("GIT_SSH_COMMAND") or env.get("GIT_SSH")):
        configured = proc.run([*git, "config", "--get", "core.sshCommand"], cwd=cwd, env=env)
        if not configured.stdout.strip():
            extra["GIT_SSH_COMMAND"] = SSH_COMMAND
    seconds = deadline(env)
    try:
        result = proc.run(
            [*git, *LOW_SPEED, *NO_REDIRECTS, *command], cwd=cwd, env={**env, **extra}, timeout=seconds
        )
    except subprocess.TimeoutExpired:
        name = next((p for p in command if isinstance(p, str) and not p.startswith("-")), "command")
        raise timed_out(name, remote, seconds) from None
    if (
        withheld
        and result.returncode != 0
        and _WANTS_CREDENTIALS.search(result.stderr.decode(errors="replace"))
    ):
        result.stderr = f"the remote asks for credentials: {withheld}".encode()  # callers name it
    return result


def shown(remote: str) -> str:
    """`remote` without a password (a user name stays: `git@host:` is not a secret)."""
    try:
        parts = urlsplit(remote)
    except ValueError:
        return "<unparsable URL>"
    if not parts.scheme or "@" not in parts.netloc:
        return remote
    user, _, host = parts.netloc.rpartition("@")
    if ":" not in user:
        return remote
    return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}"))


def timed_out(command: str, remote: str, seconds: float) -> RemoteTimeout:
    return RemoteTimeout(
        f"git {command} with {shown(remote)} did not finish within {seconds:g} s (the remote accepted the "
        f"connection but did not answer, or answered too slowly; {DEADLINE_VARIABLE} sets the limit)"
    )
