"""`setup push` prunes the platform objects it no longer generates, and nothing else: each environment's
objects form an ApplySet (KEP-3659 labels and annotations on a parent ConfigMap), tested against the
Kubernetes API stand-in with the real client, and the helm stand-in for the agent release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.cluster.applyset import (
    CONTAINS_ANNOTATION,
    ID_LABEL,
    PART_OF_LABEL,
    TOOLING_ANNOTATION,
    applyset_id,
)
from tests.cluster.fakeapi import FakeApi

SA = "/api/v1/namespaces/{ns}/serviceaccounts/{name}"
VAULT_AUTH = "/apis/secrets.hashicorp.com/v1beta1/namespaces/{ns}/vaultauths/{name}"
PDB = "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/{name}"
PARENT = "/api/v1/namespaces/{ns}/configmaps/gitops-poc-platform"
ENVS = ("dev", "staging", "prod")
# What removing web-http leaves behind: its ServiceAccount and VaultAuth everywhere, its PDB in prod.
WEB_HTTP = sorted(
    [
        *(("ServiceAccount", f"poc-{env}", "web-http") for env in ENVS),
        *(("VaultAuth", f"poc-{env}", "web-http-vault-auth") for env in ENVS),
        ("PodDisruptionBudget", "poc-prod", "web-http-pdb"),
    ]
)


@pytest.fixture
def pushed(tmp_path: Path, cluster: FakeApi, standins: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A platform pushed once with the five default services."""
    monkeypatch.setenv("GITLAB_AGENT_TOKEN", "glagent-test")
    root = ["-C", str(tmp_path)]
    assert main(["init", *root, "--yes"]) == 0
    assert main(["setup", "push", *root]) == 0
    return root


