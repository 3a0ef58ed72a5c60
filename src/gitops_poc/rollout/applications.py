"""A wave's Argo CD Applications as the cluster holds them: the adapter behind `rollout chart`'s wait (one
list request per look, whatever the fleet's size; the objects `ci promote`'s gates read)."""

from __future__ import annotations

from typing import Any

from gitops_poc.cluster.kube import ClusterError, Kube
from gitops_poc.errors import ToolError
from gitops_poc.platform import Platform
from gitops_poc.release.evidence import ARGOCD_API
from gitops_poc.rollout.chart import ReadApps


def cluster_reader(platform: Platform) -> ReadApps:
    """env -> {Application name: the object, or None when Argo CD has none of that name}."""
    kube: Kube | None = None

    def read(env: str) -> dict[str, Any]:
        nonlocal kube
        try:
            kube = kube or Kube.from_kubeconfig(platform.config.kube_context)
            listed = kube.list(ARGOCD_API, "Application", platform.config.argocd_namespace)
        except ClusterError as exc:
            raise ToolError(
                f"cannot read {env}'s Applications (the wave is written; re-run): {exc}"
            ) from None
        by_name = {str(item.get("metadata", {}).get("name")): item for item in listed}
        names = (platform.application_name(service, env) for service in platform.services)
        return {name: by_name.get(name) for name in names}

    return read
