"""Release tests: the delivery tests' service repository with a real bare remote, the Kubernetes API
stand-in of tests/cluster, and the Argo CD CRDs of the pinned chart (served on loopback) to validate what
it serves and what init generates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_poc.config import load_config
from gitops_poc.render.crds import load_crd_schemas
from gitops_poc.render.crdschema import CrdSchemas
from gitops_poc.render.helm import Helm
from tests.cluster.fakeapi import FakeApi, serve_fake_api
from tests.conftest import require_binary
from tests.delivery.conftest import ServiceRemote, make_service_remote


@pytest.fixture
def service_remote(tmp_path: Path) -> ServiceRemote:
    return make_service_remote(tmp_path)


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    with serve_fake_api() as api:
        yield api


@pytest.fixture(scope="module")
def argocd_crds(chart_repos: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> CrdSchemas:
    config = load_config(
        None, {"HASHICORP_HELM_REPO": chart_repos["hashicorp"], "ARGO_HELM_REPO": chart_repos["argo"]}
    )
    cache = {"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("xdg"))}
    loaded = load_crd_schemas(config, Helm(require_binary("helm")), cache)
    assert loaded.find("argoproj.io/v1alpha1", "Application") is not None
    return loaded


@pytest.fixture
def push_mode(fake_api: FakeApi, k8app_repo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    """GITOPS_MODE=push, the real helm (its cache and configuration under tmp_path) and the kubernetes client
    reaching the API stand-in as context `minikube`, the published chart on loopback, api-gateway."""
    helm = require_binary("helm")
    monkeypatch.setattr("gitops_poc.render.helm.find_helm", lambda root=None: helm)
    fake_api.anonymous = True  # helm (client-go) sends no bearer token over plain HTTP
    monkeypatch.setenv("KUBECONFIG", str(fake_api.kubeconfig(tmp_path)))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GITOPS_MODE", "push")
    monkeypatch.setenv("CHART_REPO", k8app_repo)
    monkeypatch.setenv("SERVICE_NAME", "api-gateway")
    return fake_api
