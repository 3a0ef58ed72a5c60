"""The status matrix as plain data: one row per service, one cell per environment. Pure: no git, no cluster.

A cell's git side comes from the history of the environment's values file (each version read once, oldest
first); the cluster side from the Argo CD Application of the same service and environment; drift.py compares
the two.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from gitops_poc.delivery.image import Image
from gitops_poc.delivery.pins import Pin

SHORT_DIGEST = 12  # hex digits after "sha256:", as registries' UIs show them
_PROMOTED_FROM = re.compile(r"\): promote image \S* ?from (\S+)")


class ChangeKind(StrEnum):
    CREATED = "created"  # the file's first version
    BUMP = "bump"  # a pipeline set a new image
    PROMOTION = "promotion"  # the image of the previous environment was copied
    ROLLBACK = "rollback"  # an image the environment ran before came back
    PIN = "pin"
    UNPIN = "unpin"
    EDIT = "edit"  # anything else in the file (a team's values change)
    REMOVED = "removed"  # the file was deleted


@dataclass(frozen=True)
class Commit:
    id: str
    author: str
    when: datetime
    subject: str
    trailers: tuple[tuple[str, str], ...] = ()
    order: int = 0  # position in the repository's history, oldest first (times tie within a second)

    @property
    def short(self) -> str:
        return self.id[:8]

    @property
    def pipeline(self) -> str | None:
        """The `Pipeline:` trailer write-back commits carry (a number or the pipeline's URL)."""
        return next((v for k, v in self.trailers if k.lower() == "pipeline"), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "commit": self.id,
            "author": self.author,
            "when": iso(self.when),
            "subject": self.subject,
            "pipeline": self.pipeline,
        }


@dataclass(frozen=True)
class Version:
    """One version of an environment's values file, as a commit left it."""

    commit: Commit
    present: bool  # False: the commit deleted the file
    image: Image | None = None
    record: int | None = None  # the pipeline recorded beside the tag
    pin: Pin | None = None
    problem: str | None = None  # the file could not be read (bad YAML, an unreadable pin marker)


@dataclass(frozen=True)
class Change:
    env: str
    kind: ChangeKind
    commit: Commit
    image: Image | None
    previous: Image | None = None
    pin: Pin | None = None
    source: str | None = None  # the environment a promotion came from

    def describe(self) -> str:
        shown = image_text(self.image)
        return {
            ChangeKind.CREATED: f"created with {shown}",
            ChangeKind.BUMP: f"{image_text(self.previous)} -> {shown}",
            ChangeKind.PROMOTION: f"{shown} promoted from {self.source or '?'}",
            ChangeKind.ROLLBACK: f"{image_text(self.previous)} -> {shown} (an earlier image again)",
            ChangeKind.PIN: f"pinned: {self.pin.reason}" if self.pin else "pinned",
            ChangeKind.UNPIN: "unpinned",
            ChangeKind.EDIT: "values edited",
            ChangeKind.REMOVED: "values file removed",
        }[self.kind]

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "kind": self.kind.value,
            "text": self.describe(),
            "image": image_dict(self.image),
            **self.commit.as_dict(),
        }


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def short_digest(digest: str | None) -> str | None:
    return digest.removeprefix("sha256:")[:SHORT_DIGEST] if digest else None


def image_text(image: Image | None) -> str:
    if image is None:
        return "no image"
    digest = short_digest(image.digest)
    return image.tag + (f"@{digest}" if digest else "")


def image_dict(image: Image | None) -> dict[str, Any] | None:
    if image is None:
        return None
    return {
        "repository": image.repository,
        "tag": image.tag,
        "digest": image.digest,
        "short_digest": short_digest(image.digest),
    }


def same_image(a: Image | None, b: Image | None) -> bool:
    """Tag and digest decide; a repository only when both name one (an environment file may leave it to
    default.yaml)."""
    if a is None or b is None:
        return a is b
    if a.tag != b.tag or a.digest != b.digest:
        return False
    return a.repository is None or b.repository is None or a.repository == b.repository


