"""`gitops-poc new-service NAME`: scaffold a service repository from the template and register it."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from gitops_poc.changes import FileChange, change_if_different
from gitops_poc.cli.common import EnvFileOption, RootOption, env_file_path, load, writer_lock
from gitops_poc.cli.init import run_plan
from gitops_poc.cli.output import OutputFormat, err
from gitops_poc.config import Config, parse_config, service_name_error
from gitops_poc.envfile import set_key
from gitops_poc.errors import ConfigError, UsageError
from gitops_poc.fileio import ENV_FILE
from gitops_poc.generate import plan_init
from gitops_poc.platform import Platform
from gitops_poc.yamlio import read_text


def check_name(name: str) -> None:
    """The argument on its own, before any file is read: blamed on NAME, not on a .env line."""
    if reason := service_name_error(name):
        raise UsageError(f"NAME {name!r}: {reason}")


def plan_new_service(
    root: Path, env_file: Path, name: str, current: Config
) -> tuple[Platform, list[FileChange]]:
    """Add `name` to SERVICES in the .env file (`current` is what it holds now) and plan what follows from
    it."""
    if "SERVICES" in os.environ:
        raise UsageError("SERVICES is set in the process environment, which overrides .env; unset it first")
    services = current.services if name in current.services else (*current.services, name)
    previous = read_text(env_file, kind=ENV_FILE)
    updated = set_key(previous, "SERVICES", " ".join(services))
    # Validate the new list exactly as a later load will see it; what can still fail involves the other
    # names (a `<service>-<env>` collision, a too long Application name), so the argument is to blame.
    try:
        config = parse_config(updated, str(env_file), os.environ)
    except ConfigError as exc:
        detail = str(exc).removeprefix(f"{exc.source}: ") if exc.source else str(exc)
        raise UsageError(f"NAME {name!r}: with it, {detail}") from None
    platform = Platform(config)
    relative_env = Path(os.path.relpath(env_file, root))
    changes = []
    if name not in current.services and (
        change := change_if_different(relative_env, updated, previous, "SERVICES")
    ):
        changes.append(change)
    changes.extend(plan_init(platform, root))
    return platform, changes


def new_service(
    name: str = typer.Argument(
        ..., help="Service name: lowercase letters, digits and '-', starting with a letter."
    ),
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    yes: bool = typer.Option(False, "--yes", "-y", help="Apply without asking."),
    diff: bool = typer.Option(False, "--diff", help="Show a unified diff of every change."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan and write nothing."),
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text, or json for scripts."
    ),
) -> int:
    """Create services/NAME from templates/service-repo (name filled in everywhere), add NAME to SERVICES
    in .env and regenerate gitops-config. Running it again for an existing service changes nothing."""
    check_name(name)
    # An explicit --env-file must exist; without one, a missing ROOT/.env is created with SERVICES only.
    current = load(root, env_file)
    with writer_lock(root, f"gitops-poc new-service {name}", writes=not dry_run):
        _, changes = plan_new_service(root, env_file_path(root, env_file), name, current)
        if output is OutputFormat.text and not changes:
            err.print(f"Service {name} already exists and is up to date.", markup=False)
        # The .env file is written where the user said it is, even outside the platform folder.
        outside = [Path(os.path.relpath(env_file_path(root, env_file), root))]
        return run_plan(
            changes,
            root,
            yes=yes,
            check=False,
            diff=diff,
            dry_run=dry_run,
            output=output,
            what=f"New service {name}",
            outside=outside,
        )
