"""Applications as plain data, and what changes between two sets of them (added, changed field by field,
deleted). An Application is identified by its namespace and name, as in the cluster: a rename is a deletion
plus an addition, which is exactly how ArgoCD treats it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_poc.errors import GitopsError

RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
SERVICE_LABEL = "app.kubernetes.io/name"
ENVIRONMENT_LABEL = "environment"


@dataclass(frozen=True, eq=False)
class Application:
    """One generated Application: its manifest, the ApplicationSet that generates it and the parameters
    used."""

    manifest: dict[str, Any]
    appset: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.manifest.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.manifest.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def key(self) -> tuple[str, str]:
        return str(self.metadata.get("namespace") or ""), self.name

    @property
    def labels(self) -> dict[str, Any]:
        labels = self.metadata.get("labels")
        return labels if isinstance(labels, dict) else {}

    @property
    def service(self) -> str:
        """The service it deploys: the `service` parameter, else the `app.kubernetes.io/name` label, else the
        name."""
        value = self.params.get("service") or self.labels.get(SERVICE_LABEL)
        return str(value) if isinstance(value, str) and value else self.name

    @property
    def environment(self) -> str:
        """The `env` parameter (the generated ApplicationSet's), else the `environment` label, else "-"."""
        value = self.params.get("env") or self.params.get("environment") or self.labels.get(ENVIRONMENT_LABEL)
        return str(value) if isinstance(value, str) and value else "-"

    @property
    def destination_namespace(self) -> str:
        destination = self.spec.get("destination")
        namespace = destination.get("namespace") if isinstance(destination, dict) else None
        return str(namespace) if namespace else "-"

    @property
    def destination_cluster(self) -> str:
        """The destination cluster: its name, else its server URL (`in-cluster` for ArgoCD's own)."""
        destination = self.spec.get("destination")
        if not isinstance(destination, dict):
            return "-"
        if destination.get("name"):
            return str(destination["name"])
        server = str(destination.get("server") or "")
        return "in-cluster" if server == "https://kubernetes.default.svc" else server or "-"

    @property
    def chart_version(self) -> str:
        """The version of the Helm chart it deploys (its chart source's targetRevision), "-" without one."""
        sources = self.spec.get("sources")
        candidates = sources if isinstance(sources, list) else [self.spec.get("source")]
        for source in candidates:
            if isinstance(source, dict) and source.get("chart"):
                return str(source.get("targetRevision") or "-")
        return "-"

    @property
    def auto_sync(self) -> bool:
        policy = self.spec.get("syncPolicy")
        automated = policy.get("automated") if isinstance(policy, dict) else None
        # `automated: {}` turns automation on; newer ArgoCD lets `enabled: false` switch it off again.
        return isinstance(automated, dict) and automated.get("enabled", True) is not False

    @property
    def cascades(self) -> bool:
        """Deleting it also deletes its Kubernetes resources (the resources finalizer is set)."""
        finalizers = self.metadata.get("finalizers")
        return isinstance(finalizers, list) and any(
            str(f).startswith(RESOURCES_FINALIZER) for f in finalizers
        )


# --- comparison ------------------------------------------------------------------------------------------
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_ABSENT = object()


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: Any  # None when the field is new
    after: Any  # None when the field is gone
    added: bool = False
    removed: bool = False


@dataclass(frozen=True)
class ChangedApplication:
    before: Application
    after: Application
    fields: tuple[FieldChange, ...]

    @property
    def name(self) -> str:
        return self.after.name


@dataclass(frozen=True)
class Comparison:
    added: tuple[Application, ...]
    changed: tuple[ChangedApplication, ...]
    deleted: tuple[Application, ...]
    unchanged: int

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.changed or self.deleted)


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    text = str(key)
    if _IDENT.match(text):
        return f"{path}.{text}" if path else text
    return f'{path}["{text}"]'


def field_changes(before: Any, after: Any, path: str = "") -> list[FieldChange]:
    """Leaf differences: maps are compared key by key, lists of equal length item by item."""
    if before == after and type(before) is type(after):
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[FieldChange] = []
        for key in list(before) + [k for k in after if k not in before]:
            b, a = before.get(key, _ABSENT), after.get(key, _ABSENT)
            here = _join(path, key)
            if b is _ABSENT:
                out.append(FieldChange(here, None, a, added=True))
            elif a is _ABSENT:
                out.append(FieldChange(here, b, None, removed=True))
            else:
                out.extend(field_changes(b, a, here))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            out.extend(field_changes(b, a, _join(path, i)))
        return out
    return [FieldChange(path or ".", before, after)]


def compare(base: Iterable[Application], head: Iterable[Application]) -> Comparison:
    """What moving from `base` to `head` does to the Applications in the cluster."""
    before = {app.key: app for app in base}
    after = {app.key: app for app in head}
    added = tuple(app for key, app in after.items() if key not in before)
    deleted = tuple(app for key, app in before.items() if key not in after)
    changed: list[ChangedApplication] = []
    unchanged = 0
    for key, app in after.items():
        old = before.get(key)
        if old is None:
            continue
        fields = field_changes(old.manifest, app.manifest)
        if fields:
            changed.append(ChangedApplication(old, app, tuple(fields)))
        else:
            unchanged += 1
    return Comparison(added, tuple(changed), deleted, unchanged)


def summary(apps: Sequence[Application], comparison: Comparison | None) -> dict[str, int]:
    counts = {"applications": len(apps)}
    if comparison is not None:
        counts.update(
            added=len(comparison.added),
            changed=len(comparison.changed),
            deleted=len(comparison.deleted),
            unchanged=comparison.unchanged,
        )
    return counts


class TooManyDeletions(GitopsError):
    """The change would delete more Applications than --max-deletions allows."""

    exit_code = 1


@dataclass(frozen=True)
class PlanResult:
    file: Path
    applications: tuple[Application, ...]
    base: str | None = None  # the revision compared with
    base_applications: tuple[Application, ...] = ()
    comparison: Comparison | None = None


def check_deletions(result: PlanResult, max_deletions: int | None) -> None:
    """Raise TooManyDeletions when the change deletes more than `max_deletions` Applications."""
    if max_deletions is None or result.comparison is None:
        return
    deleted = result.comparison.deleted
    if len(deleted) > max_deletions:
        names = ", ".join(app.name for app in deleted[:10]) + (", ..." if len(deleted) > 10 else "")
        raise TooManyDeletions(
            f"this change deletes {len(deleted)} Application(s), more than --max-deletions {max_deletions}:"
            f" {names}. A rename is a deletion too; if this is intended, raise --max-deletions."
        )
