"""The cluster side of `status`: Argo CD's Applications of the platform, read in one list request.

Read-only (GET only), each request bounded by the Kubernetes client's overall deadline
(GITOPS_POC_HTTP_DEADLINE). Parsing an Application into a cell is pure and kept apart from the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from gitops_poc.argocd.applications import ENVIRONMENT_LABEL, SERVICE_LABEL
from gitops_poc.cluster.kube import resource_path
from gitops_poc.errors import GitopsError
from gitops_poc.status.model import ClusterCell

APPLICATION_API = "argoproj.io/v1alpha1"
PART_OF_LABEL = "app.kubernetes.io/part-of"


class Requester(Protocol):
    def request(
        self, method: str, path: str, *, query: Mapping[str, str] | None = None
    ) -> dict[str, Any] | None: ...


class ArgoCdMissing(GitopsError):
    """The cluster answers but serves no Application kind: Argo CD is not installed there."""


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _last_synced(status: dict[str, Any]) -> datetime | None:
    operation = _map(status.get("operationState"))
    if operation.get("phase") == "Succeeded" and (finished := _time(operation.get("finishedAt"))):
        return finished
    history = status.get("history")
    if isinstance(history, list) and history:
        return _time(_map(history[-1]).get("deployedAt"))
    return None


def _message(status: dict[str, Any]) -> str | None:
    health = _map(status.get("health"))
    if health.get("message"):
        return str(health["message"])
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and str(condition.get("type", "")).endswith("Error"):
            return f"{condition.get('type')}: {condition.get('message', '')}"
    operation = _map(status.get("operationState"))
    if operation.get("phase") in ("Failed", "Error"):
        return f"last sync {operation['phase'].lower()}: {operation.get('message', '')}"
    return None


def cluster_cell(app: dict[str, Any]) -> ClusterCell:
    """An Application object's status as a cell (multi-source Applications: the revisions joined)."""
    name = str(_map(app.get("metadata")).get("name", ""))
    status = _map(app.get("status"))
    sync = _map(status.get("sync"))
    revisions = sync.get("revisions")
    revision = (
        ",".join(str(r)[:12] for r in revisions if r)
        if isinstance(revisions, list) and revisions
        else (str(sync["revision"])[:12] if sync.get("revision") else None)
    )
    images = _map(status.get("summary")).get("images")
    return ClusterCell(
        application=name,
        found=True,
        sync=str(sync.get("status") or "Unknown"),
        health=str(_map(status.get("health")).get("status") or "Unknown"),
        revision=revision or None,
        images=tuple(str(i) for i in images) if isinstance(images, list) else (),
        last_synced=_last_synced(status),
        message=_message(status),
    )


def identity(app: dict[str, Any]) -> tuple[str | None, str | None]:
    """(service, environment) from the labels the ApplicationSet puts on every Application it generates."""
    labels = _map(_map(app.get("metadata")).get("labels"))
    service, env = labels.get(SERVICE_LABEL), labels.get(ENVIRONMENT_LABEL)
    return (str(service) if service else None), (str(env) if env else None)


def read_applications(kube: Requester, namespace: str, project: str) -> dict[str, dict[str, Any]]:
    """The platform's Applications in Argo CD's namespace, by name (one list request)."""
    path = resource_path(APPLICATION_API, "Application", namespace)
    answer = kube.request("GET", path, query={"labelSelector": f"{PART_OF_LABEL}={project}"})
    if answer is None:
        raise ArgoCdMissing(
            f"the cluster serves no Argo CD Applications ({path}: 404): is Argo CD installed?"
        )
    items = answer.get("items")
    return {
        str(_map(i.get("metadata")).get("name", "")): i
        for i in (items if isinstance(items, list) else [])
        if isinstance(i, dict)
    }
