"""Options and steps that several commands share."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from gitops_poc.cli.output import err
from gitops_poc.config import Config, load_config
from gitops_poc.errors import UsageError
from gitops_poc.lock import platform_lock
from gitops_poc.platform import Platform
from gitops_poc.publish.remote import RemoteBase
from gitops_poc.secretfile import read_secret
from gitops_poc.tokenhome import Token, gitlab_token

if TYPE_CHECKING:
    from gitops_poc.checkout import Checkout

RootOption = typer.Option(
    Path("."),
    "--root",
    "-C",
    help="Platform folder: holds .env, gitops-config/, services/ and templates/.",
    file_okay=False,
)
EnvFileOption = typer.Option(
    None,
    "--env-file",
    help=(
        "Configuration file; it must exist (default: ROOT/.env, or the built-in defaults when that does not"
        " exist)."
    ),
    dir_okay=False,
)


# Commands that only read the repositories (a pipeline sets GITOPS_REMOTE_BASE); publish writes: no envvar.
ReadRemoteBaseOption = typer.Option(
    None,
    "--remote-base",
    envvar="GITOPS_REMOTE_BASE",
    help="Where the repositories are, as for `publish`: <base>/<group>/<repo>.git (default: ROOT/.remotes; "
    "in a gitops-config clone, the services' value files are read from there). An HTTPS base on GitLab's "
    "address (GITLAB_URL, else CI_SERVER_URL, else https://GITLAB_HOST) reads with GITLAB_TOKEN, else in "
    "GitLab CI the job's CI_JOB_TOKEN (CI_SERVER_URL only); any other base is sent no token.",
)


def env_file_path(root: Path, env_file: Path | None) -> Path:
    return env_file if env_file is not None else root / ".env"


def existing_env_file(root: Path, env_file: Path | None) -> Path | None:
    """The file to read: an explicit --env-file must exist; a missing ROOT/.env means the built-in
    defaults."""
    if env_file is not None:
        if not env_file.exists():
            raise UsageError(f"--env-file {env_file}: no such file (leave the option out to use ROOT/.env)")
        return env_file
    default = env_file_path(root, None)
    if default.exists():
        return default
    err.print(escape(f"no {default}: using the built-in defaults (see .env.example)"))
    return None


def load(root: Path, env_file: Path | None) -> Config:
    return load_config(existing_env_file(root, env_file), os.environ)


TokenFileOption = typer.Option(
    None,
    "--token-file",
    help="Read the GitLab token (scope api) from this file ('-' = stdin) instead of GITLAB_TOKEN.",
    dir_okay=False,
    allow_dash=True,
)
RemoteBaseOption = typer.Option(
    None,
    "--remote-base",
    help="Where the repositories are: <base>/<group>/<repo>.git. A GitLab URL (https://gitlab.example.com), "
    "any git URL, or a folder of bare repositories created on demand (default: ROOT/.remotes). The token "
    "goes only to GitLab's address (GITLAB_URL, else CI_SERVER_URL, else https://GITLAB_HOST).",
)


def remote_token(platform: Platform, base: RemoteBase, token_file: Path | None) -> Token | None:
    """The GitLab token: --token-file when given (read even for a local base: a bad one is reported, never
    passed over), else GITLAB_TOKEN for an http(s) base; bound to GitLab's address (tokenhome), the only
    origin git and the API are ever sent it."""
    value: str | None = read_secret(token_file, "--token-file") if token_file else None
    name = "--token-file" if token_file else "GITLAB_TOKEN"
    if value is None and base.is_http:
        value = os.environ.get("GITLAB_TOKEN")
    token = gitlab_token(value, name, os.environ, platform.config.gitlab_host)
    if token is not None and base.url is not None and base.is_http and not token.belongs_to(base.url):
        err.print(escape(f"note: --remote-base {base.shown()}: {token.withheld(base.url)}"))
    return token


def load_platform(root: Path, env_file: Path | None) -> Platform:
    return Platform(load(root, env_file))


@contextmanager
def platform_checkout(platform: Platform, root: Path, remote_base: str | None) -> Iterator[Checkout]:
    """`root` as a platform folder: itself, or (a published gitops-config clone) a scratch platform folder
    with the services' value files read from `remote_base` (said once when they cannot be)."""
    from gitops_poc import checkout
    from gitops_poc.gitauth import reading_env
    from gitops_poc.publish.remote import parse_remote_base
    from gitops_poc.status.gitside import Repositories

    services = platform.services
    if remote_base is None:
        with checkout.platform_checkout(root, services, None, platform.repo_path) as found:
            _say_missing(found)
            yield found
        return
    base = parse_remote_base(remote_base, root)
    with reading_env(base.url, os.environ, platform.config.gitlab_host) as git_env:
        repositories = Repositories(base, platform.config.git_branch, git_env)
        with checkout.platform_checkout(root, services, repositories, platform.repo_path) as found:
            _say_missing(found)
            yield found


def _say_missing(found: Checkout) -> None:
    if found.published:
        err.print("a clone of gitops-config: read as the platform's gitops-config/", markup=False)
    if found.missing_values:
        first, why = next(iter(found.missing_values.items()))
        err.print(
            escape(
                f"value files of {len(found.missing_values)} service(s) not read (first: {first}: {why}); "
                "their Applications cannot be rendered"
            )
        )


def writer_lock(
    root: Path, command: str, writes: bool, wait_seconds: float = 0.0
) -> AbstractContextManager[None]:
    """The platform folder's lock around planning and writing, for a run that may write (created first);
    taken within `wait_seconds` or refused."""
    if not writes:
        return nullcontext()
    root.mkdir(parents=True, exist_ok=True)
    return platform_lock(root, command, wait_seconds, lambda line: err.print(escape(line)))


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask on a terminal; refuse to guess when nobody can answer."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            "no terminal to confirm on: pass --yes to apply, or --dry-run / --check to only look"
        )
    return typer.confirm(question, default=False)
