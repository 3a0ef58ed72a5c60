"""Options and steps that several commands share."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from gitops_poc.config import Config, load_config
from gitops_poc.platform import Platform

RootOption = typer.Option(
    Path("."), "--root", "-C", help="Platform folder: holds .env, gitops-config/, services/ and templates/.",
    file_okay=False,
)
EnvFileOption = typer.Option(
    None, "--env-file", help="Configuration file (default: ROOT/.env; built-in defaults when it does not exist).",
    dir_okay=False,
)


def env_file_path(root: Path, env_file: Path | None) -> Path:
    return env_file if env_file is not None else root / ".env"


def load(root: Path, env_file: Path | None) -> Config:
    return load_config(env_file_path(root, env_file), os.environ)


def load_platform(root: Path, env_file: Path | None) -> Platform:
    return Platform(load(root, env_file))


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask on a terminal; refuse to guess when nobody can answer."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        from gitops_poc.errors import UsageError

        raise UsageError("no terminal to confirm on: pass --yes to apply, or --dry-run / --check to only look")
    return typer.confirm(question, default=False)
