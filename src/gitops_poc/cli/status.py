"""`gitops-poc status`: what runs where, from git and (when a cluster answers) Argo CD; exit 1 on drift."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from gitops_poc.cli.common import EnvFileOption, RootOption, load_platform
from gitops_poc.cli.output import OutputFormat, err, out, print_json
from gitops_poc.cli.waiting import Waiting
from gitops_poc.platform import Platform
from gitops_poc.status.model import Cell, Matrix, image_text

STYLE = {
    "ok": "green",
    "behind": "yellow",
    "pinned": "cyan",
    "frozen": "cyan",
    "drift": "red",
    "failed": "red",
    "problem": "red",
    "absent": "dim",
}
RemoteBaseOption = typer.Option(
    None,
    "--remote-base",
    help="Where the repositories are, as for `publish`: <base>/<group>/<repo>.git (default: ROOT/.remotes). "
    "An HTTPS base reads GITLAB_TOKEN.",
)
ServiceOption = typer.Option([], "--service", "-s", help="Only this service (repeatable).")
EnvOption = typer.Option([], "--env", "-e", help="Only this environment (repeatable).")
ContextOption = typer.Option(
    None, "--kube-context", help="The kube context of Argo CD's cluster (default: KUBE_CONTEXT)."
)
NoClusterOption = typer.Option(False, "--no-cluster", help="Git side only; do not ask the cluster.")


def read_matrix(
    platform: Platform,
    root: Path,
    remote_base: str | None,
    services: list[str],
    envs: list[str],
    kube_context: str | None,
    no_cluster: bool,
) -> Matrix:
    """The status matrix (shared with `report`); progress and the one note about the cluster on stderr."""
    from gitops_poc.delivery.pins import now_utc
    from gitops_poc.gitauth import askpass_env
    from gitops_poc.publish.remote import parse_remote_base
    from gitops_poc.status import collect
    from gitops_poc.status.gitside import Repositories

    chosen, shown = collect.selection(platform, services, envs)
    base = parse_remote_base(remote_base, root)
    with askpass_env(os.environ.get("GITLAB_TOKEN") if base.is_http else None) as git_env:
        repositories = Repositories(base, platform.config.git_branch, git_env)
        with Waiting(err) as waiting:
            waiting.start(f"reading the history of {len(chosen)} service repositories in {base.shown()}")
            matrix = collect.git_matrix(platform, root, repositories, chosen, shown, now_utc())
            collect.check_readable(matrix)
            context = kube_context or platform.config.kube_context
            kube = None if no_cluster else collect.cluster(context)
            if no_cluster:
                matrix = collect.git_only(matrix, "git side only (--no-cluster)")
            elif isinstance(kube, str):
                matrix = collect.git_only(matrix, kube)
            elif kube is not None:
                waiting.start(f"reading Argo CD's Applications (kube context {context})")
                matrix = collect.add_cluster(matrix, platform, root, kube)
    if matrix.cluster_note:
        err.print(escape(matrix.cluster_note))
    return matrix


def _cell_text(cell: Cell) -> str:
    git = cell.git
    if git.problem:
        return f"[red]problem[/]\n{escape(git.problem)}"
    if not git.present:
        return "[dim]no values file[/]"
    lines = [f"[{STYLE[cell.state]}]{cell.state}[/] {escape(image_text(git.image))}"]
    if git.set_by is not None:
        pipeline = git.set_by.pipeline or (str(git.record) if git.record else None)
        lines.append(
            escape(
                f"{git.set_by.short} {git.set_by.when:%Y-%m-%d %H:%M} "
                f"{f'pipeline {pipeline}' if pipeline else 'no pipeline'} by {git.set_by.author}"
            )
        )
    if git.pin is not None:
        lines.append(escape(f"pinned{' (expired)' if git.pin_expired else ''}: {git.pin.reason}"))
    if git.frozen:
        lines.append(escape(f"frozen: {git.frozen}"))
    if git.lag_of is not None:
        lines.append(
            escape(f"{git.lag} behind {git.lag_of}" if git.lag is not None else f"not from {git.lag_of}")
        )
    if cell.cluster is not None:
        c = cell.cluster
        lines.append(escape(f"{c.sync}/{c.health}" + (f" @{c.revision[:8]}" if c.revision else "")))
    lines += [f"[red]{escape(d.text)}[/]" for d in cell.drift]
    return "\n".join(lines)


def show(matrix: Matrix) -> None:
    table = Table(show_lines=True)
    table.add_column("service")
    for env in matrix.environments:
        table.add_column(env)
    for row in matrix.rows:
        if row.problem:
            table.add_row(
                escape(row.service), f"[red]{escape(row.problem)}[/]", *[""] * (len(matrix.environments) - 1)
            )
            continue
        table.add_row(escape(row.service), *(_cell_text(row.cells[e]) for e in matrix.environments))
    out.print(table)
    for orphan in matrix.orphans:
        out.print(
            f"[red]orphan[/] {escape(orphan.application)}: in the cluster ({escape(orphan.cell.sync)}/"
            f"{escape(orphan.cell.health)}), no longer generated by git"
        )
    summary = f"{len(matrix.rows)} service(s), {matrix.drifts} drift(s), {matrix.failed} failed health"
    err.print(escape(summary))


def status(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    remote_base: str | None = RemoteBaseOption,
    service: list[str] = ServiceOption,
    env: list[str] = EnvOption,
    kube_context: str | None = ContextOption,
    no_cluster: bool = NoClusterOption,
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text, or json for scripts."
    ),
) -> int:
    """One row per service, one column per environment: the image (tag, short digest), the commit and
    pipeline that set it and when, pins, how many images each environment lags the one before it; with a
    cluster, Argo CD's sync, health, running images and revision, and drift (git says X, the cluster runs Y;
    Applications git no longer generates). Read-only. Exit 1 on drift or a failed health."""
    matrix = read_matrix(
        load_platform(root, env_file), root, remote_base, service, env, kube_context, no_cluster
    )
    if output is OutputFormat.json:
        print_json(matrix.as_dict())
    else:
        show(matrix)
    return 1 if matrix.finding else 0
