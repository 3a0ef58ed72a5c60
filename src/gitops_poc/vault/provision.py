"""The `vault provision` use case, callable without the CLI: read the local inputs (bad input first), read
Vault, plan the differences (provision_plan.py), and apply them (apply.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import hvac

from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform
from gitops_poc.vault.apply import ApplyReport, Progress, apply_vault
from gitops_poc.vault.client import TokenInfo, client_from_env, preflight
from gitops_poc.vault.kube_ca import ca_from_kubeconfig, read_ca_file, server_from_kubeconfig
from gitops_poc.vault.model import VaultPlan, VaultState
from gitops_poc.vault.provision_plan import (
    ClusterAuthTarget,
    ProvisionOptions,
    check_kubernetes_host,
    parse_token_ttl,
    plan_vault,
)
from gitops_poc.vault.secrets_file import DEFAULT_SECRETS_FILE, SecretsFile, build_seeds, load_secrets_file
from gitops_poc.vault.state import read_vault_state


@dataclass(frozen=True)
class ProvisionRequest:
    """What the user asked for (the CLI options of `vault provision`)."""

    secrets_file: Path | None = None  # None: ROOT/.secrets.yaml when present
    overwrite_secrets: bool = False
    demo_values: bool = False
    prune: bool = False
    kubernetes_host: str | None = None
    kubernetes_ca_file: Path | None = None
    token_ttl: str = "1h"
    dry_run: bool = False
    token_file: Path | None = None  # None: VAULT_TOKEN


@dataclass(frozen=True)
class PreparedProvision:
    """Everything known before the first write: who we are, what Vault holds, and the plan."""

    client: hvac.Client
    token: TokenInfo
    secrets: SecretsFile | None
    state: VaultState
    plan: VaultPlan


def _kubeconfig_ca(platform: Platform, environ: Mapping[str, str], *, required: bool) -> str | None:
    """The CA of the KUBE_CONTEXT context, for a Vault whose kubernetes auth is not configured yet."""
    ca, origin = ca_from_kubeconfig(platform.config.kube_context, environ)
    if ca is None and required:
        raise UsageError(
            "the kubernetes auth method needs the cluster's CA certificate: pass --kubernetes-ca-file PEM "
            f"(not found in the kubeconfig: {origin})"
        )
    return ca


def cluster_auth_targets(
    platform: Platform, environ: Mapping[str, str], *, dry_run: bool
) -> tuple[ClusterAuthTarget, ...]:
    """One auth mount per other cluster, with the API server and CA of its kube context."""
    targets = []
    for cluster in platform.remote_clusters:
        context = platform.cluster_context(cluster)
        host = server_from_kubeconfig(context, environ)
        ca, origin = ca_from_kubeconfig(context, environ)
        if (host is None or ca is None) and not dry_run:
            raise UsageError(
                f"cluster {cluster} (ENVIRONMENT_CLUSTERS): its kube context {context!r} must name the API "
                f"server and CA Vault checks its ServiceAccount tokens with ({origin}); set CLUSTER_CONTEXTS "
                "if the context has another name"
            )
        targets.append(
            ClusterAuthTarget(platform.vault_auth_mount_of_cluster(cluster), host or "(unknown)", ca)
        )
    return tuple(targets)


def _secrets_file(root: Path, option: Path | None, platform: Platform) -> SecretsFile | None:
    if option is not None:
        return load_secrets_file(option, platform)
    default = root / DEFAULT_SECRETS_FILE
    # Anything at that name is read: a folder or FIFO there is an error, never "no secrets file".
    return load_secrets_file(default, platform) if os.path.lexists(default) else None


def prepare_provision(
    platform: Platform, root: Path, request: ProvisionRequest, environ: Mapping[str, str]
) -> PreparedProvision:
    """Validate the local inputs (exit 2 before Vault is asked anything), read Vault and plan."""
    secrets = _secrets_file(root, request.secrets_file, platform)
    ca = read_ca_file(request.kubernetes_ca_file) if request.kubernetes_ca_file is not None else None
    ttl = parse_token_ttl(request.token_ttl)
    if request.kubernetes_host is not None:
        check_kubernetes_host(request.kubernetes_host)
    seeds = build_seeds(platform, secrets, demo_values=request.demo_values)
    client = client_from_env(environ, request.token_file)
    token = preflight(client)
    data_paths = (
        {platform.vault_secret_path(s, e) for s, e in secrets.entries}
        if secrets and request.overwrite_secrets
        else set()
    )
    state = read_vault_state(client, platform, data_paths=data_paths)
    # Options left out keep what Vault has (host and CA alike); only a Vault without any config needs the
    # kubeconfig's CA (the host then defaults to the in-cluster API server). A dry run can do without.
    if ca is None and state.kubernetes_config is None:
        ca = _kubeconfig_ca(platform, environ, required=not request.dry_run)
    options = ProvisionOptions(
        cluster_auth=cluster_auth_targets(platform, environ, dry_run=request.dry_run),
        kubernetes_host=request.kubernetes_host,
        kubernetes_ca_cert=ca,
        token_ttl=ttl,
        overwrite_secrets=request.overwrite_secrets,
        dry_run=request.dry_run,
        prune=request.prune,
    )
    return PreparedProvision(client, token, secrets, state, plan_vault(platform, state, seeds, options))


def apply_provision(prepared: PreparedProvision, progress: Progress | None = None) -> ApplyReport:
    """Write the plan (nothing for an empty plan)."""
    if not prepared.plan.steps:
        return ApplyReport()
    return apply_vault(prepared.plan, prepared.client, progress)


def provision(
    platform: Platform, root: Path, request: ProvisionRequest, environ: Mapping[str, str]
) -> tuple[PreparedProvision, ApplyReport]:
    """The whole use case: plan, then apply unless it is a dry run."""
    prepared = prepare_provision(platform, root, request, environ)
    report = ApplyReport() if request.dry_run else apply_provision(prepared)
    return prepared, report
