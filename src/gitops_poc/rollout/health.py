"""Is a wave's environment healthy on the new chart version? Read from its Argo CD Applications (the same
objects `ci promote`'s gates read): pure, the caller fetches them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops_poc.argocd.applications import Application
from gitops_poc.release.gates import dig


def not_ready(name: str, app: Mapping[str, Any] | None, version: str) -> str | None:
    """Why Application `name` is not yet healthy on `version` (None: it is)."""
    if app is None:
        return f"{name}: no such Application yet"
    deployed = Application(dict(app), "").chart_version
    if deployed.lstrip("v") != version.lstrip("v"):
        return f"{name}: deploys chart {deployed}, not yet {version}"
    sync, health = dig(app, "status", "sync", "status"), dig(app, "status", "health", "status")
    if sync != "Synced" or health != "Healthy":
        return f"{name}: {sync or 'sync unknown'}, {health or 'health unknown'}"
    return None


def wave_problems(apps: Mapping[str, Mapping[str, Any] | None], version: str) -> Sequence[str]:
    """Every Application of the wave that is not yet Synced and Healthy on `version`."""
    return [problem for name, app in apps.items() if (problem := not_ready(name, app, version))]
