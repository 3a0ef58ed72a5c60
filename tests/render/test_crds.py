"""CRD schemas from the real pinned charts (VSO 1.4.1, Argo CD 10.1.1) served on loopback, as users pull
them: extracted with helm, cached beside the chart, applied as the API server applies them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.config import load_config
from gitops_poc.render.crds import CACHE_FILE, load_crd_schemas
from gitops_poc.render.crdschema import CrdSchemas
from gitops_poc.render.helm import Helm
from gitops_poc.render.manifests import Manifest
from gitops_poc.render.validate import validate_manifests
from tests.conftest import require_binary

pytestmark = pytest.mark.helm


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One chart cache for the module: the charts are pulled and their CRDs extracted once."""
    return {"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("xdg"))}


@pytest.fixture(scope="module")
def crds(chart_repos: dict[str, str], shared_cache: dict[str, str]) -> CrdSchemas:
    config = load_config(
        None, {"HASHICORP_HELM_REPO": chart_repos["hashicorp"], "ARGO_HELM_REPO": chart_repos["argo"]}
    )
    loaded = load_crd_schemas(config, Helm(require_binary("helm")), shared_cache)
    assert loaded.unavailable == []
    return loaded


def application(**spec: Any) -> Manifest:
    body = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "demo", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "demo"},
            "source": {"repoURL": "https://example.com/r.git", "targetRevision": "main", "path": "."},
            **spec,
        },
    }
    return Manifest("test.yaml", "", body)


def errors(crds: CrdSchemas, *manifests: Manifest) -> list[str]:
    return [f.message for f in validate_manifests(list(manifests), "1.34", crds).errors]


def test_the_kinds_of_both_charts_are_extracted_and_cached(
    crds: CrdSchemas, shared_cache: dict[str, str]
) -> None:
    cache = Path(shared_cache["XDG_CACHE_HOME"]) / "gitops-poc" / "charts"
    kinds = {key[1] for key in crds.schemas}
    assert {"VaultAuth", "VaultStaticSecret", "VaultConnection", "Application", "ApplicationSet"} <= kinds
    assert "AppProject" in kinds and crds.charts == ["argo-cd 10.1.1", "vault-secrets-operator 1.4.1"]
    assert (cache / "argo-cd-10.1.1" / CACHE_FILE).is_file()
    assert (cache / "vault-secrets-operator-1.4.1" / CACHE_FILE).is_file()


def test_a_cached_schema_needs_no_helm(
    crds: CrdSchemas, chart_repos: dict[str, str], shared_cache: dict[str, str]
) -> None:
    config = load_config(
        None, {"HASHICORP_HELM_REPO": chart_repos["hashicorp"], "ARGO_HELM_REPO": chart_repos["argo"]}
    )
    again = load_crd_schemas(config, None, shared_cache)
    assert again.unavailable == [] and again.schemas.keys() == crds.schemas.keys()


def test_without_helm_or_cache_the_reason_is_given(chart_cache: Path) -> None:
    loaded = load_crd_schemas(load_config(None, {}), None, os.environ)
    assert loaded.schemas == {}
    assert loaded.unavailable == [
        "vault-secrets-operator 1.4.1: helm is not installed",
        "argo-cd 10.1.1: helm is not installed",
    ]
    [skipped] = validate_manifests([application()], "1.34", loaded).skipped
    assert "not validated (custom resource argoproj.io/v1alpha1; CRDs unavailable:" in skipped.message


def test_preserve_unknown_fields_takes_any_helm_values_object(crds: CrdSchemas) -> None:
    source = {
        "repoURL": "https://example.com/charts",
        "chart": "app",
        "targetRevision": "3.13.0",
        "helm": {"valuesObject": {"anything": {"nested": [1, "two", {"three": None}]}}},
    }
    assert errors(crds, application(source=source)) == []
    source["helm"]["valueObject"] = {}  # type: ignore[index]  # a typo beside it is still unknown
    assert errors(crds, application(source=source)) == [
        "(CRD of argo-cd 10.1.1) spec.source.helm.valueObject: Additional properties are not allowed"
        " ('valueObject' was unexpected)"
    ]


