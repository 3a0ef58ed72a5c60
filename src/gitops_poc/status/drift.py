"""Drift: what git says against what Argo CD reports, cell by cell, and Applications git no longer generates.
Pure: the inputs are the git cells and the Applications' cells."""

from __future__ import annotations

from collections.abc import Mapping

from gitops_poc.delivery.image import split_tag_field
from gitops_poc.status.model import (
    Cell,
    ClusterCell,
    Drift,
    DriftKind,
    GitCell,
    Matrix,
    Orphan,
    Row,
    Sync,
    image_text,
)


def _running(reference: str) -> tuple[str, str, str | None]:
    """(repository, tag, digest) of an image reference such as `reg:5000/g/svc:1.2@sha256:...`."""
    name, digest = split_tag_field(reference)
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :], digest
    return name, "latest", digest


def runs_git_image(git: GitCell, images: tuple[str, ...]) -> bool:
    """Whether one of the running images is the one git says (the repository only when git names one)."""
    if git.image is None:
        return True
    for reference in images:
        repository, tag, digest = _running(reference)
        same = tag == git.image.tag and digest == git.image.digest
        if same and git.image.repository in (None, repository):
            return True
    return False


def cell_drift(git: GitCell, cluster: ClusterCell | None) -> tuple[Drift, ...]:
    if cluster is None or not git.present:
        return ()
    since = git.set_by.when if git.set_by else None
    if not cluster.found:
        return (
            Drift(
                DriftKind.MISSING, f"git generates {cluster.application}; the cluster has no such Application"
            ),
        )
    found: list[Drift] = []
    if cluster.images and not runs_git_image(git, cluster.images):
        found.append(
            Drift(
                DriftKind.IMAGE,
                f"git says {image_text(git.image)}, the cluster runs {', '.join(cluster.images)}",
                since,
            )
        )
    if cluster.sync == Sync.OUT_OF_SYNC:
        found.append(Drift(DriftKind.OUT_OF_SYNC, f"{cluster.application} is OutOfSync", since))
    if cluster.failed:
        found.append(
            Drift(
                DriftKind.HEALTH,
                f"{cluster.application} is {cluster.health}: {cluster.message or 'no message'}",
            )
        )
    return tuple(found)


def with_cluster(
    matrix: Matrix,
    application_of: Mapping[tuple[str, str], str],
    cells: Mapping[str, ClusterCell],
    generated: frozenset[str],
    identities: Mapping[str, tuple[str | None, str | None]],
) -> Matrix:
    """The matrix with Argo CD's side in every cell, and the Applications git no longer generates.

    `application_of` names the Application git generates for (service, env); `cells` are the cluster's
    Applications by name; `generated` every name the ApplicationSet in git expands to."""
    rows = []
    for row in matrix.rows:
        new_cells = {}
        for env, cell in row.cells.items():
            name = application_of[(row.service, env)]
            cluster = cells.get(name, ClusterCell(name, found=False))
            new_cells[env] = Cell(cell.git, cluster, cell_drift(cell.git, cluster))
        rows.append(Row(row.service, new_cells, row.timeline, row.problem))
    orphans = tuple(
        Orphan(name, *identities.get(name, (None, None)), cell)
        for name, cell in sorted(cells.items())
        if name not in generated
    )
    return Matrix(matrix.environments, tuple(rows), orphans, None, matrix.notes)
