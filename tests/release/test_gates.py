"""Promotion gates against the Kubernetes API stand-in (tests/cluster/fakeapi.py) serving Argo CD Application
objects that validate against the pinned Argo CD chart's Application CRD; real git with a bare remote.
Each case ends in a commit carrying the evidence, or a refusal that changed nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.cli import main
from gitops_poc.render.crdschema import CrdSchemas
from gitops_poc.render.manifests import Manifest
from gitops_poc.render.validate import validate_manifests
from tests.cluster.fakeapi import FakeApi, unreachable_kubeconfig
from tests.delivery.conftest import ServiceRemote, git

pytestmark = pytest.mark.helm

DIGEST = "sha256:" + "c" * 64
REPOSITORY = "registry.gitlab.com/gitops-poc/api-gateway"
APP_PATH = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/api-gateway-staging"


def application(
    revision: str,
    *,
    sync: str = "Synced",
    health: str = "Healthy",
    images: list[str] | None = None,
    phase: str = "Succeeded",
    healthy_for: timedelta = timedelta(hours=2),
) -> dict[str, Any]:
    now = datetime.now(UTC)
    stamp = (now - healthy_for).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "api-gateway-staging", "namespace": "argocd"},
        "spec": {
            "project": "gitops-poc",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "poc-staging"},
            "sources": [
                {
                    "repoURL": "https://d7561985.github.io/k8app",
                    "chart": "app",
                    "targetRevision": "3.13.0",
                    "helm": {"releaseName": "api-gateway", "valueFiles": ["$values/.cicd/staging.yaml"]},
                },
                {
                    "repoURL": "https://gitlab.com/gitops-poc/api-gateway.git",
                    "targetRevision": "main",
                    "ref": "values",
                },
            ],
        },
        "status": {
            "sync": {"status": sync, "revisions": ["3.13.0", revision]},
            "health": {"status": health, "lastTransitionTime": stamp},
            "summary": {"images": images if images is not None else [f"{REPOSITORY}:1.0.0@{DIGEST}"]},
            "operationState": {
                "operation": {"sync": {"revisions": ["3.13.0", revision]}},
                "phase": phase,
                "startedAt": stamp,
                "finishedAt": stamp,
            },
        },
    }


def serve(api: FakeApi, crds: CrdSchemas, app: dict[str, Any]) -> None:
    report = validate_manifests([Manifest("application.yaml", "", app)], "1.34", crds)
    assert report.ok, [str(f) for f in report.findings]  # what the stand-in serves, the real CRD admits
    api.objects[APP_PATH] = app


@pytest.fixture
def staged(
    service_remote: ServiceRemote, fake_api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """1.0.0@digest bumped into dev (pipeline 10) and promoted to staging (no gates into staging)."""
    monkeypatch.setenv("KUBECONFIG", str(fake_api.kubeconfig(tmp_path)))
    monkeypatch.setenv("SERVICE_NAME", "api-gateway")  # set by the service's .gitlab-ci.yml
    c = ["-C", str(service_remote.clone), "--push"]
    assert (
        main(["ci", "bump", *c, "--env", "dev", "--tag", "1.0.0", "--digest", DIGEST, "--pipeline", "10"])
        == 0
    )
    assert main(["ci", "promote", *c, "--from", "dev", "--to", "staging"]) == 0
    assert fake_api.requests == []  # dev -> staging: no gates by default, the cluster is not asked
    return c


def promote(c: list[str], *extra: str) -> int:
    return main(["ci", "promote", *c, "--from", "staging", "--to", "prod", *extra])


def test_healthy_source_promotes_with_the_evidence_in_the_commit(
    staged: list[str], service_remote: ServiceRemote, fake_api: FakeApi, argocd_crds: CrdSchemas
) -> None:
    serve(fake_api, argocd_crds, application(service_remote.head()))
    assert promote(staged) == 0
    message = git(service_remote.bare, "log", "-1", "--format=%B", "main")
    assert "promote image 1.0.0@" in message
    for line in (
        "Gate-application: api-gateway-staging",
        "Gate-sync: sync status Synced",
        "Gate-health: health Healthy",
        "Gate-operation: last sync operation Succeeded",
        "Gate-revision: synced revision ",
        f"Gate-image: {REPOSITORY}:1.0.0@{DIGEST} running",
        "Gate-soak: healthy since",
        "Gate-checked-at: 20",
    ):
        assert line in message, (line, message)
    assert [r.path for r in fake_api.sent("GET")] == [APP_PATH]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"health": "Degraded"}, "health: health Degraded (needs Healthy)"),
        ({"sync": "OutOfSync"}, "sync: sync status OutOfSync"),
        ({"older_revision": True}, "does not contain"),
        (
            {"images": [f"{REPOSITORY}:0.9.0"]},
            "not running (running: registry.gitlab.com/gitops-poc/api-gateway:0.9.0)",
        ),
        ({"phase": "Failed"}, "operation: last sync operation Failed"),
        ({"healthy_for": timedelta(minutes=5)}, "soak: healthy since"),
    ],
    ids=["degraded", "out-of-sync", "older-revision", "image-not-running", "sync-failed", "soak-not-elapsed"],
)
def test_missing_evidence_refuses_and_changes_nothing(
    staged: list[str],
    service_remote: ServiceRemote,
    fake_api: FakeApi,
    argocd_crds: CrdSchemas,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, Any],
    needle: str,
) -> None:
    head = service_remote.head()
    revision = (
        git(service_remote.bare, "rev-parse", "main~1").strip()
        if change.pop("older_revision", False)
        else head
    )
    serve(fake_api, argocd_crds, application(revision, **change))
    capsys.readouterr()
    assert promote(staged) == 8
    err = capsys.readouterr().err
    assert "promotion from staging refused" in err and needle in err and "--skip-gates" in err
    assert service_remote.head() == head


def test_unreachable_cluster_or_missing_application_fails_closed(
    staged: list[str],
    service_remote: ServiceRemote,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    head = service_remote.head()
    capsys.readouterr()
    assert promote(staged) == 2  # the stand-in has no such Application
    assert "failing closed" in capsys.readouterr().err
    monkeypatch.setenv("KUBECONFIG", str(unreachable_kubeconfig(tmp_path)))
    assert promote(staged) == 2
    assert "failing closed" in capsys.readouterr().err
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    assert promote(staged) == 2
    assert "failing closed" in capsys.readouterr().err
    assert service_remote.head() == head


def test_skip_gates_is_recorded_and_needs_a_reason(
    staged: list[str], service_remote: ServiceRemote, fake_api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert promote(staged, "--skip-gates") == 2
    assert "--skip-gates needs --reason" in capsys.readouterr().err
    assert promote(staged, "--skip-gates", "--reason", "CVE-2026-1 fix, staging cluster down") == 0
    message = git(service_remote.bare, "log", "-1", "--format=%B", "main")
    assert "Gates-skipped: CVE-2026-1 fix, staging cluster down" in message
    assert "Gates-required: health + soak 30m" in message
    assert fake_api.requests == []


def test_a_pinned_target_stands_down_without_asking_the_cluster(
    staged: list[str], service_remote: ServiceRemote, fake_api: FakeApi
) -> None:
    assert main(["ci", "pin", *staged, "--env", "prod", "--reason", "audit"]) == 0
    assert promote(staged) == 5
    assert fake_api.requests == []


def test_release_yaml_gates_per_pair(
    staged: list[str],
    service_remote: ServiceRemote,
    fake_api: FakeApi,
    argocd_crds: CrdSchemas,
    tmp_path: Path,
) -> None:
    config = tmp_path / "release.yaml"
    config.write_text("gates:\n  staging->prod: {health: true, soak: 3h}\n")
    serve(fake_api, argocd_crds, application(service_remote.head()))  # healthy for 2 h
    assert promote(staged, "--release-config", str(config)) == 8
    config.write_text("gates:\n  staging->prod: {}\n")  # no gates for this pair
    assert promote(staged, "--release-config", str(config)) == 0
