"""Secret delivery objects in gitops-config: each service's own ServiceAccount and VaultAuth per environment,
and the ArgoCD Applications that sync them into each namespace.

`gitops-config/platform/<env>/<service>.yaml`: ServiceAccount `<service>` (the identity the Deployment runs
as and the only one its Vault role accepts) and VaultAuth `<service>-vault-auth` (VSO logs in with role
`<service>-<env>` as that ServiceAccount, audience `vault`). The chart's VaultStaticSecret names that
VaultAuth in `secretsProvider.vault.authRef`. These replace the original's unapplied `vault-secret.yaml`.

In production environments the same file also holds the service's PodDisruptionBudget (disruption.py).

`gitops-config/argocd/platform.yaml`: one Application `platform-<env>` per environment, syncing
`platform/<env>` into the environment's namespace. ArgoCD cannot order separate Applications (sync waves
only order resources inside one Application), so correctness does not depend on order: until the
ServiceAccount exists the ReplicaSet retries creating pods, until the VaultAuth exists VSO retries the
VaultStaticSecret, and until its Secret exists the kubelet retries starting the container. The platform
Application syncs the same way as the services of its environment (automatically except in production),
so syncing it first is the documented step where a human syncs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitops_poc.disruption import Budget, pod_disruption_budget
from gitops_poc.generate.gitops_config import HEADER
from gitops_poc.layout import GITOPS_CONFIG_DIR, PLATFORM_APPS_FILE, PLATFORM_DIR
from gitops_poc.platform import (
    PULL_SECRET,
    VAULT_AUDIENCE,
    Platform,
)
from gitops_poc.yamlio import dump_plain

VSO_API_VERSION = "secrets.hashicorp.com/v1beta1"


def manifest_file(env: str, service: str) -> Path:
    return GITOPS_CONFIG_DIR / PLATFORM_DIR / env / f"{service}.yaml"


def _labels(platform: Platform, service: str, env: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": service,
        "app.kubernetes.io/part-of": platform.project_name,
        "environment": env,
    }


def service_account(platform: Platform, service: str, env: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": platform.service_account(service),
            "namespace": platform.namespace(env),
            "labels": _labels(platform, service, env),
        },
        # The pods do not call the Kubernetes API; VSO requests its own tokens for this account.
        "automountServiceAccountToken": False,
        # Born able to pull from the private registry (`setup registry` creates the secret).
        "imagePullSecrets": [{"name": PULL_SECRET}],
    }


def vault_auth(platform: Platform, service: str, env: str) -> dict[str, Any]:
    return {
        "apiVersion": VSO_API_VERSION,
        "kind": "VaultAuth",
        "metadata": {
            "name": platform.vault_auth_name(service),
            "namespace": platform.namespace(env),
            "labels": _labels(platform, service, env),
        },
        # No vaultConnectionRef: VSO's default VaultConnection (set when VSO is installed) is used.
        "spec": {
            "method": "kubernetes",
            "mount": platform.vault_auth_mount(env),
            "kubernetes": {
                "role": platform.vault_role(service, env),
                "serviceAccount": platform.service_account(service),
                "audiences": [VAULT_AUDIENCE],
            },
        },
    }


def platform_application(platform: Platform, env: str) -> dict[str, Any]:
    cfg = platform.config
    sync_policy: dict[str, Any] = {
        # The VaultAuth CRD arrives with VSO; until then the dry run must not fail the whole sync.
        "syncOptions": ["CreateNamespace=true", "SkipDryRunOnMissingResource=true"],
        "retry": {"limit": 10, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}},
    }
    if platform.auto_sync(env):
        sync_policy["automated"] = {"prune": True, "selfHeal": True}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": platform.platform_application_name(env),
            "namespace": cfg.argocd_namespace,
            "labels": {"app.kubernetes.io/part-of": platform.project_name, "environment": env},
        },
        "spec": {
            "project": platform.project_name,
            "source": {
                "repoURL": platform.gitops_config_repo_url,
                "targetRevision": cfg.git_branch,
                "path": (PLATFORM_DIR / env).as_posix(),
            },
            "destination": platform.destination(env),
            "syncPolicy": sync_policy,
        },
    }


def _documents(docs: list[dict[str, Any]]) -> str:
    return HEADER + "---\n".join(dump_plain(doc) for doc in docs)


def platform_objects(
    platform: Platform, service: str, env: str, budget: Budget | None = None
) -> list[dict[str, Any]]:
    """The objects of `platform/<env>/<service>.yaml`; the PDB (`budget`, else PDB_MAX_UNAVAILABLE) in
    production."""
    docs = [service_account(platform, service, env), vault_auth(platform, service, env)]
    if platform.owns_disruption_budget(env):
        budget = budget or platform.default_disruption_budget()
        docs.append(pod_disruption_budget(platform, service, env, budget, _labels(platform, service, env)))
    return docs


def render_delivery_files(
    platform: Platform, budgets: Mapping[tuple[str, str], Budget] | None = None
) -> dict[Path, str]:
    """Every generator-owned delivery file, as text; `budgets` by (service, env) from the values files."""
    budgets = budgets or {}
    files = {
        manifest_file(env, service): _documents(
            platform_objects(platform, service, env, budgets.get((service, env)))
        )
        for env in platform.environments
        for service in platform.services
    }
    files[PLATFORM_APPS_FILE] = _documents(
        [platform_application(platform, env) for env in platform.environments]
    )
    return files
