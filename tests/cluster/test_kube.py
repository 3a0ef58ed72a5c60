"""The Kubernetes adapter at the HTTP boundary: what the official client sends."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.cluster.kube import ClusterError, ClusterUnreachable, Kube, resource_path

from .fakeapi import FakeApi


def test_server_side_apply_sends_the_apply_content_type_and_our_field_manager(
    fake_api: FakeApi, kubeconfig: Path
) -> None:
    kube = Kube.from_kubeconfig("minikube")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "regsecret", "namespace": "poc-dev"},
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": "{}"},
    }
    kube.apply(secret)
    [request] = fake_api.sent("PATCH")
    assert request.path == "/api/v1/namespaces/poc-dev/secrets/regsecret"
    assert request.headers["content-type"] == "application/apply-patch+yaml"
    assert request.query == {"fieldManager": ["gitops-poc"], "force": ["true"]}
    assert request.body == secret
    assert request.headers["authorization"] == "Bearer fake-bearer-token"


def test_custom_resources_go_under_their_group(fake_api: FakeApi, kubeconfig: Path) -> None:
    kube = Kube.from_kubeconfig("minikube")
    kube.apply(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "gitops-poc", "namespace": "argocd"},
            "spec": {},
        }
    )
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "poc-dev"}})
    assert [r.path for r in fake_api.sent("PATCH")] == [
        "/apis/argoproj.io/v1alpha1/namespaces/argocd/appprojects/gitops-poc",
        "/api/v1/namespaces/poc-dev",
    ]


def test_strategic_merge_patch(fake_api: FakeApi, kubeconfig: Path) -> None:
    fake_api.objects["/api/v1/namespaces/poc-dev/serviceaccounts/default"] = {"metadata": {"name": "default"}}
    Kube.from_kubeconfig("minikube").patch(
        "v1", "ServiceAccount", "poc-dev", "default", {"imagePullSecrets": [{"name": "regsecret"}]}
    )
    [request] = fake_api.sent("PATCH")
    assert request.headers["content-type"] == "application/strategic-merge-patch+json"
    assert request.body == {"imagePullSecrets": [{"name": "regsecret"}]}
    assert request.query == {"fieldManager": ["gitops-poc"]}


def test_get_missing_is_none_and_list_uses_the_label_selector(fake_api: FakeApi, kubeconfig: Path) -> None:
    kube = Kube.from_kubeconfig("minikube")
    assert kube.get("v1", "Secret", "poc-dev", "nope") is None
    fake_api.objects["/api/v1/namespaces/argocd/secrets/a"] = {
        "metadata": {"name": "a", "labels": {"x": "1"}}
    }
    fake_api.objects["/api/v1/namespaces/argocd/secrets/b"] = {"metadata": {"name": "b"}}
    assert [o["metadata"]["name"] for o in kube.list("v1", "Secret", "argocd", "x=1")] == ["a"]
    assert fake_api.requests[-1].query == {"labelSelector": ["x=1"]}


def test_token_request(fake_api: FakeApi, kubeconfig: Path) -> None:
    fake_api.tokens["kube-system/argocd-manager"] = "the-token"
    token = Kube.from_kubeconfig("minikube").create_token(
        "kube-system", "argocd-manager", audiences=("vault",)
    )
    assert token == "the-token"
    [request] = fake_api.sent("POST")
    assert request.path == "/api/v1/namespaces/kube-system/serviceaccounts/argocd-manager/token"
    assert request.body["spec"] == {"audiences": ["vault"]}


def test_refusals_become_cluster_errors_with_the_servers_message(fake_api: FakeApi, kubeconfig: Path) -> None:
    fake_api.fail[("PATCH", "/api/v1/namespaces/x")] = (403, 'namespaces "x" is forbidden')
    with pytest.raises(ClusterError, match='403 namespaces "x" is forbidden') as caught:
        Kube.from_kubeconfig("minikube").apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}
        )
    assert caught.value.status == 403 and caught.value.method == "PATCH"


def test_unknown_context_and_dead_server_are_unreachable(
    fake_api: FakeApi, kubeconfig: Path, tmp_path: Path
) -> None:
    with pytest.raises(ClusterUnreachable, match="other"):
        Kube.from_kubeconfig("other")
    dead = FakeApi(url="http://127.0.0.1:9").kubeconfig(tmp_path, "dead")
    with pytest.raises(ClusterUnreachable, match="does not answer"):
        Kube.from_kubeconfig("dead", str(dead)).version()


def test_resource_paths() -> None:
    assert resource_path("apps/v1", "Deployment", "poc-dev") == "/apis/apps/v1/namespaces/poc-dev/deployments"
    assert resource_path("v1", "Node") == "/api/v1/nodes"
    with pytest.raises(ClusterError, match="does not handle the kind Widget"):
        resource_path("v1", "Widget")