def changes(env: str, versions: Sequence[Version]) -> list[Change]:
    """What each version changed, oldest first (a version that changed neither image nor pin is an edit)."""
    found: list[Change] = []
    before: Version | None = None
    seen: list[Image] = []
    for version in versions:
        commit = version.commit
        if not version.present:
            found.append(Change(env, ChangeKind.REMOVED, commit, None, before.image if before else None))
        elif before is None or not before.present:
            found.append(Change(env, ChangeKind.CREATED, commit, version.image))
        else:
            if not same_image(before.image, version.image):
                found.append(_image_change(env, commit, version.image, before.image, seen))
            if version.pin is not None and version.pin != before.pin:
                found.append(Change(env, ChangeKind.PIN, commit, version.image, pin=version.pin))
            elif version.pin is None and before.pin is not None:
                found.append(Change(env, ChangeKind.UNPIN, commit, version.image, pin=before.pin))
            if not found or found[-1].commit is not commit:
                found.append(Change(env, ChangeKind.EDIT, commit, version.image))
        if version.image is not None:
            seen.append(version.image)
        before = version
    return found


def _image_change(
    env: str, commit: Commit, image: Image | None, previous: Image | None, seen: Sequence[Image]
) -> Change:
    promoted = _PROMOTED_FROM.search(commit.subject)
    if promoted:
        return Change(env, ChangeKind.PROMOTION, commit, image, previous, source=promoted.group(1))
    kind = ChangeKind.BUMP
    # `ci rollback` writes Rollback-from/-to/-source lines; an image seen before is one too.
    rolled_back = any(k.lower().startswith("rollback") for k, _ in commit.trailers)
    if rolled_back or any(same_image(image, s) for s in seen):
        kind = ChangeKind.ROLLBACK
    return Change(env, kind, commit, image, previous)


def set_by(versions: Sequence[Version]) -> Version | None:
    """The version that set the image the file holds now: the first of the newest run of that image."""
    if not versions or not versions[-1].present or versions[-1].image is None:
        return None
    current = versions[-1].image
    found = versions[-1]
    for version in reversed(versions):
        if not version.present or not same_image(version.image, current):
            break
        found = version
    return found


def lag(previous: Sequence[Version], image: Image | None) -> int | None:
    """How many images the previous environment went through after the one this environment runs: 0 when
    both run the same image, None when the previous environment never ran it."""
    if image is None:
        return None
    behind = 0
    last: Image | None = None
    for version in reversed(previous):
        if version.image is None or not version.present:
            continue
        if same_image(version.image, image):
            return behind
        if last is None or not same_image(version.image, last):
            behind += 1
            last = version.image
    return None


@dataclass(frozen=True)
class GitCell:
    service: str
    env: str
    present: bool  # the values file exists on the branch
    image: Image | None = None
    record: int | None = None
    set_by: Commit | None = None
    pin: Pin | None = None
    pin_expired: bool = False
    lag: int | None = None  # images behind the previous environment (None: not comparable)
    lag_of: str | None = None  # the previous environment
    problem: str | None = None
    frozen: str | None = None  # the sync window of gitops-config/release.yaml holding it now, and until when

    def as_dict(self) -> dict[str, Any]:
        return {
            "present": self.present,
            "frozen": self.frozen,
            "image": image_dict(self.image),
            "pipeline": self.record,
            "set_by": self.set_by.as_dict() if self.set_by else None,
            "pin": None if self.pin is None else {**self.pin.as_dict(), "expired": self.pin_expired},
            "lag": None if self.lag_of is None else {"behind": self.lag, "of": self.lag_of},
            "problem": self.problem,
        }


class Sync(StrEnum):
    SYNCED = "Synced"
    OUT_OF_SYNC = "OutOfSync"
    UNKNOWN = "Unknown"


FAILED_HEALTH = frozenset({"Degraded", "Missing"})


@dataclass(frozen=True)
class ClusterCell:
    """Argo CD's side of a cell: its Application's status."""

    application: str
    found: bool
    sync: str = Sync.UNKNOWN.value
    health: str = "Unknown"
    revision: str | None = None
    images: tuple[str, ...] = ()
    last_synced: datetime | None = None
    message: str | None = None

    @property
    def failed(self) -> bool:
        return self.found and self.health in FAILED_HEALTH

    def as_dict(self) -> dict[str, Any]:
        return {
            "application": self.application,
            "found": self.found,
            "sync": self.sync,
            "health": self.health,
            "revision": self.revision,
            "images": list(self.images),
            "last_synced": iso(self.last_synced) if self.last_synced else None,
            "message": self.message,
        }


