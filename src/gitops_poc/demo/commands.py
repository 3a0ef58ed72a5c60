"""Running the demo's commands as a user would, with their output kept in the workspace's log folder."""

from __future__ import annotations

import os
import re
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from gitops_poc.errors import GitopsError
from gitops_poc.proc import run

TOOL = "gitops-poc"
NOISE = "using the built-in defaults"  # said by every command: the demo runs on them, and says so once


class Reporter(Protocol):
    """Where the demo shows its progress (the CLI prints it)."""

    def step(self, number: int, total: int, title: str) -> None: ...
    def command(self, shown: str) -> None: ...
    def output(self, line: str) -> None: ...
    def note(self, text: str) -> None: ...


class DemoFailed(GitopsError):
    """A demo step did not do what it shows; the message names the command and its log."""


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


class Shell:
    """Runs commands in the workspace, shows each one and (some of) its output, and logs all of it."""

    def __init__(self, reporter: Reporter, logs: Path, env: Mapping[str, str]) -> None:
        self.reporter, self.logs, self.env = reporter, logs, dict(env)
        self.count = 0

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        expect: Sequence[int] = (0,),
        show: int = 12,
        grep: str | None = None,
        quiet: bool = False,
    ) -> Result:
        """Run `argv` (`gitops-poc` first means this tool, in this interpreter); fail unless the exit code is
        one of `expect`. Shows at most `show` lines of its output (those matching the regex `grep`)."""
        shown = " ".join(shlex.quote(a) for a in argv)
        real = [sys.executable, "-m", "gitops_poc", *argv[1:]] if argv[0] == TOOL else list(argv)
        if not quiet:
            self.reporter.command(shown)
        started = time.monotonic()
        # In a process group of its own that ends with it (normal exit, an error, Ctrl-C or SIGTERM to the
        # demo): nothing it started is left running.
        proc = run(real, cwd=cwd, env={**self.env, **(env or {})}, text=True)
        self.count += 1
        self.logs.mkdir(parents=True, exist_ok=True)
        # Named after the command and its subcommands (`gitops-poc vault check`), not its paths or values.
        words = [Path(argv[0]).name, *(a for a in argv[1:3] if re.fullmatch(r"[a-z][a-z0-9:-]*", a))]
        log = self.logs / f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9_.]+', '-', '-'.join(words))}.log"
        log.write_text(
            f"$ {shown}\n# exit {proc.returncode} after {time.monotonic() - started:.1f} s\n"
            f"{proc.stdout}{proc.stderr}",
            encoding="utf-8",
        )
        if proc.returncode not in expect:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
            raise DemoFailed(
                f"`{shown}` exited {proc.returncode} (expected {' or '.join(map(str, expect))}); "
                f"full output in {log}:\n{tail}"
            )
        if not quiet:
            lines = [
                line
                for line in (proc.stdout + proc.stderr).splitlines()
                if line.strip() and NOISE not in line
            ]
            if grep is not None:
                lines = [line for line in lines if re.search(grep, line)]
            for line in lines[:show]:
                self.reporter.output(line)
            if len(lines) > show:
                self.reporter.output(f"... ({len(lines) - show} more lines in {log})")
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def tool_env(self) -> dict[str, str]:
        return self.env


IDENTITY = ("Demo Developer", "dev@demo.invalid")


def base_env(extra_path: Sequence[Path], gitconfig: Path | None = None) -> dict[str, str]:
    """The environment every command gets: this interpreter's scripts and the tools first on PATH, no
    credentials from the user's shell, a fixed git identity, and (`gitconfig`) a git configuration of the
    demo's own instead of the user's (gitlab-ci-local asks `git config user.name`)."""
    dropped = ("VAULT_ADDR", "VAULT_TOKEN", "GITLAB_TOKEN", "GITLAB_URL", "KUBECONFIG", "CI_PUSH_TOKEN")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    path = [str(p) for p in (Path(sys.executable).parent, *extra_path)]
    env["PATH"] = os.pathsep.join([*path, env.get("PATH", "")])
    name, email = IDENTITY
    env.update(
        {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
    )
    if gitconfig is not None:
        env["GIT_CONFIG_GLOBAL"] = str(gitconfig)
    return env


def write_gitconfig(path: Path) -> None:
    name, email = IDENTITY
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"[user]\n\tname = {name}\n\temail = {email}\n[init]\n\tdefaultBranch = main\n", encoding="utf-8"
    )
