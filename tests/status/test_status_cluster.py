"""`status` with Argo CD's side: the Kubernetes API stand-in serves Application objects (the ones the
generated ApplicationSet expands to, with a status) after each one validated against the pinned Argo CD
chart's CRD schema."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.argocd.preview import read_applications
from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.layout import APPLICATIONSET_FILE
from gitops_poc.render.crds import load_crd_schemas
from gitops_poc.render.crdschema import CrdSchemas
from gitops_poc.render.helm import Helm
from tests.cluster.fakeapi import FakeApi, serve_fake_api, unreachable_kubeconfig
from tests.conftest import require_binary
from tests.status.conftest import DIGEST, Published

APPS = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"
REPOSITORY = "registry.gitlab.com/gitops-poc/{service}"
SYNCED_AT = "2026-12-06T10:00:00Z"


@pytest.fixture
def argo_crds(cached_platform_charts: dict[str, str]) -> CrdSchemas:
    """The CRD schemas of the pinned Argo CD chart, from the offline copy of its published repository."""
    import os

    crds = load_crd_schemas(load_config(None, os.environ), Helm(require_binary("helm")), os.environ)
    assert crds.find("argoproj.io/v1alpha1", "Application") is not None, crds.unavailable
    return crds


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    with serve_fake_api() as api:
        monkeypatch.setenv("KUBECONFIG", str(api.kubeconfig(tmp_path)))
        yield api


def _status(
    *,
    sync: str = "Synced",
    health: str = "Healthy",
    images: list[str],
    revision: str = "0" * 40,
    message: str | None = None,
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "sync": {"status": sync, "revisions": ["3.13.0", revision]},
        "health": {"status": health},
        "summary": {"images": images},
        "reconciledAt": "2026-12-06T12:00:00Z",
        "operationState": {
            "phase": "Succeeded",
            "startedAt": "2026-12-06T09:59:50Z",
            "finishedAt": SYNCED_AT,
            "operation": {"sync": {"revisions": ["3.13.0", revision]}},
        },
        "history": [
            {
                "id": 1,
                "deployedAt": SYNCED_AT,
                "revisions": ["3.13.0", revision],
                "deployStartedAt": "2026-12-06T09:59:50Z",
            }
        ],
    }
    if message:
        status["health"]["message"] = message
    return status


class Argo:
    """Plants Applications into the API stand-in, each validated against the pinned CRD first."""

    def __init__(self, api: FakeApi, crds: CrdSchemas, root: Path) -> None:
        self.api, self.crds = api, crds
        self.generated = {a.name: a.manifest for a in read_applications(root / APPLICATIONSET_FILE)}

    def plant(self, name: str, status: dict[str, Any], manifest: dict[str, Any] | None = None) -> None:
        body = copy.deepcopy(manifest or self.generated[name])
        body["metadata"].update(namespace="argocd", uid=f"uid-{name}", resourceVersion="1")
        body["status"] = status
        schema = self.crds.find("argoproj.io/v1alpha1", "Application")
        assert schema is not None
        errors = [e.message for e in self.crds.validator(schema).iter_errors(body)]
        assert errors == [], f"{name} does not validate against {schema.chart}: {errors}"
        self.api.objects[f"{APPS}/{name}"] = body

    def plant_all_as_git_says(self, tag: str = "0.1.0") -> None:
        for name, manifest in self.generated.items():
            service = manifest["metadata"]["labels"]["app.kubernetes.io/name"]
            self.plant(name, _status(images=[f"{REPOSITORY.format(service=service)}:{tag}"]))


def _cell(doc: dict[str, Any], service: str, env: str) -> dict[str, Any]:
    [row] = [r for r in doc["services"] if r["service"] == service]
    return dict(row["environments"][env])


def test_in_sync_platform_exits_0_with_argo_side_in_every_cell(
    published: Published, cluster: FakeApi, argo_crds: CrdSchemas, capsys: pytest.CaptureFixture[str]
) -> None:
    argo = Argo(cluster, argo_crds, published.root)
    argo.plant_all_as_git_says()
    code, doc, err = published.status(capsys=capsys)
    assert code == 0, doc
    assert doc["cluster"] == "read" and doc["cluster_note"] is None and "git side only" not in err
    cell = _cell(doc, "api-gateway", "dev")
    assert cell["cluster"]["sync"] == "Synced" and cell["cluster"]["health"] == "Healthy"
    assert cell["cluster"]["images"] == ["registry.gitlab.com/gitops-poc/api-gateway:0.1.0"]
    assert cell["cluster"]["last_synced"] == SYNCED_AT and cell["drift"] == []
    assert doc["orphans"] == [] and doc["summary"] == {"services": 5, "drift": 0, "failed_health": 0}
    # Read-only: one list request, GET only, with the platform's label.
    assert {r.method for r in cluster.requests} == {"GET"}
    [listing] = [r for r in cluster.requests if r.path == APPS]
    assert listing.query == {"labelSelector": ["app.kubernetes.io/part-of=gitops-poc"]}


def test_out_of_sync_degraded_other_image_and_an_orphan(
    published: Published,
    cluster: FakeApi,
    argo_crds: CrdSchemas,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argo = Argo(cluster, argo_crds, published.root)
    argo.plant_all_as_git_says()
    # health-demo leaves the configuration: git no longer generates its Applications, the cluster keeps them.
    (published.root / ".env").write_text("SERVICES=api-gateway auth-adapter web-grpc web-http\n")
    assert main(["init", "-C", str(published.root), "--yes"]) == 0
    assert (
        published.ci(
            "api-gateway", "bump", "--env", "staging", "--tag", "1.1.0", "--digest", DIGEST, "--pipeline", "4"
        )
        == 0
    )
    bumped = published.head("api-gateway")
    gateway = REPOSITORY.format(service="api-gateway")
    # Argo CD has not followed the bump yet: OutOfSync, still the old image.
    argo.plant("api-gateway-staging", _status(sync="OutOfSync", images=[f"{gateway}:0.1.0"]))
    # Synced and Degraded.
    argo.plant(
        "web-grpc-dev",
        _status(
            health="Degraded",
            images=[f"{REPOSITORY.format(service='web-grpc')}:0.1.0"],
            message="CrashLoopBackOff",
        ),
    )
    # Synced, yet running another image than git says (someone ran `kubectl set image`; selfHeal is off).
    argo.plant("web-http-prod", _status(images=[f"{REPOSITORY.format(service='web-http')}:0.0.9-hotfix"]))

    code, doc, _ = published.status(capsys=capsys)

    assert code == 1
    staging = _cell(doc, "api-gateway", "staging")
    assert staging["state"] == "drift"
    kinds = {d["kind"]: d for d in staging["drift"]}
    assert set(kinds) == {"image", "out-of-sync"}
    assert kinds["image"]["text"] == f"git says 1.1.0@{DIGEST[7:19]}, the cluster runs {gateway}:0.1.0"
    assert (
        kinds["out-of-sync"]["since"] == staging["set_by"]["when"] and staging["set_by"]["commit"] == bumped
    )
    degraded = _cell(doc, "web-grpc", "dev")
    assert degraded["state"] == "failed" and degraded["cluster"]["health"] == "Degraded"
    assert [d["kind"] for d in degraded["drift"]] == ["health"] and "CrashLoopBackOff" in degraded["drift"][
        0
    ]["text"]
    other = _cell(doc, "web-http", "prod")
    assert other["state"] == "drift" and [d["kind"] for d in other["drift"]] == ["image"]
    assert other["cluster"]["sync"] == "Synced"
    assert sorted(o["application"] for o in doc["orphans"]) == [
        "health-demo-dev",
        "health-demo-prod",
        "health-demo-staging",
    ]
    assert doc["orphans"][0]["service"] == "health-demo"
    assert doc["summary"] == {"services": 4, "drift": 2 + 3 + 1, "failed_health": 1}
    # --service narrows the cluster side too: no orphans of other services, exit 0 for a clean one.
    code, doc, _ = published.status("--service", "auth-adapter", capsys=capsys)
    assert code == 0 and doc["orphans"] == []


def test_generated_but_missing_application_is_drift(
    published: Published, cluster: FakeApi, argo_crds: CrdSchemas, capsys: pytest.CaptureFixture[str]
) -> None:
    argo = Argo(cluster, argo_crds, published.root)
    argo.plant_all_as_git_says()
    del cluster.objects[f"{APPS}/auth-adapter-prod"]
    code, doc, _ = published.status("--env", "prod", capsys=capsys)
    assert code == 1
    [drift] = _cell(doc, "auth-adapter", "prod")["drift"]
    assert drift["kind"] == "missing" and "auth-adapter-prod" in drift["text"]


def test_unreachable_cluster_is_said_once_and_the_git_side_stands(
    published: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(unreachable_kubeconfig(tmp_path)))
    monkeypatch.setenv("GITOPS_POC_HTTP_DEADLINE", "5")
    code, doc, err = published.status(capsys=capsys)
    assert code == 0 and doc["cluster"] is None
    assert err.count("git side only") == 1 and "does not answer" in err
    assert _cell(doc, "api-gateway", "dev")["image"]["tag"] == "0.1.0"
