"""`gitops-poc init`: generate every platform repository from .env (the original init-project.sh)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from gitops_poc.changes import FileChange, apply_changes, summarize
from gitops_poc.cli.common import (
    EnvFileOption,
    ReadRemoteBaseOption,
    RootOption,
    confirm,
    load_platform,
    platform_checkout,
    writer_lock,
)
from gitops_poc.cli.output import OutputFormat, changes_as_json, err, print_json, show_changes
from gitops_poc.errors import ChangesPending, UsageError
from gitops_poc.generate import plan_init
from gitops_poc.layout import GITOPS_CONFIG_DIR, is_published_gitops_config
from gitops_poc.platform import Platform


def describe(platform: Platform) -> str:
    cfg = platform.config
    envs = ", ".join(
        f"{env} -> {platform.namespace(env)}{' (auto-sync)' if platform.auto_sync(env) else ''}"
        for env in platform.environments
    )
    agents = platform.agent_context
    if platform.multi_cluster:
        agents = "; ".join(
            f"{' '.join(platform.environments_of_cluster(c))} -> "
            f"{platform.agent_context_of(platform.environments_of_cluster(c)[0])}"
            for c in platform.agent_clusters
        )
    return (
        f"GitLab group  {cfg.gitlab_group} on {cfg.gitlab_host} (images in {cfg.docker_registry})\nServices  "
        f"    {len(platform.services)}: {' '.join(platform.services)}\nEnvironments  {envs}\nChart        "
        f" {cfg.chart_name} {cfg.chart_version} from {cfg.chart_repo}\nVault prefix  {cfg.vault_path_prefix} "
        f"   GitOps mode {cfg.gitops_mode}    agent {agents}"
    )


def run_plan(
    changes: list[FileChange],
    root: Path,
    *,
    yes: bool,
    check: bool,
    diff: bool,
    dry_run: bool,
    output: OutputFormat,
    what: str,
    outside: list[Path] | None = None,
) -> int:
    """Show a file plan, then check, stop, or apply it after confirmation. Shared by init and new-service."""
    counts = summarize(changes)
    if output is OutputFormat.text:
        if not changes:
            err.print(f"Nothing to change: {root} is up to date.", markup=False)
        else:
            err.print(
                f"{what}: {counts['create']} to create, {counts['update']} to update, "
                f"{counts['delete']} to delete in {root}"
            )
            show_changes(changes, diff=diff)
    applied = False
    if changes and not (check or dry_run):
        if confirm("Write these files?", yes):
            apply_changes(root, changes, outside or ())
            applied = True
            if output is OutputFormat.text:
                err.print(f"[green]Wrote {len(changes)} file(s).[/]")
        else:
            err.print("Nothing written.")
            return 1
    if output is OutputFormat.json:
        print_json(changes_as_json(changes, root=str(root), applied=applied))
    if check and changes:
        raise ChangesPending(f"{len(changes)} file(s) would change; run `gitops-poc init` to update them")
    return 0


def init(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    yes: bool = typer.Option(False, "--yes", "-y", help="Apply without asking (for scripts and CI)."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 when any file would change."),
    diff: bool = typer.Option(False, "--diff", help="Show a unified diff of every change."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan and write nothing."),
    remote_base: str | None = ReadRemoteBaseOption,
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text, or json for scripts."
    ),
) -> int:
    """Generate gitops-config/, services/*/.cicd and templates/service-repo from .env.

    Generated files are rewritten whole; values files are created when missing and otherwise only their
    .env-derived keys are updated in place (comments kept). image.tag is never touched. Re-running
    changes nothing. In a clone of the published gitops-config repository (its pipeline), --check compares
    gitops-config only, with the services' value files read from --remote-base.
    """
    platform = load_platform(root, env_file)
    if output is OutputFormat.text:
        err.print(describe(platform), markup=False)
    if is_published_gitops_config(root):
        return _check_clone(platform, root, remote_base, check, diff, dry_run, output)
    with writer_lock(root, "gitops-poc init", writes=not (check or dry_run)):
        changes = plan_init(platform, root)
        return run_plan(
            changes, root, yes=yes, check=check, diff=diff, dry_run=dry_run, output=output, what="Plan"
        )


def _check_clone(
    platform: Platform,
    root: Path,
    remote_base: str | None,
    check: bool,
    diff: bool,
    dry_run: bool,
    output: OutputFormat,
) -> int:
    """In a clone of the published gitops-config (its pipeline's `init --check`): what init would change in
    gitops-config, named as the clone names it. Writing happens in the platform folder, then `publish`."""
    if not (check or dry_run):
        raise UsageError(
            f"{root} is a clone of the published gitops-config: pass --check or --dry-run here; "
            "run `gitops-poc init` in the platform folder and `gitops-poc publish` to change it"
        )
    with platform_checkout(platform, root, remote_base) as checkout:
        changes = [
            replace(c, path=c.path.relative_to(GITOPS_CONFIG_DIR))
            for c in plan_init(platform, checkout.root)
            if GITOPS_CONFIG_DIR in c.path.parents
        ]
    return run_plan(
        changes, root, yes=False, check=check, diff=diff, dry_run=True, output=output, what="Plan"
    )
