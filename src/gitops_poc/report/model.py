"""What the page shows, as plain data: the status matrix, each service's timeline, the least-privilege
matrix aggregated per identity, the lint findings. Pure: the inputs are already read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitops_poc.errors import UsageError
from gitops_poc.status.model import Cell, Matrix, image_text

# The identity's outcome in the least-privilege matrix, worst first.
ACCESS_ORDER = ("leak", "failure", "unchecked", "ok")


@dataclass(frozen=True)
class CellView:
    state: str
    image: str
    lines: tuple[str, ...]  # what the cell says below the image (set by, pin, lag, cluster, drift)


@dataclass(frozen=True)
class RowView:
    service: str
    cells: tuple[CellView, ...]
    problem: str | None


@dataclass(frozen=True)
class Access:
    """One identity (a service's role in one environment) of `vault check`."""

    service: str
    env: str
    role: str
    outcome: str  # one of ACCESS_ORDER
    reads: tuple[str, ...]  # secrets it could read besides its own
    problems: tuple[str, ...]


@dataclass(frozen=True)
class Page:
    environments: tuple[str, ...]
    rows: tuple[RowView, ...]
    states: dict[str, int]
    timelines: dict[str, list[dict[str, Any]]]
    orphans: tuple[dict[str, Any], ...]
    cluster_note: str | None
    access: tuple[Access, ...] | None  # None: no `vault check` output given
    access_counts: dict[str, dict[str, int]]  # env -> outcome -> identities
    findings: tuple[dict[str, Any], ...] | None  # None: lint was not run
    generated: str


def _cell_view(cell: Cell) -> CellView:
    git = cell.git
    if git.problem:
        return CellView("problem", "", (git.problem,))
    if not git.present:
        return CellView("absent", "", ("no values file",))
    lines = []
    if git.set_by is not None:
        pipeline = git.set_by.pipeline or (str(git.record) if git.record else None)
        lines.append(
            f"{git.set_by.short} · {git.set_by.when:%Y-%m-%d %H:%M} · "
            f"{f'pipeline {pipeline}' if pipeline else 'no pipeline'} · {git.set_by.author}"
        )
    if git.pin is not None:
        lines.append(f"pinned{' (expired)' if git.pin_expired else ''} by {git.pin.by}: {git.pin.reason}")
    if git.frozen:
        lines.append(f"frozen: {git.frozen}")
    if git.lag_of is not None and git.lag != 0:  # 0 behind is what `ok` says; one element less per cell
        lines.append(f"{git.lag} behind {git.lag_of}" if git.lag is not None else f"not from {git.lag_of}")
    if cell.cluster is not None:
        c = cell.cluster
        lines.append(f"Argo CD: {c.sync}, {c.health}" + (f" @ {c.revision}" if c.revision else ""))
    lines += [d.text for d in cell.drift]
    return CellView(cell.state, image_text(git.image), tuple(lines))


def access_of(vault: Mapping[str, Any], where: str) -> tuple[Access, ...]:
    """`vault check --output json` as one outcome per identity; a file of another shape is bad input."""
    matrix = vault.get("matrix")
    if not isinstance(matrix, list):
        raise UsageError(
            f"{where}: key `matrix` is missing or not a list (expected `vault check -o json` output)"
        )
    found = []
    for index, row in enumerate(matrix):
        if not isinstance(row, dict) or not all(
            isinstance(row.get(k), str) for k in ("role", "service", "environment")
        ):
            raise UsageError(f"{where}: matrix[{index}] needs the strings role, service and environment")
        own = f"{row['service']}/{row['environment']}"
        given = row.get("reads")
        reads: dict[str, Any] = given if isinstance(given, dict) else {}
        others = tuple(sorted(k for k, v in reads.items() if k != own and v != "denied"))
        extra = [
            f"{k} {row[k]}"
            for k in ("write_own", "list_all", "default_login")
            if row.get(k) not in (None, "denied")
        ]
        problems = tuple(str(p) for p in (row.get("problems") or []))
        binding = tuple(str(b) for b in (row.get("binding") or []))
        if not row.get("checked"):
            outcome = "unchecked"
        elif others or extra or binding:
            outcome = "leak"
        elif problems or reads.get(own) != "read":
            outcome = "failure"
        else:
            outcome = "ok"
        found.append(
            Access(
                row["service"],
                row["environment"],
                row["role"],
                outcome,
                others + tuple(extra) + binding,
                problems,
            )
        )
    return tuple(found)


def build_page(
    matrix: Matrix,
    generated: str,
    vault: tuple[Access, ...] | None = None,
    findings: Sequence[Mapping[str, Any]] | None = None,
) -> Page:
    rows = tuple(
        RowView(
            r.service,
            tuple(_cell_view(r.cells[e]) for e in matrix.environments) if not r.problem else (),
            r.problem,
        )
        for r in matrix.rows
    )
    states = Counter(c.state for r in rows for c in r.cells)
    timelines = {r.service: [c.as_dict() for c in r.timeline] for r in matrix.rows}
    counts: dict[str, dict[str, int]] = {}
    for access in vault or ():
        counts.setdefault(access.env, dict.fromkeys(ACCESS_ORDER, 0))[access.outcome] += 1
    return Page(
        matrix.environments,
        rows,
        dict(states),
        timelines,
        tuple(o.as_dict() for o in matrix.orphans),
        matrix.cluster_note,
        vault,
        counts,
        tuple(dict(f) for f in findings) if findings is not None else None,
        generated,
    )
