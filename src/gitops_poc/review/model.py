"""The review as plain data: what the merge request does, side by side with the target branch. Nothing here
reads files or runs tools; markdown.py, codequality.py and the JSON output are views of it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from gitops_poc.argocd.applications import FieldChange
from gitops_poc.lint.findings import Finding, Severity
from gitops_poc.render.diff import ManifestChange


class AppChange(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    DELETED = "deleted"


def object_kind(change: ManifestChange) -> str:
    return change.key.split("/", 1)[0]


@dataclass(frozen=True)
class AppReview:
    """One Application the merge request adds, changes or deletes, with its rendered difference."""

    name: str
    service: str
    environment: str
    project: str
    namespace: str
    change: AppChange
    auto_sync: bool
    production: bool
    fields: tuple[FieldChange, ...] = ()  # of the Application itself (chart version, sync policy, ...)
    objects: tuple[ManifestChange, ...] | None = None  # None: not rendered (see note)
    note: str | None = None
    cascades: bool = False  # deleting it deletes its resources too
    chart_version: str | None = None  # the chart version it deploys (head side; base for a deletion)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "service": self.service,
            "environment": self.environment,
            "project": self.project,
            "namespace": self.namespace,
            "change": self.change.value,
            "autoSync": self.auto_sync,
            "production": self.production,
            "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in self.fields],
            "objects": None if self.objects is None else [o.as_dict() for o in self.objects],
            "note": self.note,
            "deletesResources": self.cascades,
            "chartVersion": self.chart_version,
        }


@dataclass(frozen=True)
class ObjectsReview:
    """Platform objects (gitops-config/platform/...) of one file: added, changed, removed."""

    file: str
    objects: tuple[ManifestChange, ...]


@dataclass(frozen=True)
class VaultChange:
    change: str  # create / delete
    what: str  # `policy NAME` / `role NAME: ...`


@dataclass(frozen=True)
class Guard:
    max_deletions: int | None
    deletions: int

    @property
    def tripped(self) -> bool:
        return self.max_deletions is not None and self.deletions > self.max_deletions


@dataclass(frozen=True)
class Review:
    mode: str  # "platform" (gitops-config and the services in one folder) or "service"
    base: str
    head: str
    applications: tuple[AppReview, ...]
    platform_objects: tuple[ObjectsReview, ...] = ()
    vault: tuple[VaultChange, ...] = ()
    lint_introduced: tuple[Finding, ...] = ()
    lint_fixed: tuple[Finding, ...] = ()
    lint_findings: tuple[Finding, ...] = ()  # every finding on the merge request's side (the reports)
    guard: Guard = field(default_factory=lambda: Guard(None, 0))
    errors: tuple[str, ...] = ()  # renders that failed, and why
    notes: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()  # what merging does per environment (service repositories)

    def count(self, change: AppChange) -> int:
        return sum(1 for app in self.applications if app.change is change)

    def with_files_named(self, name: Callable[[str], str]) -> Review:
        """The same review with every lint finding's file renamed (as a gitops-config clone names it)."""

        def renamed(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
            return tuple(replace(f, file=name(f.file)) for f in findings)

        return replace(
            self,
            lint_introduced=renamed(self.lint_introduced),
            lint_fixed=renamed(self.lint_fixed),
            lint_findings=renamed(self.lint_findings),
        )

    def objects_by_kind(self) -> dict[str, Counter[str]]:
        """Kind -> {added/changed/removed: n} over every Application and platform file, kinds sorted."""
        kinds: dict[str, Counter[str]] = {}
        changes = [o for app in self.applications for o in app.objects or ()]
        changes += [o for review in self.platform_objects for o in review.objects]
        for change in changes:
            kinds.setdefault(object_kind(change), Counter())[change.change.value] += 1
        return dict(sorted(kinds.items()))

    @property
    def lint_errors(self) -> int:
        return sum(1 for f in self.lint_introduced if f.severity is Severity.ERROR)

    @property
    def failed(self) -> bool:
        """The verdict: the deletion guard tripped, a render failed or the change brings a lint error."""
        return self.guard.tripped or bool(self.errors) or self.lint_errors > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "base": self.base,
            "head": self.head,
            "summary": {
                "added": self.count(AppChange.ADDED),
                "changed": self.count(AppChange.CHANGED),
                "deleted": self.count(AppChange.DELETED),
                "objects": {kind: dict(sorted(c.items())) for kind, c in self.objects_by_kind().items()},
                "lintIntroduced": len(self.lint_introduced),
                "lintFixed": len(self.lint_fixed),
                "errors": len(self.errors),
            },
            "applications": [app.as_dict() for app in self.applications],
            "platformObjects": [
                {"file": r.file, "objects": [o.as_dict() for o in r.objects]} for r in self.platform_objects
            ],
            "vault": [{"change": v.change, "what": v.what} for v in self.vault],
            "lint": {
                "introduced": [f.to_dict() for f in self.lint_introduced],
                "fixed": [f.to_dict() for f in self.lint_fixed],
            },
            "guard": {
                "maxDeletions": self.guard.max_deletions,
                "deletions": self.guard.deletions,
                "tripped": self.guard.tripped,
            },
            "errors": list(self.errors),
            "notes": list(self.notes),
            "triggers": list(self.triggers),
            "failed": self.failed,
        }
