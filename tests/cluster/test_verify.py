"""`verify`: pure judgements, and the CLI against the API stand-in (healthy, broken, absent)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from gitops_poc.cli import main
from gitops_poc.cluster.checks import Status
from gitops_poc.cluster.verify import application_ok, pods_ready, pull_secret_ok, vault_secrets_ok

from .fakeapi import FakeApi, two_cluster_kubeconfig

ENV = {"SERVICES": "api-gateway health-demo", "ENVIRONMENTS": "dev prod"}


def _ready_pod(name: str) -> dict[str, object]:
    return {
        "metadata": {"name": name},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }


def healthy(api: FakeApi) -> None:
    for ns in ("vault", "vault-secrets-operator-system", "argocd"):
        api.objects[f"/api/v1/namespaces/{ns}/pods/{ns}-0"] = _ready_pod(f"{ns}-0")
    for env in ("dev", "prod"):
        ns = f"poc-{env}"
        for app in (f"platform-{env}", f"api-gateway-{env}", f"health-demo-{env}"):
            api.objects[f"/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/{app}"] = {
                "metadata": {"name": app},
                "status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}},
            }
        api.objects[f"/api/v1/namespaces/{ns}/secrets/regsecret"] = {
            "metadata": {"name": "regsecret"},
            "type": "kubernetes.io/dockerconfigjson",
        }
        for service in ("api-gateway", "health-demo"):
            api.objects[f"/apis/apps/v1/namespaces/{ns}/deployments/{service}"] = {
                "metadata": {"name": service},
                "spec": {"replicas": 2},
                "status": {"readyReplicas": 2},
            }
            api.objects[
                f"/apis/secrets.hashicorp.com/v1beta1/namespaces/{ns}/vaultstaticsecrets/{service}-vault-0"
            ] = {
                "metadata": {"name": f"{service}-vault-0"},
                "spec": {"destination": {"name": f"{service}-config"}},
            }
            api.objects[f"/api/v1/namespaces/{ns}/secrets/{service}-config"] = {
                "metadata": {"name": f"{service}-config"}
            }
            api.objects[
                f"/apis/secrets.hashicorp.com/v1beta1/namespaces/{ns}/vaultauths/{service}-vault-auth"
            ] = {"metadata": {"name": f"{service}-vault-auth"}}
        for account in ("default", "api-gateway", "health-demo"):
            api.objects[f"/api/v1/namespaces/{ns}/serviceaccounts/{account}"] = {
                "metadata": {"name": account},
                "imagePullSecrets": [{"name": "regsecret"}],
            }


EXTERNAL_VAULT = "https://vault.example.com"
CONNECTION = (
    "/apis/secrets.hashicorp.com/v1beta1/namespaces/vault-secrets-operator-system/vaultconnections/default"
)


def other_cluster(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """A healthy cluster of ENVIRONMENT_CLUSTERS: its operator's VaultConnection at VAULT_EXTERNAL_ADDR."""
    healthy(api)
    api.objects[CONNECTION] = {"metadata": {"name": "default"}, "spec": {"address": EXTERNAL_VAULT}}
    monkeypatch.setenv("VAULT_EXTERNAL_ADDR", EXTERNAL_VAULT)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)


