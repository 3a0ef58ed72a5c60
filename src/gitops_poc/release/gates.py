"""Promotion gates: does the source environment's Argo CD Application show that it runs the image being
promoted, healthily, for long enough? Pure: the Application object, the image, the commit that brought the
image into the source environment, whether the synced revision contains it, and the clock are given.

Each check yields evidence (what was checked, the value seen) that goes into the promotion commit as
trailers; a failed check names what was expected and what was seen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gitops_poc.delivery.image import Image


@dataclass(frozen=True)
class GateSpec:
    """What a promotion into an environment requires of its source."""

    health: bool = False
    soak: timedelta = timedelta(0)

    @property
    def any(self) -> bool:
        return self.health or self.soak > timedelta(0)

    def describe(self) -> str:
        parts = (["health"] if self.health else []) + ([f"soak {span(self.soak)}"] if self.soak else [])
        return " + ".join(parts) or "none"


# Production is promoted into on evidence only; other tiers need none unless release.yaml says so.
DEFAULT_PRODUCTION = GateSpec(health=True, soak=timedelta(minutes=30))


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    seen: str  # the evidence, or why it fails


@dataclass(frozen=True)
class Evaluation:
    application: str  # what was read: the Argo CD Application, or (push mode) the Helm release
    checks: tuple[Check, ...]
    checked_at: datetime
    subject: str = "application"  # its trailer: Gate-application or Gate-release

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def trailers(self) -> tuple[tuple[str, str], ...]:
        stamp = self.checked_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            (f"Gate-{self.subject}", self.application),
            ("Gate-checked-at", stamp),
            *((f"Gate-{c.name}", c.seen) for c in self.checks),
        )


def span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m" + (f"{seconds % 60:02d}s" if seconds % 60 else "")
    return f"{seconds}s"


def dig(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def soak_check(state: str, since: datetime | None, soak: timedelta, now: datetime) -> Check:
    """Has the source been `state` (healthy, deployed) for `soak`? `since` None: not in it, or since when
    is unknown."""
    if since is None:
        return Check("soak", False, f"not {state} since a known time (needs {span(soak)})")
    ran = now - since
    verdict = ">=" if ran >= soak else "<"
    return Check(
        "soak", ran >= soak, f"{state} since {since:%Y-%m-%dT%H:%M:%SZ}: {span(ran)} {verdict} {span(soak)}"
    )


def synced_revision(application: Mapping[str, Any], values_repo: str) -> str | None:
    """The revision Argo CD synced of the service repository (the values source of a multi-source
    Application, else the single source's)."""
    revisions = dig(application, "status", "sync", "revisions")
    sources = dig(application, "spec", "sources")
    if isinstance(revisions, list) and isinstance(sources, list):
        for source, revision in zip(sources, revisions, strict=False):
            if isinstance(source, Mapping) and _same_repo(str(source.get("repoURL", "")), values_repo):
                return str(revision)
        return None
    revision = dig(application, "status", "sync", "revision")
    return str(revision) if revision else None


def _same_repo(a: str, b: str) -> bool:
    def norm(url: str) -> str:
        return url.lower().rstrip("/").removesuffix(".git")

    return norm(a) == norm(b)


def evaluate(
    application: Mapping[str, Any],
    *,
    name: str,
    image: Image,
    image_commit: str,
    values_repo: str,
    contains: Callable[[str, str], bool],
    spec: GateSpec,
    now: datetime,
) -> Evaluation:
    """Every check `spec` asks for, on `application` (as the API server returned it). `contains(revision,
    commit)` says whether the synced revision has the commit that brought the image in."""
    checks: list[Check] = []
    sync = dig(application, "status", "sync", "status")
    health = dig(application, "status", "health", "status")
    revision = synced_revision(application, values_repo)
    images = dig(application, "status", "summary", "images") or []
    phase = dig(application, "status", "operationState", "phase")
    if spec.health:
        checks.append(Check("sync", sync == "Synced", f"sync status {sync or '(none)'} (needs Synced)"))
        checks.append(Check("health", health == "Healthy", f"health {health or '(none)'} (needs Healthy)"))
        last = f"last sync operation {phase or '(none)'}"
        checks.append(Check("operation", phase == "Succeeded", f"{last} (needs Succeeded)"))
        has = bool(revision) and contains(str(revision), image_commit)
        seen = (
            f"synced revision {revision[:12]} contains {image_commit[:12]}"
            if has and revision
            else f"synced revision {revision[:12] if revision else '(none)'} does not contain "
            f"{image_commit[:12]}, the commit that brought in {image.tag_field}"
        )
        checks.append(Check("revision", has, seen))
        wanted = image.reference
        running = wanted in images
        shown = ", ".join(str(i) for i in images) or "none"
        checks.append(
            Check(
                "image",
                running,
                f"{wanted} running" if running else f"{wanted} not running (running: {shown})",
            )
        )
    if spec.soak > timedelta(0):
        since = parse_time(dig(application, "status", "health", "lastTransitionTime"))
        if since is None:
            since = parse_time(dig(application, "status", "operationState", "finishedAt"))
        checks.append(soak_check("healthy", since if health == "Healthy" else None, spec.soak, now))
    return Evaluation(name, tuple(checks), now)
