"""Two clusters against a real OpenBao: one kubernetes auth mount per cluster (own API server and CA), the
environments' roles on their cluster's mount, and `vault check` passing for both mounts with real logins
(Vault asks each mount's stand-in API server for TokenReviews)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.generate.delivery import vault_auth
from gitops_poc.platform import Platform
from gitops_poc.vault.check import Identity, check_vault

from .bao import Vault, fake_service_account_jwt

pytestmark = pytest.mark.vault

TWO_CLUSTERS = {"ENVIRONMENT_CLUSTERS": "prod=prod-eu", "CLUSTER_CONTEXTS": "prod-eu=gke-prod"}


def kubeconfig(path: Path, ca_file: Path, servers: dict[str, str]) -> Path:
    ca = base64.b64encode(ca_file.read_bytes()).decode()
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": c, "cluster": {"server": url, "certificate-authority-data": ca}}
                    for c, url in servers.items()
                ],
                "contexts": [{"name": c, "context": {"cluster": c, "user": c}} for c in servers],
                "users": [{"name": c, "user": {"token": "t"}} for c in servers],
            }
        )
    )
    return path


@pytest.fixture
def two_clusters(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ca_file: Path, kube_api: str) -> Platform:
    for key, value in TWO_CLUSTERS.items():
        monkeypatch.setenv(key, value)
    # ArgoCD's own cluster (minikube) and the production one, whose API server answers TokenReviews.
    config = kubeconfig(
        tmp_path / "kubeconfig", ca_file, {"minikube": "https://192.168.49.2:8443", "gke-prod": kube_api}
    )
    monkeypatch.setenv("KUBECONFIG", str(config))
    return Platform(load_config(None, TWO_CLUSTERS))


def test_one_mount_per_cluster_and_check_passes_for_both(
    vault_env: Vault,
    two_clusters: Platform,
    kube_api: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "platform"
    root.mkdir()
    # ArgoCD's cluster: Vault runs in it and reviews tokens at the in-cluster API (here the stand-in too).
    assert main(["vault", "provision", "-C", str(root), "--kubernetes-host", kube_api]) == 0
    client = vault_env.client()
    auths = client.sys.list_auth_methods()["data"]
    assert {"kubernetes/", "kubernetes-prod-eu/"} <= set(auths)
    prod = client.read("auth/kubernetes-prod-eu/config")["data"]
    assert prod["kubernetes_host"] == kube_api
    assert client.read("auth/kubernetes-prod-eu/role/gitops-poc-api-gateway-prod")["data"][
        "bound_service_account_namespaces"
    ] == ["poc-prod"]
    assert client.read("auth/kubernetes/role/gitops-poc-api-gateway-prod") is None
    assert client.read("auth/kubernetes/role/gitops-poc-api-gateway-dev") is not None
    assert client.read("auth/kubernetes-prod-eu/role/gitops-poc-api-gateway-dev") is None
    # The generated VaultAuths log in through their cluster's mount.
    assert vault_auth(two_clusters, "api-gateway", "prod")["spec"]["mount"] == "kubernetes-prod-eu"
    assert vault_auth(two_clusters, "api-gateway", "dev")["spec"]["mount"] == "kubernetes"
    # A second run writes nothing.
    capsys.readouterr()
    assert main(["vault", "provision", "-C", str(root), "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["writes"] == 0
    # Least privilege for both mounts: minted tokens, then real logins through each mount.
    assert main(["vault", "check", "-C", str(root)]) == 0
    report = check_vault(
        two_clusters, client, identity=Identity.KUBERNETES, jwt_source=fake_service_account_jwt
    )
    assert report.ok, (report.leaks, report.failures)
    assert len(report.results) == len(two_clusters.services) * len(two_clusters.environments)


def test_a_remote_cluster_without_a_kube_context_is_bad_input(
    vault_env: Vault,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    ca_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=prod-eu")
    monkeypatch.setenv(
        "KUBECONFIG", str(kubeconfig(tmp_path / "kc", ca_file, {"minikube": "https://10.0.0.1"}))
    )
    assert main(["vault", "provision", "-C", str(tmp_path)]) == 2
    assert "cluster prod-eu (ENVIRONMENT_CLUSTERS): its kube context 'prod-eu'" in capsys.readouterr().err
    assert "kubernetes-prod-eu/" not in vault_env.client().sys.list_auth_methods()["data"]


def test_roles_left_on_the_mount_of_the_cluster_an_environment_moved_from_are_stale_and_pruned(
    vault_env: Vault,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    ca_file: Path,
    kube_api: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gitops_poc.vault.stale import find_leftovers_on_mounts
    from gitops_poc.vault.state import read_roles_by_mount

    config = kubeconfig(tmp_path / "kc", ca_file, {"minikube": kube_api, "gke-prod": kube_api})
    monkeypatch.setenv("KUBECONFIG", str(config))
    monkeypatch.setenv("SERVICES", "api-gateway")
    root = ["-C", str(tmp_path), "--kubernetes-host", kube_api]
    client = vault_env.client()
    # One cluster: every role on `kubernetes`. Then prod moves to prod-eu.
    assert main(["vault", "provision", *root]) == 0
    for key, value in TWO_CLUSTERS.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    assert main(["vault", "provision", *root, "-o", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [(s["name"], s["mount"], s["action"]) for s in plan["plan"]["stale"]] == [
        ("gitops-poc-api-gateway-prod", "kubernetes", "kept")
    ]
    assert "runs in cluster 'prod-eu' now" in plan["plan"]["stale"][0]["reason"]
    # The old grant is live: still there, next to the new role on prod-eu's mount.
    assert client.read("auth/kubernetes/role/gitops-poc-api-gateway-prod") is not None
    assert client.read("auth/kubernetes-prod-eu/role/gitops-poc-api-gateway-prod") is not None
    moved = Platform(load_config(None, {"SERVICES": "api-gateway", **TWO_CLUSTERS}))
    found = find_leftovers_on_mounts(moved, read_roles_by_mount(client, moved), {})
    assert [(f.name, f.mount, f.moved) for f in found] == [
        ("gitops-poc-api-gateway-prod", "kubernetes", True)
    ]
    # `vault check` fails on it: a live grant, while prod's identity is checked on its new mount.
    report = check_vault(moved, client)
    assert [(s.name, s.mount) for s in report.stale_roles] == [("gitops-poc-api-gateway-prod", "kubernetes")]
    # Its namesake on prod-eu's mount is the wanted one: the message says which mount is meant.
    assert (
        report.stale_roles[0].describe().startswith("role gitops-poc-api-gateway-prod on auth/kubernetes (")
    )
    assert not report.ok and report.leaks == [] and report.failures == []
    # --prune deletes it on `kubernetes` only; the role prod logs in with now stays.
    assert main(["vault", "provision", *root, "--prune"]) == 0
    assert check_vault(moved, client).ok
    assert client.read("auth/kubernetes/role/gitops-poc-api-gateway-prod") is None
    assert client.read("auth/kubernetes-prod-eu/role/gitops-poc-api-gateway-prod") is not None
    assert client.read("auth/kubernetes/role/gitops-poc-api-gateway-dev") is not None
    # Back to one cluster: the mount kubernetes-prod-eu is no cluster's now, its role is found and pruned.
    for key in TWO_CLUSTERS:
        monkeypatch.delenv(key)
    capsys.readouterr()
    assert main(["vault", "provision", *root, "--prune", "-o", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [(s["name"], s["mount"], s["action"]) for s in plan["plan"]["stale"]] == [
        ("gitops-poc-api-gateway-prod", "kubernetes-prod-eu", "delete")
    ]
    assert client.read("auth/kubernetes-prod-eu/role/gitops-poc-api-gateway-prod") is None
    assert client.read("auth/kubernetes/role/gitops-poc-api-gateway-prod") is not None
    capsys.readouterr()
    assert main(["vault", "provision", *root, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["plan"]["stale"] == []


def test_an_environment_moved_between_two_other_clusters_leaves_a_role_every_command_flags(
    vault_env: Vault,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    ca_file: Path,
    kube_api: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """prod runs in prod-eu, then moves to prod-us: the role on kubernetes-prod-eu (a mount no cluster of the
    configuration uses any more) is flagged by `vault provision --dry-run` (nothing written), by `vault
    check` (exit 1, role and mount named) and by check_vault with real logins (verify's check), and pruned."""
    servers = {"minikube": kube_api, "gke-eu": kube_api, "gke-us": kube_api}
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kc", ca_file, servers)))
    monkeypatch.setenv("SERVICES", "api-gateway")
    eu = {"ENVIRONMENT_CLUSTERS": "prod=prod-eu", "CLUSTER_CONTEXTS": "prod-eu=gke-eu"}
    us = {"ENVIRONMENT_CLUSTERS": "prod=prod-us", "CLUSTER_CONTEXTS": "prod-us=gke-us"}
    root = ["-C", str(tmp_path), "--kubernetes-host", kube_api]
    client = vault_env.client()
    for key, value in eu.items():
        monkeypatch.setenv(key, value)
    assert main(["vault", "provision", *root]) == 0
    for key, value in us.items():
        monkeypatch.setenv(key, value)
    assert main(["vault", "provision", *root]) == 0
    old = "auth/kubernetes-prod-eu/role/gitops-poc-api-gateway-prod"
    assert client.read(old) is not None  # a live grant on the mount prod left
    capsys.readouterr()
    # The dry run flags it and writes nothing.
    assert main(["vault", "provision", *root, "--dry-run", "--prune", "-o", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [(s["name"], s["mount"], s["action"]) for s in plan["plan"]["stale"]] == [
        ("gitops-poc-api-gateway-prod", "kubernetes-prod-eu", "delete")
    ]
    assert "runs in cluster 'prod-us' now" in plan["plan"]["stale"][0]["reason"]
    assert client.read(old) is not None
    # vault check: exit 1, naming the role and its mount.
    assert main(["vault", "check", "-C", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    said = " ".join((captured.out + captured.err).split())
    assert "gitops-poc-api-gateway-prod" in said and "kubernetes-prod-eu" in said, said
    moved = Platform(load_config(None, {"SERVICES": "api-gateway", **us}))
    report = check_vault(moved, client, identity=Identity.KUBERNETES, jwt_source=fake_service_account_jwt)
    assert [(s.name, s.mount) for s in report.stale_roles] == [
        ("gitops-poc-api-gateway-prod", "kubernetes-prod-eu")
    ]
    assert not report.ok and report.leaks == [] and report.failures == []
    # verify's Vault check (the same check with ServiceAccount logins) fails naming the role and its mount.
    from gitops_poc.cli.verify import vault_least_privilege

    monkeypatch.setattr(
        "gitops_poc.vault.kube_tokens.kubectl_jwt_source", lambda context: fake_service_account_jwt
    )
    check = vault_least_privilege(tmp_path, moved)
    assert check.failed and check.detail.startswith(
        "stale role gitops-poc-api-gateway-prod on auth/kubernetes-prod-eu (environment 'prod' runs in"
        " cluster 'prod-us' now"
    ), check.detail
    # Pruned on that mount only; prod's new role stays and every check passes.
    assert main(["vault", "provision", *root, "--prune"]) == 0
    assert client.read(old) is None
    assert client.read("auth/kubernetes-prod-us/role/gitops-poc-api-gateway-prod") is not None
    assert check_vault(moved, client, identity=Identity.KUBERNETES, jwt_source=fake_service_account_jwt).ok
    assert main(["vault", "check", "-C", str(tmp_path)]) == 0
    assert not vault_least_privilege(tmp_path, moved).failed
