"""`setup infrastructure` as a plan: minikube, its addons, then Vault, the Vault Secrets Operator and ArgoCD
as Helm releases of pinned charts with the values files shipped in this package; then, in every other
cluster of ENVIRONMENT_CLUSTERS, the Vault Secrets Operator alone, connected to the same Vault through
VAULT_EXTERNAL_ADDR.

Pure: the state (is minikube running, which addons are on) is read by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from gitops_poc.argv import Opt, Value, render
from gitops_poc.cluster.clusters import token_review_binding
from gitops_poc.cluster.model import (
    ApplyObject,
    ClusterPlan,
    HelmRelease,
    Hidden,
    RunCommand,
    Step,
    VaultBootstrap,
    WaitReady,
)
from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform

VALUES_DIR = Path(str(resources.files("gitops_poc.cluster") / "values"))
ADDONS = ("ingress", "metrics-server")
VAULT_NAMESPACE = "vault"
VAULT_RELEASE = "vault"
VAULT_SERVICE = "vault"
VAULT_UI_SERVICE = "vault-ui"
VAULT_PORT = 8200
VSO_NAMESPACE = "vault-secrets-operator-system"
VSO_RELEASE = "vault-secrets-operator"
VSO_ADDRESS_KEY = "defaultVaultConnection.address"  # the chart's default VaultConnection
ARGOCD_RELEASE = "argocd"
ARGOCD_SERVER_SERVICE = "argocd-server"


def values_file(name: str) -> str:
    return str(VALUES_DIR / name)


@dataclass(frozen=True)
class InfraState:
    """What the caller found: None for `minikube_running` when the context is not a minikube profile."""

    minikube_running: bool | None
    addons_enabled: frozenset[str] = frozenset()


def vault_release(platform: Platform, dev_root_token: str | None = None) -> HelmRelease:
    cfg = platform.config
    files = [values_file("vault.yaml")]
    private = Hidden()
    if cfg.vault_dev_mode:
        files.append(values_file("vault-dev.yaml"))
        private = Hidden.of({"server.dev.devRootToken": dev_root_token or ""})
    return HelmRelease(
        VAULT_RELEASE,
        VAULT_NAMESPACE,
        "vault",
        cfg.hashicorp_helm_repo,
        cfg.vault_chart_version,
        tuple(files),
        private_values=private,
        # A standalone Vault is not Ready until it is unsealed, which happens after the install.
        wait=cfg.vault_dev_mode,
    )


def vso_release(platform: Platform) -> HelmRelease:
    cfg = platform.config
    return HelmRelease(
        VSO_RELEASE,
        VSO_NAMESPACE,
        "vault-secrets-operator",
        cfg.hashicorp_helm_repo,
        cfg.vso_chart_version,
        (values_file("vault-secrets-operator.yaml"),),
    )


def remote_vault_address(platform: Platform) -> str:
    """VAULT_EXTERNAL_ADDR, required once an environment runs in another cluster than ArgoCD's."""
    address = platform.config.vault_external_addr
    if platform.remote_clusters and not address:
        clusters = " ".join(platform.remote_clusters)
        raise UsageError(
            f"VAULT_EXTERNAL_ADDR is not set: the Vault Secrets Operator of cluster(s) {clusters} "
            "(ENVIRONMENT_CLUSTERS) must reach the platform's Vault from outside its cluster "
            f"(http://{VAULT_SERVICE}.{VAULT_NAMESPACE}.svc:{VAULT_PORT} only answers in ArgoCD's); set it "
            "in .env to the address they reach it at, e.g. VAULT_EXTERNAL_ADDR=https://vault.example.com"
        )
    return address


def remote_vso_release(platform: Platform, cluster: str, address: str) -> HelmRelease:
    """The operator in another cluster: same chart, version and values file, the default VaultConnection
    pointing at Vault's external address (not a secret, so --set-string is fine)."""
    return replace(
        vso_release(platform),
        set_strings=((VSO_ADDRESS_KEY, address),),
        context=platform.cluster_context(cluster),
    )


def plan_remote_clusters(platform: Platform) -> list[Step]:
    """Per other cluster, in ENVIRONMENT_CLUSTERS order: the TokenReview rights Vault's logins need there
    (the same binding `setup pull --cluster` applies; push mode has no such step), then the operator."""
    address = remote_vault_address(platform)
    steps: list[Step] = []
    for cluster in platform.remote_clusters:
        context = platform.cluster_context(cluster)
        steps += [
            ApplyObject.of(token_review_binding(platform, cluster), context=context),
            remote_vso_release(platform, cluster, address),
        ]
    return steps


def argocd_release(platform: Platform) -> HelmRelease:
    cfg = platform.config
    return HelmRelease(
        ARGOCD_RELEASE,
        cfg.argocd_namespace,
        "argo-cd",
        cfg.argo_helm_repo,
        cfg.argocd_chart_version,
        (values_file("argo-cd.yaml"),),
    )


def minikube_profile(platform: Platform) -> str:
    """minikube names the kube context after its profile."""
    return platform.config.kube_context


def plan_infrastructure(
    platform: Platform, state: InfraState, *, dev_root_token: str | None = None
) -> ClusterPlan:
    """minikube (start only when stopped, addons only when off), then Vault, VSO, ArgoCD, in that order;
    then the operator in each other cluster. No Vault and no ArgoCD there: one of each serves them all."""
    cfg = platform.config
    remote = plan_remote_clusters(platform)  # first: a missing VAULT_EXTERNAL_ADDR fails before anything
    profile = minikube_profile(platform)
    steps: list[Step] = []
    notes: list[str] = []
    if state.minikube_running is None:
        notes.append(
            f"kube context {cfg.kube_context} is not a minikube profile: the cluster is used as it is"
        )
    else:
        if not state.minikube_running:
            steps.append(
                RunCommand(
                    tuple(
                        render(
                            [
                                "minikube",
                                "start",
                                Opt("--profile", profile),
                                Opt("--cpus", str(cfg.minikube_cpus)),
                                Opt("--memory", f"{cfg.minikube_memory}mb"),
                                Opt("--disk-size", cfg.minikube_disk_size),
                                Opt("--kubernetes-version", f"v{cfg.kubernetes_version}"),
                            ]
                        )
                    ),
                    "minikube is not running",
                )
            )
        for addon in ADDONS:
            if addon not in state.addons_enabled:
                steps.append(
                    RunCommand(
                        tuple(
                            render(
                                [
                                    "minikube",
                                    "addons",
                                    "enable",
                                    Opt("--profile", profile),
                                    Value(addon, "addon"),
                                ]
                            )
                        ),
                        f"addon {addon} is off",
                    )
                )
    steps += [
        vault_release(platform, dev_root_token),
        VaultBootstrap(VAULT_NAMESPACE, VAULT_SERVICE, VAULT_PORT, cfg.vault_dev_mode),
        WaitReady(VAULT_NAMESPACE),
        vso_release(platform),
        argocd_release(platform),
        WaitReady(cfg.argocd_namespace),
        *remote,
    ]
    notes += [
        f"cluster {cluster} (kube context {platform.cluster_context(cluster)}): only the Vault Secrets "
        f"Operator, its default VaultConnection at VAULT_EXTERNAL_ADDR {cfg.vault_external_addr}"
        for cluster in platform.remote_clusters
    ]
    if cfg.vault_dev_mode:
        notes.append("VAULT_DEV_MODE=true: Vault keeps everything in memory; a restart loses it all")
    return ClusterPlan(tuple(steps), tuple(notes))
