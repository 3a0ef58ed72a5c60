"""Read what helm has deployed for the releases of a plan: `helm history --max 1` (revision, status, chart,
when), `helm get values` (the user-supplied values, which may hold a secret: parsed in memory, never shown)
and `helm get manifest` (the objects of a revision)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gitops_poc.argv import Opt, Part, Value
from gitops_poc.cluster.model import ClusterPlan, HelmRelease
from gitops_poc.cluster.releases import Deployed, Lookup, release_key
from gitops_poc.render.helm import Helm, HelmError, HelmNotFound

READ_TIMEOUT = 60.0


def _target(release: HelmRelease, kube_context: str) -> list[Part]:
    """Options, then the release name after `--`: the name is only ever an operand."""
    context = release.context or kube_context
    return [
        Opt("--namespace", release.namespace),
        Opt("--kube-context", context),
        "--",
        Value(release.name, "release"),
    ]


def read_release(helm: Helm, release: HelmRelease, kube_context: str) -> Lookup:
    try:
        history = helm.run(["history", "--max=1", "--output=json", *_target(release, kube_context)])
    except HelmNotFound as exc:
        return Lookup(unreadable=str(exc))
    except HelmError as exc:
        if "release: not found" in str(exc):
            return Lookup()
        return Lookup(unreadable=str(exc).splitlines()[-1])
    try:
        latest = max(json.loads(history), key=lambda item: int(item["revision"]))
        revision, status, chart = int(latest["revision"]), str(latest["status"]), str(latest["chart"])
        updated = str(latest.get("updated") or "")
    except (ValueError, TypeError, KeyError, AttributeError):
        return Lookup(unreadable="helm history printed no revision")
    try:
        text = helm.run(["get", "values", "--output=json", *_target(release, kube_context)])
    except (HelmError, HelmNotFound) as exc:
        return Lookup(unreadable=str(exc).splitlines()[-1])
    try:
        values: Any = json.loads(text) if text.strip() else None
    except ValueError:
        # Never quote what helm printed: it may hold the release's secrets.
        return Lookup(unreadable="helm get values printed no JSON")
    return Lookup(Deployed(revision, status, chart, values if isinstance(values, Mapping) else {}, updated))


def read_manifest(helm: Helm, release: HelmRelease, kube_context: str, revision: int) -> str:
    """The manifest of one revision (HelmError or HelmNotFound when helm cannot read it). It may hold a
    Secret's data: parsed in memory, never shown."""
    return helm.run(["get", "manifest", Opt("--revision", str(revision)), *_target(release, kube_context)])


def read_releases(plan: ClusterPlan, helm: Helm, kube_context: str) -> dict[tuple[str, str, str], Lookup]:
    """A lookup per release of the plan (read-only helm commands; a failure is a Lookup, not an error)."""
    reader = Helm(helm.binary, timeout=min(helm.timeout, READ_TIMEOUT))
    return {
        release_key(step, kube_context): read_release(reader, step, kube_context)
        for step in plan.steps
        if isinstance(step, HelmRelease)
    }
