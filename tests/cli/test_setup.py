"""`setup infrastructure|registry|pull|push` end to end through the CLI, with the Kubernetes API standing in
at the HTTP boundary, stand-ins for minikube/helm/kubectl (no cluster runs here), and a REAL OpenBao behind
the port-forward. Every process's arguments and everything printed are recorded: no planted secret may
appear in them."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import hvac
import pytest

from gitops_poc.cli import main
from tests.argvparts import words
from tests.cluster.fakeapi import FakeApi, serve_fake_api
from tests.cluster.fakeapi import two_cluster_kubeconfig as fake_two_clusters
from tests.cluster.standins import calls, kubectl_port_forward
from tests.vault.bao import start_persistent

DEPLOY_TOKEN = "gldt-PLANTED-deploy-9f8e7d"
AGENT_TOKEN = "glagent-PLANTED-agent-1a2b3c"


def _no_secret_anywhere(secrets: list[str], processes: list[list[str]], printed: str) -> None:
    for secret in secrets:
        assert secret, "a planted secret must not be empty"
        assert not any(secret in arg for argv in processes for arg in argv), secret
        assert secret not in printed, secret


def test_infrastructure_installs_initialises_unseals_and_provisions_a_real_vault(
    tmp_path: Path,
    cluster: FakeApi,
    standins: Path,
    processes: list[list[str]],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    bao, server = start_persistent(tmp_path / "bao")
    try:
        kubectl_port_forward(standins, mode=f"tcp:{bao.port}")
        cluster.objects["/api/v1/namespaces/vault/pods/vault-0"] = {
            "metadata": {"name": "vault-0"},
            "status": {"phase": "Running"},
        }
        root = tmp_path / "platform"
        root.mkdir()
        assert main(["setup", "infrastructure", "-C", str(root)]) == 0
        keys = root / ".vault-keys.json"
        assert stat.S_IMODE(keys.stat().st_mode) == 0o600
        data = json.loads(keys.read_text())
        vault = hvac.Client(url=bao.addr, token=data["root_token"])
        assert "gitops-poc-api-gateway-dev" in vault.sys.list_acl_policies()["data"]["keys"]
        assert vault.auth.kubernetes.read_role("gitops-poc-api-gateway-dev")[
            "bound_service_account_names"
        ] == ["api-gateway"]
        helm = calls(standins / "helm.log")
        releases = [words(c["args"]) for c in helm]  # type: ignore[arg-type]
        assert [(*w.operands, w.one("--version")) for w in releases] == [
            ("vault", "vault", "0.34.1"),
            ("vault-secrets-operator", "vault-secrets-operator", "1.4.1"),
            ("argocd", "argo-cd", "10.1.1"),
        ]
        # minikube runs with its addons: it is only asked, never started or changed.
        minikube = [json.loads(line) for line in (standins / "minikube.log").read_text().splitlines()]
        assert {tuple(c[:2]) for c in minikube} <= {
            ("status", "--profile=minikube"),
            ("addons", "list"),
            ("profile", "list"),
        }
        # A re-run: nothing to initialise or unseal, nothing to write in Vault.
        capsys.readouterr()
        assert main(["setup", "infrastructure", "-C", str(root)]) == 0
        again = capsys.readouterr()
        assert "already initialised and unsealed" in again.err and "Nothing to do" in again.err
        printed = again.out + again.err + caplog.text
        _no_secret_anywhere([data["root_token"], *data["unseal_keys"]], processes, printed)
    finally:
        server.stop()


def test_registry_pull_push_keep_planted_secrets_out_of_argv_and_output(
    tmp_path: Path,
    cluster: FakeApi,
    standins: Path,
    processes: list[list[str]],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITLAB_DEPLOY_TOKEN_USER", "gitlab+deploy-token-7")
    monkeypatch.setenv("GITLAB_DEPLOY_TOKEN", DEPLOY_TOKEN)
    monkeypatch.setenv("GITLAB_AGENT_TOKEN", AGENT_TOKEN)
    cluster.objects["/api/v1/namespaces/argocd"] = {"metadata": {"name": "argocd"}}
    cluster.objects["/api/v1/namespaces/poc-dev/serviceaccounts/default"] = {
        "metadata": {"name": "default"},
        "imagePullSecrets": [{"name": "team-secret"}],
    }
    root = ["-C", str(tmp_path)]
    assert main(["init", *root, "--yes"]) == 0  # gitops-config/platform/<env>/, which `setup push` applies
    for command in (["registry"], ["pull"], ["push"]):
        for dry in (["--dry-run"], [], ["--output", "json"]):
            assert main(["setup", *command, *root, *dry]) == 0, (command, dry)
    printed = capsys.readouterr()
    _no_secret_anywhere([DEPLOY_TOKEN, AGENT_TOKEN], processes, printed.out + printed.err + caplog.text)
    # ... and yet they reached where they belong: the API (Secrets) and helm's private values file.
    secrets = [r.body for r in cluster.sent("PATCH") if r.body and r.body.get("kind") == "Secret"]
    assert any(
        DEPLOY_TOKEN in json.dumps(s.get("stringData"))
        for s in secrets
        if s["metadata"]["name"] == "regsecret"
    )
    assert any(
        s["stringData"].get("password") == DEPLOY_TOKEN
        for s in secrets
        if s["metadata"]["name"] == "gitops-poc-repo-creds"
    )
    agent = [c for c in calls(standins / "helm.log") if "gitlab-agent" in c["args"]]  # type: ignore[operator]
    assert len(agent) == 2
    private = [f for c in agent for path, f in c["files"].items() if "private-values" in path]  # type: ignore[union-attr]
    assert len(private) == 2
    assert all(f == {"mode": "0o600", "text": f"config:\n  token: {AGENT_TOKEN}\n"} for f in private)
    # The default account's own pull secret is kept, ours added.
    patch = next(r for r in cluster.sent("PATCH") if r.path.endswith("/poc-dev/serviceaccounts/default"))
    assert patch.body == {"imagePullSecrets": [{"name": "team-secret"}, {"name": "regsecret"}]}
    assert patch.headers["content-type"] == "application/strategic-merge-patch+json"
    applied = [
        r for r in cluster.sent("PATCH") if r.headers["content-type"] == "application/apply-patch+yaml"
    ]
    assert {r.query["fieldManager"][0] for r in applied} == {"gitops-poc"}
    kinds = [r.body["kind"] for r in applied]
    assert {"Namespace", "Secret", "AppProject", "Application", "ApplicationSet", "RoleBinding"} <= set(kinds)


def test_registry_without_credentials_or_terminal_is_bad_input(
    tmp_path: Path, cluster: FakeApi, standins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["setup", "registry", "-C", str(tmp_path)]) == 2
    assert "GITLAB_DEPLOY_TOKEN" in capsys.readouterr().err
    assert cluster.sent("PATCH") == []


def test_pull_before_infrastructure_says_what_to_run(
    tmp_path: Path, cluster: FakeApi, standins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["setup", "pull", "-C", str(tmp_path)]) == 2
    assert "setup infrastructure" in capsys.readouterr().err


def test_push_token_from_stdin(
    tmp_path: Path,
    cluster: FakeApi,
    standins: Path,
    processes: list[list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    assert main(["init", "-C", str(tmp_path), "--yes"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(AGENT_TOKEN + "\n"))
    assert main(["setup", "push", "-C", str(tmp_path), "--token-file", "-"]) == 0
    # The helm pulls are the pinned charts whose CRDs check the plan's custom resources before applying.
    [call] = [c for c in calls(standins / "helm.log") if c["args"][:1] != ["pull"]]  # type: ignore[index]
    assert any(f["text"].endswith(f"token: {AGENT_TOKEN}\n") for f in call["files"].values())  # type: ignore[union-attr]
    printed = capsys.readouterr()
    _no_secret_anywhere([AGENT_TOKEN], processes, printed.out + printed.err)


def test_push_applies_the_same_platform_objects_on_a_rerun_and_needs_init_first(
    tmp_path: Path,
    cluster: FakeApi,
    standins: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITLAB_AGENT_TOKEN", AGENT_TOKEN)
    root = ["-C", str(tmp_path)]
    assert main(["setup", "push", *root, "--dry-run"]) == 2
    assert (
        "gitops-config/platform/dev: no such folder; run `gitops-poc init` first" in capsys.readouterr().err
    )
    assert cluster.requests == [] and calls(standins / "helm.log") == []
    assert main(["init", *root, "--yes"]) == 0
    assert main(["setup", "push", *root, "--dry-run", "--output", "json"]) == 0
    planned = [s["object"] for s in json.loads(capsys.readouterr().out)["steps"] if s["step"] == "apply"]
    assert {r.method for r in cluster.requests} == {"GET"}  # helm reads what is deployed; nothing changes
    assert main(["setup", "push", *root]) == 0
    first = [r.body for r in cluster.sent("PATCH")]
    assert first == planned  # the dry run printed exactly what is applied
    assert main(["setup", "push", *root]) == 0
    assert [r.body for r in cluster.sent("PATCH")][len(first) :] == first  # same objects, same content


def test_infrastructure_dry_run_changes_nothing(
    tmp_path: Path, cluster: FakeApi, standins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["setup", "infrastructure", "-C", str(tmp_path), "--dry-run", "--output", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [s["step"] for s in plan["steps"]] == ["helm", "vault", "wait", "helm", "helm", "wait"]
    assert calls(standins / "helm.log") == [] and cluster.sent("PATCH") == []
    assert not (tmp_path / ".vault-keys.json").exists()


def two_cluster_kubeconfig(
    tmp_path: Path, own: FakeApi, prod: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KUBECONFIG with `minikube` (ArgoCD's cluster) and `gke-prod`, each a fake API server of its own."""
    monkeypatch.setenv("KUBECONFIG", str(fake_two_clusters(tmp_path, own, prod, "gke-prod")))