@pytest.mark.parametrize(("count", "ok"), [(3, True), ("3", True), (True, False), (1.5, False)])
def test_int_or_string_takes_an_integer_or_a_string(crds: CrdSchemas, count: object, ok: bool) -> None:
    source = {
        "repoURL": "https://example.com/r.git",
        "path": "k",
        "kustomize": {"replicas": [{"name": "web", "count": count}]},
    }
    found = errors(crds, application(source=source))
    assert (found == []) is ok, found
    if not ok:
        assert found[0].startswith("(CRD of argo-cd 10.1.1) spec.source.kustomize.replicas.0.count:")


def test_required_enum_and_served_versions(crds: CrdSchemas) -> None:
    secret = {
        "apiVersion": "secrets.hashicorp.com/v1beta1",
        "kind": "VaultStaticSecret",
        "metadata": {"name": "s"},
        "spec": {"type": "kv-v2", "mount": "kv", "path": "p", "destination": {"name": "s", "create": True}},
    }
    assert errors(crds, Manifest("s.yaml", "", secret)) == []
    secret["spec"] = {"type": "kv", "destination": {"create": "yes"}}
    assert errors(crds, Manifest("s.yaml", "", secret)) == [
        "(CRD of vault-secrets-operator 1.4.1) spec: 'mount' is a required property",
        "(CRD of vault-secrets-operator 1.4.1) spec: 'path' is a required property",
        "(CRD of vault-secrets-operator 1.4.1) spec.destination: 'name' is a required property",
        "(CRD of vault-secrets-operator 1.4.1) spec.destination.create: 'yes' is not of type 'boolean'",
        "(CRD of vault-secrets-operator 1.4.1) spec.type: 'kv' is not one of ['kv-v1', 'kv-v2']",
    ]
    secret["apiVersion"] = "secrets.hashicorp.com/v1alpha1"
    assert errors(crds, Manifest("s.yaml", "", secret)) == [
        "secrets.hashicorp.com/v1alpha1: vault-secrets-operator 1.4.1 serves VaultStaticSecret only as"
        " secrets.hashicorp.com/v1beta1"
    ]
    # A group no pinned chart defines stays not validated, with the reason.
    other = Manifest(
        "o.yaml", "", {"apiVersion": "koudingspawn.de/v1", "kind": "Vault", "metadata": {"name": "v"}}
    )
    [skipped] = validate_manifests([other], "1.34", crds).skipped
    assert skipped.message == (
        "not validated (custom resource koudingspawn.de/v1; no pinned chart defines koudingspawn.de"
        " (argo-cd 10.1.1, vault-secrets-operator 1.4.1))"
    )


@pytest.mark.parametrize(
    "text", ["{", '{"format": 1, "schemas": [{"kind": 3}]}', '{"format": 1, "schemas": []}']
)
def test_a_damaged_cache_is_extracted_again(text: str, chart_repos: dict[str, str], tmp_path: Path) -> None:
    config = load_config(
        None, {"HASHICORP_HELM_REPO": chart_repos["hashicorp"], "ARGO_HELM_REPO": "http://127.0.0.1:9"}
    )
    environ = {"XDG_CACHE_HOME": str(tmp_path)}
    helm = Helm(require_binary("helm"))
    assert ("secrets.hashicorp.com/v1beta1", "VaultAuth") in load_crd_schemas(config, helm, environ).schemas
    cache = tmp_path / "gitops-poc" / "charts" / "vault-secrets-operator-1.4.1" / CACHE_FILE
    cache.write_text(text)
    again = load_crd_schemas(config, helm, environ)
    assert ("secrets.hashicorp.com/v1beta1", "VaultAuth") in again.schemas
    assert '"format": 1' in cache.read_text() and len(cache.read_text()) > 1000
