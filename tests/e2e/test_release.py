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


def test_push_mode_gates_read_a_real_release_and_its_deployment(kube: Kube) -> None:
    """Push mode (a platform deployed by `ci deploy`): the release of health-demo in the first environment,
    read by the real helm, and its Deployment, read through the kube client, give the evidence."""
    from gitops_poc.release.push_evidence import read_deployments, read_state, source_release
    from gitops_poc.release.push_gates import evaluate_release
    from gitops_poc.render.helm import Helm, find_helm

    platform = Platform(load_config(None, {}))
    context = os.environ.get("KUBE_CONTEXT", "minikube")
    env = platform.environments[0]
    release = source_release(platform, "health-demo", env, context)
    listed = ["list", f"--namespace={platform.namespace(env)}", f"--kube-context={context}", "--short"]
    if not Helm(find_helm()).run(listed):
        pytest.skip(f"no helm release in {env}: deploy health-demo in push mode first (`ci deploy`)")
    state = read_state(Helm(find_helm()), release, context)
    live = read_deployments(lambda: kube, state.namespace, state.deployments)
    image = state.values.get("image") or {}
    evaluation = evaluate_release(
        state,
        live,
        image=Image(image.get("repository"), str(image.get("tag"))),
        spec=DEFAULT_PRODUCTION,
        now=datetime.now(UTC),
    )
    by_name = {c.name: c for c in evaluation.checks}
    assert by_name["status"].ok and by_name["image"].ok and by_name["rollout"].ok, evaluation.checks