def test_pull_registers_another_cluster_like_argocd_cluster_add(
    tmp_path: Path,
    standins: Path,
    processes: list[list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    manager_token = "eyJ-PLANTED-manager-token"
    with serve_fake_api() as argocd, serve_fake_api() as prod:
        argocd.objects["/api/v1/namespaces/argocd"] = {"metadata": {"name": "argocd"}}
        prod.tokens["service-account-token"] = manager_token
        two_cluster_kubeconfig(tmp_path, argocd, prod, monkeypatch)
        monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=prod-eu")
        root = ["-C", str(tmp_path)]
        assert main(["setup", "pull", *root, "--cluster", "nope=gke-prod"]) == 2
        assert "'nope' is not a cluster of ENVIRONMENT_CLUSTERS (prod-eu)" in capsys.readouterr().err
        assert main(["setup", "pull", *root, "--cluster", "prod-eu=gke-prod"]) == 0
        in_target = [(r.body["kind"], r.body["metadata"]["name"]) for r in prod.sent("PATCH")]
        assert in_target == [
            ("ServiceAccount", "argocd-manager"),
            ("ClusterRole", "argocd-manager-role"),
            ("ClusterRoleBinding", "argocd-manager-role-binding"),
            ("Secret", "argocd-manager-long-lived-token"),
            ("ClusterRoleBinding", "gitops-poc-vault-token-review"),
        ]
        review = prod.sent("PATCH")[-1].body
        assert review["subjects"] == [
            {
                "kind": "Group",
                "name": "system:serviceaccounts:poc-prod",
                "apiGroup": "rbac.authorization.k8s.io",
            }
        ]
        applied = {(r.body["kind"], r.body["metadata"]["name"]): r.body for r in argocd.sent("PATCH")}
        secret = applied[("Secret", "cluster-prod-eu")]
        assert secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "cluster"
        assert secret["stringData"]["name"] == "prod-eu" and secret["stringData"]["server"] == prod.url
        assert json.loads(secret["stringData"]["config"])["bearerToken"] == manager_token
        project = applied[("AppProject", "gitops-poc")]
        assert {"name": "prod-eu", "namespace": "poc-prod"} in project["spec"]["destinations"]
        appset = applied[("ApplicationSet", "gitops-poc-services")]
        assert appset["spec"]["template"]["spec"]["destination"]["name"] == "{{.cluster}}"
        printed = capsys.readouterr()
        _no_secret_anywhere([manager_token], processes, printed.out + printed.err + caplog.text)


def test_push_installs_one_agent_per_cluster_each_with_its_own_token(
    tmp_path: Path,
    standins: Path,
    processes: list[list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    prod_token = "glagent-PLANTED-prod-eu-4d5e6f"
    with serve_fake_api() as own, serve_fake_api() as prod:
        two_cluster_kubeconfig(tmp_path, own, prod, monkeypatch)
        monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=prod-eu")
        monkeypatch.setenv("CLUSTER_CONTEXTS", "prod-eu=gke-prod")
        monkeypatch.setenv("GITLAB_AGENT_TOKEN", AGENT_TOKEN)
        root = ["-C", str(tmp_path)]
        assert main(["init", *root, "--yes"]) == 0
        # The remote cluster's token from the .env file, as `gitlab bootstrap` writes it there.
        (tmp_path / ".env").write_text(f"GITLAB_AGENT_TOKEN_PROD_EU={prod_token}\n")
        assert main(["setup", "push", *root, "--output", "json"]) == 0
        plan = json.loads(capsys.readouterr().out)
        releases = [(s["context"], s["private_values"]) for s in plan["steps"] if s["step"] == "helm"]
        assert releases == [("", ["config.token"]), ("gke-prod", ["config.token"])]
        assert plan["notes"] == [
            "CI deploys dev staging through the kube context gitops-poc/gitops-config:minikube-agent "
            "(agent in KUBE_CONTEXT minikube)",
            "CI deploys prod through the kube context gitops-poc/gitops-config:prod-eu "
            "(agent in kube context gke-prod)",
            "the platform objects come from gitops-config/platform/<env>/ (as ArgoCD's platform-<env> would "
            "sync them); nothing syncs them in push mode: re-run `setup push` after `init` changes them",
            "prune: no platform object to delete (only objects labelled part of an environment's ApplySet"
            " gitops-poc-platform are ever pruned)",
        ]

        def bindings(api: FakeApi) -> list[str]:
            return [
                r.body["metadata"]["namespace"]
                for r in api.sent("PATCH")
                if r.body and r.body["kind"] == "RoleBinding"
            ]

        assert bindings(own) == ["poc-dev", "poc-staging", "gitlab-agent"]  # + the agent's own namespace
        assert bindings(prod) == ["poc-prod", "gitlab-agent"]

        # The platform objects ArgoCD's platform-<env> would sync: each environment's in its own cluster,
        # server-side applied with our field manager, before that cluster's agent release.
        def platform_objects(api: FakeApi) -> list[tuple[str, str, str]]:
            return [
                (r.body["kind"], r.body["metadata"]["namespace"], r.body["metadata"]["name"])
                for r in api.sent("PATCH")
                if r.body and r.body["kind"] in {"ServiceAccount", "VaultAuth", "PodDisruptionBudget"}
            ]

        services = ("api-gateway", "auth-adapter", "health-demo", "web-grpc", "web-http")
        assert platform_objects(own) == [
            (kind, f"poc-{env}", name)
            for env in ("dev", "staging")
            for s in services
            for kind, name in (("ServiceAccount", s), ("VaultAuth", f"{s}-vault-auth"))
        ]
        assert platform_objects(prod) == [
            (kind, "poc-prod", name)
            for s in services
            for kind, name in (
                ("ServiceAccount", s),
                ("VaultAuth", f"{s}-vault-auth"),
                ("PodDisruptionBudget", f"{s}-pdb"),
            )
        ]
        applied = [r for r in prod.sent("PATCH") if r.path.endswith("/vaultauths/api-gateway-vault-auth")]
        assert [r.path for r in applied] == [
            "/apis/secrets.hashicorp.com/v1beta1/namespaces/poc-prod/vaultauths/api-gateway-vault-auth"
        ]
        assert applied[0].headers["content-type"] == "application/apply-patch+yaml"
        assert applied[0].query["fieldManager"] == ["gitops-poc"]
        assert applied[0].body["spec"]["mount"] == "kubernetes-prod-eu"  # prod-eu's own auth mount
        assert not any("/namespaces/poc-prod/" in r.path for r in own.requests)
        helm = [c for c in calls(standins / "helm.log") if "gitlab-agent" in c["args"]]  # type: ignore[operator]
        contexts = [words(c["args"]).one("--kube-context") for c in helm]  # type: ignore[arg-type]
        assert contexts == ["minikube", "gke-prod"]
        tokens = [f["text"] for c in helm for p, f in c["files"].items() if "private-values" in p]  # type: ignore[union-attr]
        assert tokens == [f"config:\n  token: {AGENT_TOKEN}\n", f"config:\n  token: {prod_token}\n"]
        printed = capsys.readouterr()
        _no_secret_anywhere([AGENT_TOKEN, prod_token], processes, printed.out + printed.err + caplog.text)
        # No token for a cluster and no terminal: a clear error naming the key, nothing installed.
        (tmp_path / ".env").write_text("")
        before = len(calls(standins / "helm.log"))
        assert main(["setup", "push", *root]) == 2
        assert "GITLAB_AGENT_TOKEN_PROD_EU is not set" in capsys.readouterr().err
        assert len(calls(standins / "helm.log")) == before


def test_infrastructure_with_another_cluster_needs_vault_external_addr_then_installs_its_operator_there(
    tmp_path: Path,
    standins: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gitops_poc.cluster.apply import ClusterRunner, apply_plan
    from gitops_poc.cluster.infrastructure import plan_remote_clusters
    from gitops_poc.cluster.model import ClusterPlan
    from gitops_poc.config import load_config
    from gitops_poc.platform import Platform
    from gitops_poc.render.helm import Helm

    with serve_fake_api() as own, serve_fake_api() as prod:
        two_cluster_kubeconfig(tmp_path, own, prod, monkeypatch)
        monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=prod-eu")
        monkeypatch.setenv("CLUSTER_CONTEXTS", "prod-eu=gke-prod")
        root = ["setup", "infrastructure", "-C", str(tmp_path)]
        for dry in (["--dry-run"], []):
            assert main([*root, *dry]) == 2
            assert "VAULT_EXTERNAL_ADDR is not set: the Vault Secrets Operator of cluster(s) prod-eu" in (
                capsys.readouterr().err
            )
        assert calls(standins / "helm.log") == [] and own.sent("PATCH") == [] and prod.requests == []

        monkeypatch.setenv("VAULT_EXTERNAL_ADDR", "https://vault.example.com")
        assert main([*root, "--dry-run", "--output", "json"]) == 0
        steps = json.loads(capsys.readouterr().out)["steps"]
        assert [(s["step"], s["context"]) for s in steps[-2:]] == [
            ("apply", "gke-prod"),
            ("helm", "gke-prod"),
        ]
        assert steps[-1]["set_strings"] == {"defaultVaultConnection.address": "https://vault.example.com"}
        # A dry run only reads: helm asks each cluster what is deployed, nothing is installed or applied.
        assert {r.method for r in prod.requests} == {"GET"} and calls(standins / "helm.log") == []
        own.requests.clear()
        prod.requests.clear()

        # What the real run does with those steps (Vault's own bootstrap is tested above): each goes to
        # prod-eu's context, nothing to ArgoCD's cluster.
        platform = Platform(load_config(None, dict(os.environ)))
        runner = ClusterRunner("minikube", Helm(str(standins / "helm")))
        assert apply_plan(ClusterPlan(tuple(plan_remote_clusters(platform))), runner) == 2
        [binding] = prod.sent("PATCH")
        assert binding.path.endswith("/clusterrolebindings/gitops-poc-vault-token-review")
        assert binding.query["fieldManager"] == ["gitops-poc"]
        assert own.requests == []
        [helm] = calls(standins / "helm.log")
        args = helm["args"]
        parsed = words(args)  # type: ignore[arg-type]
        assert parsed.words == ["upgrade"] and parsed.operands == ["vault-secrets-operator"] * 2
        assert parsed.one("--kube-context") == "gke-prod"
        assert "defaultVaultConnection.address=https://vault.example.com" in parsed.options["--set-string"]
