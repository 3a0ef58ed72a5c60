"""`gitops-poc publish`: push gitops-config and every service repository to their remotes."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from gitops_poc.cli.common import (
    EnvFileOption,
    RemoteBaseOption,
    RootOption,
    TokenFileOption,
    load_platform,
    remote_token,
)
from gitops_poc.cli.output import OutputFormat, err, out, print_json
from gitops_poc.gitauth import askpass_env
from gitops_poc.publish.model import Outcome, RepoResult, Repository
from gitops_poc.publish.remote import parse_remote_base
from gitops_poc.publish.run import publish as publish_all

SHOWN_FILES = 8
_STYLE = {
    Outcome.CREATED: "green",
    Outcome.UPDATED: "yellow",
    Outcome.MERGED: "cyan",
    Outcome.UNCHANGED: "dim",
}


def _show(result: RepoResult, dry_run: bool) -> None:
    verb = (
        {
            Outcome.CREATED: "would create",
            Outcome.UPDATED: "would update",
            Outcome.MERGED: "would merge onto",
            Outcome.UNCHANGED: "unchanged",
        }[result.outcome]
        if dry_run
        else result.outcome.value
    )
    detail = f"{len(result.files)} file(s)" if result.files else "nothing to push"
    if result.remote_commits and result.outcome is not Outcome.CREATED:
        detail += f"; {result.remote_commits} commit(s) made on the remote since the last publish kept"
    if result.remote_created:
        detail += "; new bare repository" if not dry_run else "; the bare repository would be created"
    style = _STYLE[result.outcome]
    out.print(f"  [{style}]{verb:16}[/] {escape(result.repository.path):32} {escape(detail)}")
    for kept in result.withheld:
        err.print(
            f"      [yellow]withheld[/] {escape(result.repository.folder.as_posix())}/{escape(kept.path)}: "
            f"{escape(kept.reason)} (never pushed; add it to .gitignore)"
        )
    if dry_run:
        for delta in result.files[:SHOWN_FILES]:
            out.print(f"      {delta.status} {escape(delta.path)}")
        if len(result.files) > SHOWN_FILES:
            out.print(f"      ... and {len(result.files) - SHOWN_FILES} more (--output json lists them all)")


def publish(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    remote_base: str | None = RemoteBaseOption,
    token_file: Path | None = TokenFileOption,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Fetch and merge, show what would be pushed, push nothing."
    ),
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text or json (the results)."
    ),
) -> int:
    """Push gitops-config and every service repository to their remotes.

    Only what git itself would track in each repository's folder goes in (.gitignore honoured, even
    when the root is not a git repository; symlinks as links). Never pushed, and listed as withheld: any
    credentials file in any spelling (.env, .env.local, .ENV, .env~, prod.env, .secrets.yaml.orig,
    .vault-keys.json, ...) and a link that points outside the folder. A repository folder that is a
    link is refused. To a GitLab URL with a token, the group and the
    missing projects are created through the API first (empty, default branch protected; a service's CI job
    token allowlist admitting gitops-config, whose pipeline reads it). A remote that
    moved on (a team's commit, a CI image bump) is fetched and the root's changes since the last publish
    are merged on top of it; pushes are fast-forward only, never forced. A second run with nothing
    changed pushes nothing.
    """
    platform = load_platform(root, env_file)
    base = parse_remote_base(remote_base, root)
    token = remote_token(platform, base, token_file)
    verb = "Checking what to publish" if dry_run else "Publishing"
    err.print(f"{verb}: {len(platform.services) + 1} repositories -> {escape(base.shown())}")

    def progress(repo: Repository, state: str) -> None:
        if state == "publishing" and output is OutputFormat.text:
            err.print(f"  [dim]{escape(repo.path)} ...[/]")

    absent: set[str] = set()
    if token is not None and base.url is not None and token.belongs_to(base.url):
        from gitops_poc.gitlab.bootstrap import Target, ensure_projects

        for step in ensure_projects(platform, Target(base.url, token), dry_run=dry_run):
            err.print(f"  [green]+[/] GitLab: {escape(step.describe())}" + (" (dry run)" if dry_run else ""))
            if dry_run and step.kind.value == "project":
                absent.add(step.target)
    with askpass_env(token if base.is_http else None) as git_env:
        results = publish_all(
            platform, root, base, dry_run=dry_run, git_env=git_env, progress=progress, absent=absent
        )
    if output is OutputFormat.json:
        print_json(
            {"dry_run": dry_run, "remote_base": base.shown(), "repositories": [r.as_json() for r in results]}
        )
        return 0
    for result in results:
        _show(result, dry_run)
    changed = sum(1 for r in results if r.outcome is not Outcome.UNCHANGED)
    if dry_run:
        err.print(f"{changed} of {len(results)} repositories would change (dry run: nothing pushed)")
    else:
        err.print(
            f"{changed} of {len(results)} repositories pushed"
            if changed
            else "Everything is up to date: nothing pushed"
        )
    return 0
