"""End-to-end against a real cluster with Argo CD (a user's minikube after `gitops-poc up`): the promotion
gates read a real Application through the kube client, and the sync windows Argo CD holds are the ones this
tool evaluates. Skipped here with the reason: no Kubernetes runs on these machines. Opt-in:
GITOPS_POC_E2E=1, KUBECONFIG, KUBE_CONTEXT (default minikube), the platform synced by Argo CD."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from gitops_poc.cluster.kube import Kube
from gitops_poc.config import load_config
from gitops_poc.delivery.image import Image
from gitops_poc.platform import Platform
from gitops_poc.release.evidence import ARGOCD_API, read_application
from gitops_poc.release.gates import DEFAULT_PRODUCTION, evaluate
from gitops_poc.release.windows import Target, can_sync, matching, window_from
from tests.conftest import REAL_SYSTEMS

pytestmark = pytest.mark.cluster


@pytest.fixture
def kube(monkeypatch: pytest.MonkeyPatch) -> Kube:
    if os.environ.get("GITOPS_POC_E2E") != "1" or "KUBECONFIG" not in REAL_SYSTEMS:
        pytest.skip(
            "release end-to-end is opt-in: set GITOPS_POC_E2E=1 and KUBECONFIG pointing at a minikube with "
            "Argo CD and the platform synced (no Kubernetes runs on this machine)"
        )
    monkeypatch.setenv("KUBECONFIG", REAL_SYSTEMS["KUBECONFIG"])
    return Kube.from_kubeconfig(os.environ.get("KUBE_CONTEXT", "minikube"))


def test_gates_read_a_real_application(kube: Kube) -> None:
    platform = Platform(load_config(None, {}))
    name = platform.application_name("health-demo", platform.environments[0])
    application = read_application(lambda: kube, platform.config.argocd_namespace, name)
    images = application.get("status", {}).get("summary", {}).get("images") or []
    assert images, f"{name} reports no running images"
    repository, _, tag = str(images[0]).rpartition(":")
    evaluation = evaluate(
        application,
        name=name,
        image=Image(repository, tag),
        image_commit="0" * 40,
        values_repo=platform.repo_url("health-demo"),
        contains=lambda revision, commit: bool(revision),
        spec=DEFAULT_PRODUCTION,
        now=datetime.now(UTC),
    )
    by_name = {c.name: c for c in evaluation.checks}
    assert by_name["image"].ok and {"sync", "health", "operation", "soak"} <= set(by_name)


def test_the_appproject_windows_are_the_ones_evaluated(kube: Kube) -> None:
    platform = Platform(load_config(None, {}))
    project = kube.get(ARGOCD_API, "AppProject", platform.config.argocd_namespace, platform.project_name)
    assert project is not None
    windows = [
        window_from(w, f"syncWindows[{i}]") for i, w in enumerate(project["spec"].get("syncWindows") or [])
    ]
    if not windows:
        pytest.skip("the AppProject has no syncWindows (add gitops-config/release.yaml, init, setup pull)")
    target = Target(
        platform.application_name("health-demo", "prod"),
        platform.namespace("prod"),
        cluster_server="https://kubernetes.default.svc",
    )
    can_sync(matching(windows, target), datetime.now(UTC), manual=False)  # evaluates without error
