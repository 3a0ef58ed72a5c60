"""The `setup infrastructure` plan as data: commands, releases (chart, pinned version, values), order."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.argv import render
from gitops_poc.cluster.clusters import target_objects
from gitops_poc.cluster.infrastructure import InfraState, plan_infrastructure, values_file
from gitops_poc.cluster.model import ApplyObject, HelmRelease, RunCommand, VaultBootstrap, WaitReady
from gitops_poc.config import load_config
from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform
from tests.argvparts import words


def _platform(**env: str) -> Platform:
    return Platform(load_config(None, env))


def test_stopped_minikube_starts_with_the_configured_sizes_then_addons_then_releases_in_order() -> None:
    plan = plan_infrastructure(_platform(MINIKUBE_CPUS="6", MINIKUBE_MEMORY="12288"), InfraState(False))
    kinds = [type(s).__name__ for s in plan.steps]
    assert kinds == [
        "RunCommand",
        "RunCommand",
        "RunCommand",
        "HelmRelease",
        "VaultBootstrap",
        "WaitReady",
        "HelmRelease",
        "HelmRelease",
        "WaitReady",
    ]
    start = plan.steps[0]
    assert isinstance(start, RunCommand)
    assert start.argv == (
        "minikube",
        "start",
        "--profile=minikube",
        "--cpus=6",
        "--memory=12288mb",
        "--disk-size=40g",
        "--kubernetes-version=v1.34.0",
    )
    assert [s.argv[-1] for s in plan.steps[1:3] if isinstance(s, RunCommand)] == ["ingress", "metrics-server"]
    releases = [s for s in plan.steps if isinstance(s, HelmRelease)]
    assert [(r.name, r.namespace, r.chart, r.version, r.repo) for r in releases] == [
        ("vault", "vault", "vault", "0.34.1", "https://helm.releases.hashicorp.com"),
        (
            "vault-secrets-operator",
            "vault-secrets-operator-system",
            "vault-secrets-operator",
            "1.4.1",
            "https://helm.releases.hashicorp.com",
        ),
        ("argocd", "argocd", "argo-cd", "10.1.1", "https://argoproj.github.io/argo-helm"),
    ]
    assert [Path(f).name for r in releases for f in r.values_files] == [
        "vault.yaml",
        "vault-secrets-operator.yaml",
        "argo-cd.yaml",
    ]
    assert all(Path(f).is_file() for r in releases for f in r.values_files)
    # A standalone Vault is not ready before it is unsealed: no helm --wait for it, a wait after bootstrap.
    assert releases[0].wait is False and releases[1].wait and releases[2].wait
    assert plan.steps[4] == VaultBootstrap("vault", "vault", 8200, False)
    assert plan.steps[5] == WaitReady("vault")


def test_running_minikube_with_addons_plans_only_the_releases() -> None:
    plan = plan_infrastructure(
        _platform(), InfraState(True, frozenset({"ingress", "metrics-server", "dashboard"}))
    )
    assert not any(isinstance(s, RunCommand) for s in plan.steps)
    one_off = plan_infrastructure(_platform(), InfraState(True, frozenset({"ingress"})))
    assert [s.argv for s in one_off.steps if isinstance(s, RunCommand)] == [
        ("minikube", "addons", "enable", "--profile=minikube", "metrics-server")
    ]


def test_another_cluster_is_used_as_it_is() -> None:
    plan = plan_infrastructure(_platform(KUBE_CONTEXT="prod-eu"), InfraState(None))
    assert not any(isinstance(s, RunCommand) for s in plan.steps)
    assert any("not a minikube profile" in n for n in plan.notes)


def test_pinned_versions_and_repositories_come_from_the_configuration() -> None:
    plan = plan_infrastructure(
        _platform(
            ARGOCD_CHART_VERSION="10.0.0",
            VAULT_CHART_VERSION="0.30.0",
            HASHICORP_HELM_REPO="http://127.0.0.1:1/",
        ),
        InfraState(True, frozenset({"ingress", "metrics-server"})),
    )
    releases = {s.name: s for s in plan.steps if isinstance(s, HelmRelease)}
    assert releases["argocd"].version == "10.0.0" and releases["vault"].version == "0.30.0"
    assert releases["vault"].repo == "http://127.0.0.1:1"


def test_dev_mode_is_opt_in_and_its_root_token_stays_private() -> None:
    plan = plan_infrastructure(
        _platform(VAULT_DEV_MODE="true"), InfraState(True, frozenset()), dev_root_token="s3cr3t-t0ken"
    )
    vault = next(s for s in plan.steps if isinstance(s, HelmRelease))
    assert [Path(f).name for f in vault.values_files] == ["vault.yaml", "vault-dev.yaml"]
    assert vault.private_values.as_dict() == {"server.dev.devRootToken": "s3cr3t-t0ken"}
    assert vault.wait
    args = render(vault.helm_args("minikube", "/private/values.yaml"))
    assert "s3cr3t-t0ken" not in " ".join(args) + repr(plan) + str(plan.as_json()) + vault.describe()
    assert args[-6:-2] == ["--values=/private/values.yaml", "--wait", "--timeout=10m", "--"]
    assert not any(a.startswith("--set") for a in args)


def test_helm_arguments() -> None:
    release = plan_infrastructure(_platform(), InfraState(None)).steps[3]
    assert isinstance(release, HelmRelease) and release.name == "vault-secrets-operator"
    args = render(release.helm_args("minikube"))
    assert args[:8] == [
        "upgrade",
        "--install",
        "--repo=https://helm.releases.hashicorp.com",
        "--version=1.4.1",
        "--namespace=vault-secrets-operator-system",
        "--create-namespace",
        "--kube-context=minikube",
        f"--values={release.values_files[0]}",
    ]
    assert args[-3:] == ["--", "vault-secrets-operator", "vault-secrets-operator"]  # release, chart


TWO_CLUSTERS = {
    "ENVIRONMENTS": "dev staging prod qa",
    "ENVIRONMENT_CLUSTERS": "prod=prod-eu qa=qa-us",
    "CLUSTER_CONTEXTS": "prod-eu=gke_prod_europe",
    "VAULT_EXTERNAL_ADDR": "https://vault.example.com:8200",
}


def test_each_other_cluster_gets_only_the_operator_connected_to_the_external_vault_address() -> None:
    plan = plan_infrastructure(_platform(**TWO_CLUSTERS), InfraState(None))
    own, remote = plan.steps[:6], plan.steps[6:]
    # ArgoCD's cluster is planned as with one cluster: Vault, VSO (in-cluster address), ArgoCD.
    assert [(s.name, s.context, s.set_strings) for s in own if isinstance(s, HelmRelease)] == [
        ("vault", "", ()),
        ("vault-secrets-operator", "", ()),
        ("argocd", "", ()),
    ]
    # Then per other cluster, in ENVIRONMENT_CLUSTERS order: TokenReview rights, then VSO alone (no Vault,
    # no ArgoCD), in the cluster's kube context, same chart, pinned version and shipped values file.
    assert [type(s).__name__ for s in remote] == ["ApplyObject", "HelmRelease"] * 2
    releases = [s for s in remote if isinstance(s, HelmRelease)]
    assert [r.as_json() for r in releases] == [
        {
            "step": "helm",
            "release": "vault-secrets-operator",
            "namespace": "vault-secrets-operator-system",
            "chart": "vault-secrets-operator",
            "repo": "https://helm.releases.hashicorp.com",
            "version": "1.4.1",
            "values_files": [values_file("vault-secrets-operator.yaml")],
            "set_strings": {"defaultVaultConnection.address": "https://vault.example.com:8200"},
            "private_values": [],
            "wait": True,
            "context": context,
            "unchanged_revision": None,  # nothing read from a cluster yet
            "upgrade_reason": "",
        }
        for context in ("gke_prod_europe", "qa-us")
    ]
    args = words(releases[0].helm_args("minikube"))
    assert args.one("--kube-context") == "gke_prod_europe"
    assert args.one("--set-string") == "defaultVaultConnection.address=https://vault.example.com:8200"
    bindings = [(s.context, s.body) for s in remote if isinstance(s, ApplyObject)]
    assert [(c, b["kind"], b["metadata"]["name"], b["roleRef"]["name"]) for c, b in bindings] == [
        (c, "ClusterRoleBinding", "gitops-poc-vault-token-review", "system:auth-delegator")
        for c in ("gke_prod_europe", "qa-us")
    ]
    assert [[s["name"] for s in b["subjects"]] for _, b in bindings] == [
        ["system:serviceaccounts:poc-prod"],
        ["system:serviceaccounts:poc-qa"],
    ]
    assert plan.notes[-2:] == (
        "cluster prod-eu (kube context gke_prod_europe): only the Vault Secrets Operator, its default "
        "VaultConnection at VAULT_EXTERNAL_ADDR https://vault.example.com:8200",
        "cluster qa-us (kube context qa-us): only the Vault Secrets Operator, its default VaultConnection "
        "at VAULT_EXTERNAL_ADDR https://vault.example.com:8200",
    )


def test_the_token_review_binding_is_the_one_setup_pull_cluster_applies() -> None:
    platform = _platform(**TWO_CLUSTERS)
    plan = plan_infrastructure(platform, InfraState(None))
    applied = [s.body for s in plan.steps if isinstance(s, ApplyObject) and s.context == "gke_prod_europe"]
    assert applied == [target_objects(platform, "prod-eu")[-1]]


def test_other_clusters_without_vault_external_addr_is_a_usage_error_naming_the_key() -> None:
    platform = _platform(ENVIRONMENT_CLUSTERS="prod=prod-eu")
    with pytest.raises(UsageError) as caught:
        plan_infrastructure(platform, InfraState(None))
    message = str(caught.value)
    assert caught.value.exit_code == 2
    assert message.startswith(
        "VAULT_EXTERNAL_ADDR is not set: the Vault Secrets Operator of cluster(s) prod-eu"
    )
    assert "http://vault.vault.svc:8200 only answers in ArgoCD's" in message
    # One cluster needs no external address.
    assert plan_infrastructure(_platform(), InfraState(None)).steps