class DriftKind(StrEnum):
    IMAGE = "image"  # the cluster runs another image than git says
    OUT_OF_SYNC = "out-of-sync"
    MISSING = "missing"  # git generates an Application the cluster does not have
    HEALTH = "health"  # Degraded or Missing
    ORPHAN = "orphan"  # an Application git no longer generates


@dataclass(frozen=True)
class Drift:
    kind: DriftKind
    text: str
    since: datetime | None = None  # when git changed what the cluster has not followed

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "text": self.text, "since": iso(self.since) if self.since else None}


@dataclass(frozen=True)
class Cell:
    git: GitCell
    cluster: ClusterCell | None = None
    drift: tuple[Drift, ...] = ()

    @property
    def state(self) -> str:
        """One word for the cell (the page colours it and prints it)."""
        if self.git.problem:
            return "problem"
        if not self.git.present:
            return "absent"
        if any(d.kind is not DriftKind.HEALTH for d in self.drift):
            return "drift"
        if self.cluster is not None and self.cluster.failed:
            return "failed"
        if self.git.pin is not None and not self.git.pin_expired:
            return "pinned"
        if self.git.frozen:
            return "frozen"
        if self.git.lag:
            return "behind"
        return "ok"

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            **self.git.as_dict(),
            "cluster": self.cluster.as_dict() if self.cluster else None,
            "drift": [d.as_dict() for d in self.drift],
        }


@dataclass(frozen=True)
class Row:
    service: str
    cells: dict[str, Cell]
    timeline: tuple[Change, ...] = ()  # every environment's changes, newest first
    problem: str | None = None  # the repository could not be read

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "problem": self.problem,
            "environments": {env: cell.as_dict() for env, cell in self.cells.items()},
        }


@dataclass(frozen=True)
class Orphan:
    """An Application in the cluster that the ApplicationSet in git no longer generates."""

    application: str
    service: str | None
    env: str | None
    cell: ClusterCell

    def as_dict(self) -> dict[str, Any]:
        return {"service": self.service, "env": self.env, **self.cell.as_dict()}


@dataclass(frozen=True)
class Matrix:
    environments: tuple[str, ...]
    rows: tuple[Row, ...]
    orphans: tuple[Orphan, ...] = ()
    cluster_note: str | None = None  # why there is no cluster side (None: there is one)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def drifts(self) -> int:
        in_cells = sum(1 for r in self.rows for c in r.cells.values() if c.drift)
        return in_cells + len(self.orphans)

    @property
    def failed(self) -> int:
        return sum(
            1 for r in self.rows for c in r.cells.values() if c.cluster is not None and c.cluster.failed
        )

    @property
    def finding(self) -> bool:
        """Exit 1: drift or a failed health (a scheduled pipeline alerts on it)."""
        return bool(self.drifts or self.failed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "environments": list(self.environments),
            "cluster": None if self.cluster_note else "read",
            "cluster_note": self.cluster_note,
            "summary": {"services": len(self.rows), "drift": self.drifts, "failed_health": self.failed},
            "services": [row.as_dict() for row in self.rows],
            "orphans": [o.as_dict() for o in self.orphans],
            "notes": list(self.notes),
        }


def git_row(service: str, histories: dict[str, Sequence[Version]], now: datetime) -> Row:
    """A service's row from the versions of each environment's values file (environments in order)."""
    cells: dict[str, Cell] = {}
    timeline: list[Change] = []
    previous: tuple[str, Sequence[Version]] | None = None
    for env, versions in histories.items():
        timeline += changes(env, versions)
        cells[env] = Cell(_git_cell(service, env, versions, previous, now))
        previous = (env, versions)
    timeline.sort(key=lambda c: c.commit.order, reverse=True)  # history order: clocks may disagree
    return Row(service, cells, tuple(timeline))


def _git_cell(
    service: str,
    env: str,
    versions: Sequence[Version],
    previous: tuple[str, Sequence[Version]] | None,
    now: datetime,
) -> GitCell:
    if not versions or not versions[-1].present:
        return GitCell(service, env, present=False)
    current = versions[-1]
    origin = set_by(versions)
    behind = lag(previous[1], current.image) if previous is not None else None
    return GitCell(
        service,
        env,
        present=True,
        image=current.image,
        record=current.record,
        set_by=origin.commit if origin else None,
        pin=current.pin,
        pin_expired=current.pin.expired(now) if current.pin else False,
        lag=behind,
        lag_of=previous[0] if previous is not None else None,
        problem=current.problem,
    )
