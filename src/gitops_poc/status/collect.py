"""The `status` use case: the git matrix from the service repositories, then Argo CD's side when a cluster
answers (git alone otherwise, said once)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from gitops_poc.argocd.preview import default_file, read_applications
from gitops_poc.cluster.kube import ClusterError, Kube
from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.platform import Platform
from gitops_poc.release.freeze import describe
from gitops_poc.release.policy import release_windows
from gitops_poc.release.windows import SyncWindow, Target, WindowError, can_sync, matching
from gitops_poc.status import clusterside
from gitops_poc.status.drift import with_cluster
from gitops_poc.status.gitside import Repositories, RepositoryMissing, read_all, read_histories
from gitops_poc.status.model import Cell, Matrix, Row, Version, git_row

Progress = Callable[[int, int], None]


def selection(
    platform: Platform, services: Sequence[str], envs: Sequence[str]
) -> tuple[list[str], list[str]]:
    """--service and --env checked against the configuration (bad input names the value); empty: all."""
    for option, given, known in (
        ("--service", services, platform.services),
        ("--env", envs, platform.environments),
    ):
        for value in given:
            if value not in known:
                raise UsageError(f"{option} {value!r} is not in the configuration ({', '.join(known)})")
    chosen = [s for s in platform.services if not services or s in services]
    shown = [e for e in platform.environments if not envs or e in envs]
    return chosen, shown


def _with_freeze(cell: Cell, platform: Platform, windows: Sequence[SyncWindow], now: datetime) -> Cell:
    """The cell with the sync window of gitops-config/release.yaml that holds its Application now."""
    if not windows or not cell.git.present:
        return cell
    destination = platform.destination(cell.git.env)
    target = Target(
        platform.application_name(cell.git.service, cell.git.env),
        destination["namespace"],
        destination.get("name", ""),
        destination.get("server", ""),
    )
    try:
        verdict = can_sync(matching(windows, target), now, manual=False)
    except WindowError as exc:
        raise UsageError(f"gitops-config/release.yaml: invalid sync windows: {exc}") from None
    return cell if verdict.allowed else Cell(replace(cell.git, frozen=describe(verdict, now)))


def git_matrix(
    platform: Platform,
    root: Path,
    repositories: Repositories,
    services: Sequence[str],
    envs: Sequence[str],
    now: datetime,
    progress: Progress | None = None,
) -> Matrix:
    """Every environment's history is read (lag needs the previous one); the cells shown are `envs`."""
    environments = platform.environments
    windows = release_windows(root)

    def read_one(service: str) -> dict[str, list[Version]] | str:
        try:
            git_dir, ref = repositories.locate(platform.repo_path(service), service)
            return read_histories(git_dir, ref, environments, service)
        except GitopsError as exc:
            return str(exc)

    with repositories.open():
        found = read_all(services, read_one, progress)
    rows = []
    for service in services:
        result = found[service]
        if isinstance(result, str):
            rows.append(Row(service, {}, (), problem=result))
            continue
        row = git_row(service, dict(result), now)
        cells = {env: _with_freeze(row.cells[env], platform, windows, now) for env in envs}
        rows.append(Row(service, cells, tuple(c for c in row.timeline if c.env in envs)))
    return Matrix(tuple(envs), tuple(rows))


def git_only(matrix: Matrix, note: str) -> Matrix:
    """The matrix without a cluster side, and why (said once)."""
    return Matrix(matrix.environments, matrix.rows, cluster_note=note)


def check_readable(matrix: Matrix) -> None:
    """Not one repository could be read: the command could not do its job (exit 2), not a finding."""
    if matrix.rows and all(row.problem for row in matrix.rows):
        first = matrix.rows[0].problem
        raise RepositoryMissing(f"no service repository could be read ({len(matrix.rows)} tried); {first}")


def generated_applications(root: Path, platform: Platform) -> frozenset[str]:
    """The Applications git generates: the ApplicationSet in gitops-config expanded as Argo CD expands it,
    plus the platform's own `platform-<env>` Applications; the configuration's names without the file."""
    names = {platform.platform_application_name(env) for env in platform.environments}
    path = default_file(root)
    if not path.is_file():
        return frozenset(names | {platform.application_name(s, e) for s, e in platform.pairs})
    return frozenset(names | {app.name for app in read_applications(path)})


def add_cluster(matrix: Matrix, platform: Platform, root: Path, kube: Kube) -> Matrix:
    """Argo CD's side of every cell; a cluster that cannot be read leaves the git side with the reason."""
    try:
        apps = clusterside.read_applications(kube, platform.config.argocd_namespace, platform.project_name)
    except (ClusterError, clusterside.ArgoCdMissing) as exc:
        return git_only(matrix, f"git side only: {exc}")
    generated = generated_applications(root, platform)
    shown_envs = set(matrix.environments)
    shown_services = {row.service for row in matrix.rows}
    filtered = shown_services != set(platform.services)
    cells, identities = {}, {}
    for name, app in apps.items():
        service, env = clusterside.identity(app)
        if (env is not None and env not in shown_envs) or (filtered and service not in shown_services):
            continue  # outside --env / --service
        cells[name] = clusterside.cluster_cell(app)
        identities[name] = (service, env)
    application_of = {
        (r.service, e): platform.application_name(r.service, e)
        for r in matrix.rows
        for e in matrix.environments
    }
    return with_cluster(matrix, application_of, cells, generated, identities)


def cluster(context: str, config_file: str | None = None) -> Kube | str:
    """The Kube client of the context, or why there is none."""
    try:
        return Kube.from_kubeconfig(context, config_file)
    except ClusterError as exc:
        return f"git side only: {exc}"