def remove_web_http(root: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICES", "api-gateway auth-adapter health-demo web-grpc")
    assert main(["init", *root, "--yes"]) == 0


def deleted(cluster: FakeApi) -> list[tuple[str, str, str]]:
    kinds = {
        "serviceaccounts": "ServiceAccount",
        "vaultauths": "VaultAuth",
        "poddisruptionbudgets": "PodDisruptionBudget",
    }
    found = []
    for request in cluster.sent("DELETE"):
        parts = request.path.split("/")
        found.append((kinds[parts[-2]], parts[-3], parts[-1]))
    return sorted(found)


def test_the_objects_are_an_applyset_with_the_keps_labels(pushed: list[str], cluster: FakeApi) -> None:
    for env in ENVS:
        ns = f"poc-{env}"
        parent = cluster.objects[PARENT.format(ns=ns)]
        assert parent["metadata"]["labels"][ID_LABEL] == applyset_id(ns)
        assert applyset_id(ns).startswith("applyset-") and applyset_id(ns).endswith("-v1")
        annotations = parent["metadata"]["annotations"]
        assert annotations[TOOLING_ANNOTATION].startswith("gitops-poc/v")
        kinds = "PodDisruptionBudget.policy,ServiceAccount,VaultAuth.secrets.hashicorp.com"
        assert annotations[CONTAINS_ANNOTATION] == (
            kinds if env == "prod" else "ServiceAccount,VaultAuth.secrets.hashicorp.com"
        )
        member = cluster.objects[SA.format(ns=ns, name="web-http")]
        assert member["metadata"]["labels"][PART_OF_LABEL] == applyset_id(ns)
    # The KEP's id: base64url(sha256("<name>.<namespace>.<kind>.<group>")), no padding, "-v1".
    import base64
    import hashlib

    digest = hashlib.sha256(b"gitops-poc-platform.poc-dev.ConfigMap.").digest()
    assert (
        applyset_id("poc-dev") == "applyset-" + base64.urlsafe_b64encode(digest).decode().rstrip("=") + "-v1"
    )


def test_a_removed_service_is_pruned_and_nothing_else(
    pushed: list[str], cluster: FakeApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Not ours: a ServiceAccount made by hand, and one labelled part of another ApplySet.
    cluster.objects[SA.format(ns="poc-dev", name="by-hand")] = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "by-hand", "namespace": "poc-dev"},
    }
    cluster.objects[SA.format(ns="poc-dev", name="other-set")] = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "other-set", "namespace": "poc-dev", "labels": {PART_OF_LABEL: "applyset-x-v1"}},
    }
    remove_web_http(pushed, monkeypatch)
    capsys.readouterr()
    # The dry run lists what would be pruned and changes nothing.
    before = len(cluster.requests)
    assert main(["setup", "push", *pushed, "--dry-run", "-o", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    planned = sorted((s["kind"], s["namespace"], s["name"]) for s in plan["steps"] if s["step"] == "delete")
    assert planned == WEB_HTTP
    assert "prune: 7 platform object(s) no longer generated would be deleted" in plan["notes"]
    assert {r.method for r in cluster.requests[before:]} == {"GET"}
    assert main(["setup", "push", *pushed, "--dry-run"]) == 0
    text = " ".join(capsys.readouterr().err.split())
    assert "delete ServiceAccount poc-dev/web-http (no longer in gitops-config/platform/dev/ (pruned" in text
    # The real run deletes exactly those, after applying the rest.
    assert main(["setup", "push", *pushed]) == 0
    assert deleted(cluster) == WEB_HTTP
    for kind, ns, name in WEB_HTTP:
        path = {"ServiceAccount": SA, "VaultAuth": VAULT_AUTH, "PodDisruptionBudget": PDB}[kind]
        assert path.format(ns=ns, name=name) not in cluster.objects
    assert SA.format(ns="poc-dev", name="by-hand") in cluster.objects
    assert SA.format(ns="poc-dev", name="other-set") in cluster.objects
    assert SA.format(ns="poc-dev", name="api-gateway") in cluster.objects
    # A re-run has nothing left to prune.
    capsys.readouterr()
    assert main(["setup", "push", *pushed, "-o", "json"]) == 0
    assert not [s for s in json.loads(capsys.readouterr().out)["steps"] if s["step"] == "delete"]
    assert len(cluster.sent("DELETE")) == 7


def test_more_deletions_than_the_guard_allows_change_nothing(
    pushed: list[str], cluster: FakeApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    remove_web_http(pushed, monkeypatch)
    capsys.readouterr()
    before = len(cluster.requests)
    assert main(["setup", "push", *pushed, "--max-prune", "6"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "setup push would prune 7 platform object(s), more than --max-prune 6:" in err
    assert "nothing was changed" in err and "--max-prune 7" in err
    assert {r.method for r in cluster.requests[before:]} == {"GET"}  # read only: no apply, no delete
    # The dry run shows the plan, then says the guard would stop it (exit 1).
    assert main(["setup", "push", *pushed, "--max-prune", "6", "--dry-run"]) == 1
    assert "delete VaultAuth poc-prod/web-http-vault-auth" in " ".join(capsys.readouterr().err.split())
    assert cluster.sent("DELETE") == []
    # Allowed explicitly: pruned.
    assert main(["setup", "push", *pushed, "--max-prune", "7"]) == 0
    assert deleted(cluster) == WEB_HTTP


def test_an_emptied_folder_trips_the_default_guard(
    pushed: list[str], tmp_path: Path, cluster: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    """A platform folder emptied by mistake would delete every service's objects: 10 by default stops it."""
    for env in ("dev", "staging"):
        for path in (tmp_path / "gitops-config" / "platform" / env).iterdir():
            path.unlink()
    capsys.readouterr()
    assert main(["setup", "push", *pushed]) == 1
    assert "would prune 20 platform object(s), more than --max-prune 10" in capsys.readouterr().err
    assert cluster.sent("DELETE") == []


def test_a_configmap_of_that_name_that_is_not_the_parent_is_refused(
    tmp_path: Path,
    cluster: FakeApi,
    standins: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITLAB_AGENT_TOKEN", "glagent-test")
    root = ["-C", str(tmp_path)]
    assert main(["init", *root, "--yes"]) == 0
    cluster.objects[PARENT.format(ns="poc-staging")] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "gitops-poc-platform", "namespace": "poc-staging"},
    }
    capsys.readouterr()
    assert main(["setup", "push", *root]) == 2
    assert (
        "ConfigMap poc-staging/gitops-poc-platform exists but is not the ApplySet parent"
        in capsys.readouterr().err
    )
    assert cluster.sent("PATCH") == [] and cluster.sent("DELETE") == []


def test_a_dry_run_without_a_cluster_says_pruning_is_not_known(
    tmp_path: Path, standins: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cluster.fakeapi import unreachable_kubeconfig

    monkeypatch.setenv("KUBECONFIG", str(unreachable_kubeconfig(tmp_path)))
    root = ["-C", str(tmp_path)]
    assert main(["init", *root, "--yes"]) == 0
    capsys.readouterr()
    assert main(["setup", "push", *root, "--dry-run"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "poc-dev: what `setup push` applied before could not be read: what it prunes is not known" in err


@pytest.mark.helm
def test_an_invalid_custom_resource_stops_the_plan_before_any_change(
    tmp_path: Path,
    cluster: FakeApi,
    standins: Path,
    platform_charts_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The VaultAuth of gitops-config/platform/dev/ with a field its CRD (Vault Secrets Operator 1.4.1, pulled
    from the pinned chart) does not know: setup push (and its dry run) exits 2 naming object and field, and
    nothing is applied; setup pull checks its AppProject, Applications and ApplicationSet the same way."""
    from tests.cluster.standins import recorder
    from tests.conftest import require_binary

    # helm pull and template run for real (the CRDs of the pinned charts); upgrade stays recorded.
    real = str(Path(require_binary("helm")).resolve())
    recorder(standins, "helm", real=real, reads=("history", "get", "pull", "template"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GITLAB_AGENT_TOKEN", "glagent-test")
    root = ["-C", str(tmp_path)]
    assert main(["init", *root, "--yes"]) == 0
    capsys.readouterr()
    assert main(["setup", "push", *root, "--dry-run"]) == 0
    assert "custom resource(s) not checked" not in capsys.readouterr().err
    auth = tmp_path / "gitops-config/platform/dev/web-http.yaml"
    auth.write_text(auth.read_text().replace("    audiences:", "    audience:"))
    for dry in (["--dry-run"], []):
        assert main(["setup", "push", *root, *dry]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert "1 object(s) of the plan would be rejected by the API server" in err
        assert (
            "VaultAuth poc-dev/web-http-vault-auth: (CRD of vault-secrets-operator 1.4.1)"
            " spec.kubernetes.audience: Additional properties are not allowed ('audience' was unexpected)"
            in err
        )
    assert cluster.sent("PATCH") == [] and cluster.sent("DELETE") == []
    # setup pull: the generated Argo CD objects pass the Argo CD chart's CRDs.
    cluster.objects["/api/v1/namespaces/argocd"] = {"metadata": {"name": "argocd"}}
    assert main(["setup", "pull", *root, "--dry-run"]) == 0
    assert "custom resource(s) not checked" not in capsys.readouterr().err


def test_each_environment_is_pruned_in_its_own_cluster(
    tmp_path: Path, standins: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cluster.fakeapi import serve_fake_api, two_cluster_kubeconfig

    with serve_fake_api() as own, serve_fake_api() as prod:
        own.anonymous = prod.anonymous = True  # helm (client-go) reads the releases without a token
        monkeypatch.setenv("KUBECONFIG", str(two_cluster_kubeconfig(tmp_path, own, prod, "gke-prod")))
        monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=prod-eu")
        monkeypatch.setenv("CLUSTER_CONTEXTS", "prod-eu=gke-prod")
        monkeypatch.setenv("GITLAB_AGENT_TOKEN", "glagent-own")
        monkeypatch.setenv("GITLAB_AGENT_TOKEN_PROD_EU", "glagent-prod")
        root = ["-C", str(tmp_path)]
        assert main(["init", *root, "--yes"]) == 0
        assert main(["setup", "push", *root]) == 0
        assert (
            PARENT.format(ns="poc-prod") in prod.objects and PARENT.format(ns="poc-prod") not in own.objects
        )
        remove_web_http(root, monkeypatch)
        assert main(["setup", "push", *root]) == 0
        assert deleted(prod) == [t for t in WEB_HTTP if t[1] == "poc-prod"]
        assert deleted(own) == [t for t in WEB_HTTP if t[1] != "poc-prod"]
