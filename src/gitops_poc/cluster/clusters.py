"""Registering another cluster with ArgoCD the way `argocd cluster add` does, without the argocd CLI:
in the target cluster a ServiceAccount with a ClusterRole and a long-lived token Secret, then ArgoCD's
labelled cluster Secret. Also lets that cluster's ServiceAccounts ask for TokenReviews, which Vault's
kubernetes auth mount for the cluster relies on (it reviews each login's own token)."""

from __future__ import annotations

from dataclasses import dataclass

from gitops_poc.cluster.model import ApplyObject, RegisterCluster, Step
from gitops_poc.cluster.registry import MANAGED_BY
from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform

MANAGER_NAMESPACE = "kube-system"
MANAGER = "argocd-manager"
MANAGER_TOKEN = "argocd-manager-long-lived-token"
CLUSTER_SECRET_LABEL = {"argocd.argoproj.io/secret-type": "cluster"}


@dataclass(frozen=True)
class ClusterTarget:
    """A cluster to register: its ArgoCD name, its kube context, and what the kubeconfig says about it."""

    name: str
    context: str
    server: str
    ca_data: str  # base64 PEM


def parse_cluster_option(text: str, platform: Platform) -> tuple[str, str]:
    """`--cluster NAME=CONTEXT` -> (name, context); the name must be a cluster of ENVIRONMENT_CLUSTERS."""
    name, sep, context = text.partition("=")
    if not sep or not name or not context:
        raise UsageError(f"--cluster {text!r}: expected NAME=CONTEXT (e.g. prod-eu=gke_prod_europe)")
    if name not in platform.remote_clusters:
        known = " ".join(platform.remote_clusters) or "none: set ENVIRONMENT_CLUSTERS, e.g. prod=prod-eu"
        raise UsageError(f"--cluster {text!r}: {name!r} is not a cluster of ENVIRONMENT_CLUSTERS ({known})")
    return name, context


def _labels() -> dict[str, str]:
    return dict(MANAGED_BY)


def target_objects(platform: Platform, cluster: str) -> list[dict[str, object]]:
    """What `argocd cluster add` creates in the target cluster, plus TokenReview rights for Vault logins."""
    rbac = "rbac.authorization.k8s.io"
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": MANAGER, "namespace": MANAGER_NAMESPACE, "labels": _labels()},
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": f"{MANAGER}-role", "labels": _labels()},
            "rules": [
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ],
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{MANAGER}-role-binding", "labels": _labels()},
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": f"{MANAGER}-role"},
            "subjects": [{"kind": "ServiceAccount", "name": MANAGER, "namespace": MANAGER_NAMESPACE}],
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/service-account-token",
            "metadata": {
                "name": MANAGER_TOKEN,
                "namespace": MANAGER_NAMESPACE,
                "labels": _labels(),
                "annotations": {"kubernetes.io/service-account.name": MANAGER},
            },
        },
        token_review_binding(platform, cluster),
    ]


def token_review_binding(platform: Platform, cluster: str) -> dict[str, object]:
    """Lets the ServiceAccounts of the cluster's environments ask for TokenReviews: Vault's kubernetes auth
    mount of the cluster reviews each login's own token (VSO logs in with the services' ServiceAccounts)."""
    rbac = "rbac.authorization.k8s.io"
    return {
        "apiVersion": f"{rbac}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": f"{platform.project_name}-vault-token-review", "labels": _labels()},
        "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": "system:auth-delegator"},
        "subjects": [
            {"kind": "Group", "name": f"system:serviceaccounts:{platform.namespace(env)}", "apiGroup": rbac}
            for env in platform.environments_of_cluster(cluster)
        ],
    }


def plan_registration(platform: Platform, target: ClusterTarget) -> list[Step]:
    steps: list[Step] = [
        ApplyObject.of(body, context=target.context) for body in target_objects(platform, target.name)
    ]
    steps.append(
        RegisterCluster(
            target.name,
            target.context,
            target.server,
            target.ca_data,
            (MANAGER_NAMESPACE, MANAGER_TOKEN),
            platform.config.argocd_namespace,
        )
    )
    return steps


def cluster_secret(step: RegisterCluster, token: str) -> tuple[dict[str, object], dict[str, str]]:
    """ArgoCD's declarative cluster Secret: (the object without secrets, its secret stringData)."""
    import json

    body: dict[str, object] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": f"cluster-{step.name}",
            "namespace": step.argocd_namespace,
            "labels": {**CLUSTER_SECRET_LABEL, **MANAGED_BY},
        },
        "stringData": {"name": step.name, "server": step.server},
    }
    config = {"bearerToken": token, "tlsClientConfig": {"insecure": False, "caData": step.ca_data}}
    return body, {"config": json.dumps(config, sort_keys=True)}
