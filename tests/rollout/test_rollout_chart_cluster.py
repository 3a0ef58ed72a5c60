"""`rollout chart`'s wait read from the Kubernetes API stand-in (tests/cluster/fakeapi.py) through the real
`kubernetes` client, serving Application objects the pinned Argo CD CRD admits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.platform import Platform
from gitops_poc.render.crdschema import CrdSchemas
from gitops_poc.render.manifests import Manifest
from gitops_poc.render.validate import validate_manifests
from tests.cluster.fakeapi import FakeApi
from tests.release.conftest import argocd_crds, fake_api  # noqa: F401  (fixtures)
from tests.rollout.test_rollout_chart import platform_root, remote, versions  # noqa: F401  (fixtures)

pytestmark = pytest.mark.helm
COLLECTION = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"


def application(name: str, version: str, health: str = "Healthy") -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "project": "default",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "dev"},
            "sources": [{"repoURL": "https://charts.example", "chart": "app", "targetRevision": version}],
        },
        "status": {"sync": {"status": "Synced"}, "health": {"status": health}},
    }


def serve_dev(api: FakeApi, crds: CrdSchemas, root: Path, version: str, degraded: str | None = None) -> None:
    platform = Platform(load_config(root / ".env", {}))
    for service in platform.services:
        name = platform.application_name(service, "dev")
        app = application(name, version, "Degraded" if service == degraded else "Healthy")
        report = validate_manifests([Manifest(f"{name}.yaml", "", app)], "1.34", crds)
        assert report.ok, [str(f) for f in report.findings]  # what the stand-in serves, the real CRD admits
        api.objects[f"{COLLECTION}/{name}"] = app


def run(capsys: pytest.CaptureFixture[str], root: Path, bare: Path, *extra: str) -> tuple[int, str, str]:
    argv = ["rollout", "chart", "3.13.0", "-C", str(root), "--remote-base", str(bare.parent.parent)]
    code = main([*argv, "--push", "--env", "dev", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_wave_is_done_when_the_cluster_shows_it_healthy_on_the_version(
    platform_root: Path,  # noqa: F811
    remote: Path,  # noqa: F811
    fake_api: FakeApi,  # noqa: F811
    argocd_crds: CrdSchemas,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(fake_api.kubeconfig(tmp_path)))
    serve_dev(fake_api, argocd_crds, platform_root, "3.13.0")
    code, out, err = run(capsys, platform_root, remote, "--timeout", "30", "-o", "json")
    assert code == 0, err
    assert [(w["env"], w["action"]) for w in json.loads(out)["waves"]] == [("dev", "healthy")]
    assert versions(remote)["dev"] == ("3.13.0",)
    # one list request per look, not one request per Application
    assert {(r.method, r.path) for r in fake_api.requests} == {("GET", COLLECTION)}


def test_a_degraded_application_holds_the_wave_until_the_bounded_wait_ends(
    platform_root: Path,  # noqa: F811
    remote: Path,  # noqa: F811
    fake_api: FakeApi,  # noqa: F811
    argocd_crds: CrdSchemas,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(fake_api.kubeconfig(tmp_path)))
    serve_dev(fake_api, argocd_crds, platform_root, "3.13.0", degraded="web-http")
    code, _, err = run(capsys, platform_root, remote, "--timeout", "1")
    assert code == 2, err
    [error] = [line for line in err.splitlines() if line.startswith("error:")]
    assert "dev is not healthy on chart 3.13.0" in error and "web-http-dev: Synced, Degraded" in error
    assert versions(remote)["dev"] == ("3.13.0",)  # the wave is written; a re-run waits again

    serve_dev(fake_api, argocd_crds, platform_root, "3.13.0")  # Argo CD heals it
    code, _, err = run(capsys, platform_root, remote, "--timeout", "30")
    assert code == 0, err
    assert "dev: every Application Synced and Healthy on 3.13.0" in err


def test_an_application_missing_from_the_cluster_is_not_healthy(
    platform_root: Path,  # noqa: F811
    remote: Path,  # noqa: F811
    fake_api: FakeApi,  # noqa: F811
    argocd_crds: CrdSchemas,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(fake_api.kubeconfig(tmp_path)))
    serve_dev(fake_api, argocd_crds, platform_root, "3.13.0")
    del fake_api.objects[f"{COLLECTION}/web-http-dev"]  # the ApplicationSet controller has not made it yet
    code, _, err = run(capsys, platform_root, remote, "--timeout", "1")
    assert code == 2, err
    [error] = [line for line in err.splitlines() if line.startswith("error:")]
    assert error.endswith("web-http-dev: no such Application yet (the wave is written; a re-run waits again)")