def test_a_healthy_platform_passes_every_check(
    fake_api: FakeApi, kubeconfig: Path, env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    healthy(fake_api)
    assert main(["verify", "-C", str(tmp_path), "--skip-vault", "--output", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == 0 and len(report["checks"]) == 3 + 2 * (3 + 2 + 2 + 1)


def test_failures_do_not_stop_the_other_checks(
    fake_api: FakeApi, kubeconfig: Path, env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    healthy(fake_api)
    del fake_api.objects["/api/v1/namespaces/vault/pods/vault-0"]
    fake_api.objects["/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/api-gateway-prod"][
        "status"
    ] = {"sync": {"status": "OutOfSync"}, "health": {"status": "Degraded"}}
    del fake_api.objects["/api/v1/namespaces/poc-dev/secrets/health-demo-config"]
    fake_api.objects["/api/v1/namespaces/poc-prod/serviceaccounts/api-gateway"]["imagePullSecrets"] = []
    junit = tmp_path / "reports" / "verify.xml"
    assert (
        main(["verify", "-C", str(tmp_path), "--skip-vault", "--output", "json", "--junit", str(junit)]) == 1
    )
    report = json.loads(capsys.readouterr().out)
    failures = {(c["group"], c["name"]): c["detail"] for c in report["checks"] if c["status"] == "failed"}
    assert failures == {
        ("infrastructure", "vault"): "no pods in vault",
        ("applications/prod", "api-gateway-prod"): "OutOfSync, Degraded",
        ("secrets/dev", "health-demo"): "health-demo-vault-0 -> Secret health-demo-config missing",
        ("registry/prod", "regsecret"): "ServiceAccounts without regsecret in poc-prod: api-gateway",
    }
    suite = ElementTree.parse(junit).getroot()
    assert suite.get("tests") == str(len(report["checks"])) and suite.get("failures") == "4"


def test_without_a_cluster_every_check_fails_with_the_reason(
    tmp_path: Path, env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    junit = tmp_path / "verify.xml"
    assert main(["verify", "-C", str(tmp_path), "--output", "json", "--junit", str(junit)]) == 1
    printed = capsys.readouterr()
    report = json.loads(printed.out)
    assert report["failed"] == len(report["checks"]) == 3 + 2 * 8 + 1
    assert all(c["detail"] for c in report["checks"])
    assert all(c["fix"] for c in report["checks"])  # what to do, on every row
    assert "gitops-poc doctor" in report["checks"][0]["fix"]
    assert "absent" in report["checks"][0]["detail"]
    assert report["checks"][-1]["group"] == "vault" and "minikube" in report["checks"][-1]["detail"]
    assert "Traceback" not in printed.err + printed.out
    assert ElementTree.parse(junit).getroot().get("failures") == str(report["failed"])
    # The table form too.
    assert main(["verify", "-C", str(tmp_path)]) == 1
    assert "0/20 checks passed" in capsys.readouterr().err


def test_judgements() -> None:
    assert (
        pods_ready(
            "g", "n", "ns", [_ready_pod("a"), {"metadata": {"name": "job"}, "status": {"phase": "Succeeded"}}]
        ).status
        is Status.OK
    )
    pending = pods_ready("g", "n", "ns", [{"metadata": {"name": "b"}, "status": {"phase": "Pending"}}])
    assert pending.failed and "b (Pending)" in pending.detail
    assert application_ok("g", "a", None).failed
    assert application_ok(
        "g", "a", {"status": {"sync": {"status": "Synced"}, "health": {"status": "Progressing"}}}
    ).failed
    assert (
        vault_secrets_ok("g", "s", "ns", "s-vault-", [], set()).detail
        == "no VaultStaticSecret s-vault-* in ns"
    )
    wrong_type = pull_secret_ok("g", "regsecret", "ns", {"type": "Opaque"}, {})
    assert wrong_type.failed and "Opaque" in wrong_type.detail


def test_each_environment_is_checked_in_its_own_cluster(
    env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from .fakeapi import serve_fake_api

    with serve_fake_api() as argocd, serve_fake_api() as prod:
        healthy(argocd)
        other_cluster(prod, monkeypatch)
        del argocd.objects["/apis/apps/v1/namespaces/poc-prod/deployments/api-gateway"]  # lives in prod only
        monkeypatch.setenv("KUBECONFIG", str(two_cluster_kubeconfig(tmp_path, argocd, prod, "prod-eu")))
        monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=prod-eu")
        assert main(["verify", "-C", str(tmp_path), "--skip-vault", "--output", "json"]) == 0
        report = json.loads(capsys.readouterr().out)
        groups = {c["group"] for c in report["checks"]}
        assert {
            "deployments/prod@prod-eu",
            "secrets/prod@prod-eu",
            "registry/prod@prod-eu",
            "deployments/dev",
        } <= groups
        assert not any("/applications/" in r.path for r in prod.requests)  # Applications live with ArgoCD
        assert any(r.path.endswith("/poc-prod/deployments/api-gateway") for r in prod.requests)
        assert not any("/namespaces/poc-prod/" in r.path for r in argocd.requests)


def test_push_mode_checks_each_clusters_agent_instead_of_applications(
    env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from .fakeapi import serve_fake_api

    with serve_fake_api() as own, serve_fake_api() as prod:
        healthy(own)
        other_cluster(prod, monkeypatch)
        own.objects["/api/v1/namespaces/gitlab-agent/pods/agent-0"] = _ready_pod("agent-0")
        monkeypatch.setenv("KUBECONFIG", str(two_cluster_kubeconfig(tmp_path, own, prod, "prod-eu")))
        monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=prod-eu")
        monkeypatch.setenv("GITOPS_MODE", "push")
        # In prod-eu: the agent is not running, health-demo's VaultAuth and its Deployment are missing.
        del prod.objects[
            "/apis/secrets.hashicorp.com/v1beta1/namespaces/poc-prod/vaultauths/health-demo-vault-auth"
        ]
        del prod.objects["/apis/apps/v1/namespaces/poc-prod/deployments/health-demo"]
        assert main(["verify", "-C", str(tmp_path), "--skip-vault", "--output", "json"]) == 1
        report = json.loads(capsys.readouterr().out)
        agents = {(c["group"], c["name"]): c for c in report["checks"] if c["group"].startswith("agents")}
        assert set(agents) == {("agents", "minikube-agent"), ("agents@prod-eu", "prod-eu")}
        assert agents[("agents", "minikube-agent")]["status"] == "ok"
        failed = agents[("agents@prod-eu", "prod-eu")]
        assert failed["status"] == "failed" and failed["fix"] == "run `gitops-poc setup push`"
        # What ArgoCD's platform-<env> would own is checked in its cluster, with the push-mode fix.
        platform = {
            (c["group"], c["name"]): c for c in report["checks"] if c["group"].startswith("platform/")
        }
        assert set(platform) == {
            (group, service)
            for group in ("platform/dev", "platform/prod@prod-eu")
            for service in ("api-gateway", "health-demo")
        }
        missing = platform[("platform/prod@prod-eu", "health-demo")]
        assert missing["status"] == "failed"
        assert missing["detail"] == "missing in poc-prod: VaultAuth health-demo-vault-auth"
        assert missing["fix"] == "run `gitops-poc setup push` (it applies gitops-config/platform/<env>/)"
        assert platform[("platform/dev", "health-demo")]["status"] == "ok"
        deployment = next(
            c
            for c in report["checks"]
            if c["group"] == "deployments/prod@prod-eu" and c["status"] == "failed"
        )
        assert (
            deployment["fix"]
            == "run the service's deploy:prod pipeline job (`gitops-poc ci deploy --env prod`)"
        )
        assert report["failed"] == 3
        assert not any(c["group"].startswith("applications/") for c in report["checks"])
        assert any(r.path == "/api/v1/namespaces/gitlab-agent/pods" for r in prod.requests)


def test_the_operator_of_each_other_cluster_is_checked_there(
    env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from .fakeapi import serve_fake_api

    with serve_fake_api() as argocd, serve_fake_api() as prod:
        healthy(argocd)
        other_cluster(prod, monkeypatch)
        monkeypatch.setenv("KUBECONFIG", str(two_cluster_kubeconfig(tmp_path, argocd, prod, "gke-prod")))
        monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=prod-eu")
        monkeypatch.setenv("CLUSTER_CONTEXTS", "prod-eu=gke-prod")
        root = ["verify", "-C", str(tmp_path), "--skip-vault", "--output", "json"]
        assert main(root) == 0
        checks = {(c["group"], c["name"]): c for c in json.loads(capsys.readouterr().out)["checks"]}
        remote = checks[("infrastructure@prod-eu", "vault-secrets-operator-system")]
        assert remote["status"] == "ok"
        connection = checks[("infrastructure@prod-eu", "vault-connection")]
        assert connection["status"] == "ok" and EXTERNAL_VAULT in connection["detail"]
        assert any(r.path == CONNECTION for r in prod.requests)
        pods = "/api/v1/namespaces/vault-secrets-operator-system/pods"
        assert any(r.path == pods for r in prod.requests)
        # Only the operator runs there: Vault and ArgoCD are not looked for in prod-eu.
        assert not any(
            r.path.startswith(("/api/v1/namespaces/vault/", "/api/v1/namespaces/argocd/"))
            for r in prod.requests
        )
        # No operator in prod-eu, and a connection left at the in-cluster address: both checks fail, with
        # what to do, and the others still run.
        del prod.objects[
            "/api/v1/namespaces/vault-secrets-operator-system/pods/vault-secrets-operator-system-0"
        ]
        prod.objects[CONNECTION]["spec"]["address"] = "http://vault.vault.svc.cluster.local:8200"
        assert main(root) == 1
        report = json.loads(capsys.readouterr().out)["checks"]
        failed = [(c["group"], c["name"], c["detail"], c["fix"]) for c in report if c["status"] == "failed"]
        assert failed == [
            (
                "infrastructure@prod-eu",
                "vault-secrets-operator-system",
                "no pods in vault-secrets-operator-system",
                "run `gitops-poc setup infrastructure`",
            ),
            (
                "infrastructure@prod-eu",
                "vault-connection",
                "VaultConnection vault-secrets-operator-system/default points at "
                "http://vault.vault.svc.cluster.local:8200, not VAULT_EXTERNAL_ADDR (https://vault.example.com)",
                "set VAULT_EXTERNAL_ADDR, then run `gitops-poc setup infrastructure`",
            ),
        ]
        assert len(report) > 20  # every other check ran too


def test_vault_connection_judgement() -> None:
    from gitops_poc.cluster.verify import vault_connection_ok

    at = {"spec": {"address": "https://vault.example.com/"}}
    assert vault_connection_ok("g", "c", at, "https://vault.example.com").status is Status.OK
    missing = vault_connection_ok("g", "c", None, "https://vault.example.com")
    assert missing.status is Status.FAILED and missing.detail.startswith("no VaultConnection")
    unset = vault_connection_ok("g", "c", at, "")
    assert unset.status is Status.FAILED and "not VAULT_EXTERNAL_ADDR (not set)" in unset.detail
