"""The executor: helm with private values through a 0600 file, server-side apply, patches, waits."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.cluster.apply import ClusterRunner, StepFailed, apply_plan, nested, workload_ready
from gitops_poc.cluster.model import ApplyObject, ClusterPlan, HelmRelease, Hidden, PatchObject, WaitReady
from gitops_poc.render.helm import Helm

from .fakeapi import FakeApi
from .standins import calls, recorder


def test_private_values_go_through_a_0600_file_that_is_deleted_after(tmp_path: Path) -> None:
    helm, log = recorder(tmp_path, "helm")
    release = HelmRelease(
        "gitlab-agent",
        "gitlab-agent",
        "gitlab-agent",
        "https://charts.gitlab.io",
        "2.21.0",
        private_values=Hidden.of({"config.token": "glagent-SECRET"}),
    )
    runner = ClusterRunner("minikube", Helm(str(helm)))
    apply_plan(ClusterPlan((release,)), runner)
    [call] = calls(log)
    args = call["args"]
    assert "glagent-SECRET" not in " ".join(args)  # type: ignore[arg-type]
    assert not any(a.startswith("--set") for a in args)  # type: ignore[union-attr]
    [(path, seen)] = call["files"].items()  # type: ignore[union-attr]
    assert seen == {"mode": "0o600", "text": "config:\n  token: glagent-SECRET\n"}
    assert not Path(path).exists() and not Path(path).parent.exists()


def test_a_failed_step_stops_the_run_and_names_the_step(tmp_path: Path) -> None:
    helm, _ = recorder(tmp_path, "helm", code=1)
    plan = ClusterPlan((HelmRelease("vault", "vault", "vault", "https://r", "0.34.1"),))
    with pytest.raises(StepFailed, match=r"step 1/1 \(helm release vault"):
        apply_plan(plan, ClusterRunner("minikube", Helm(str(helm))))


def test_apply_and_patch_reach_the_api(fake_api: FakeApi, kubeconfig: Path, tmp_path: Path) -> None:
    fake_api.objects["/api/v1/namespaces/poc-dev/serviceaccounts/default"] = {"metadata": {"name": "default"}}
    secret = ApplyObject.of(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "poc-dev"}},
        Hidden.of({"password": "pw-123456"}),
    )
    patch = PatchObject.of(
        "v1", "ServiceAccount", "poc-dev", "default", {"imagePullSecrets": [{"name": "s"}]}, "x"
    )
    done = apply_plan(
        ClusterPlan((secret, patch, WaitReady("poc-dev", 1))), ClusterRunner("minikube", Helm("helm"))
    )
    assert done == 3
    applied, patched = fake_api.sent("PATCH")
    assert applied.body["stringData"] == {"password": "pw-123456"}
    assert patched.body == {"imagePullSecrets": [{"name": "s"}]}
    assert "pw-123456" not in repr(secret) + secret.describe() + str(secret.as_json())


def test_wait_ready_times_out_naming_what_is_not_ready(fake_api: FakeApi, kubeconfig: Path) -> None:
    fake_api.objects["/apis/apps/v1/namespaces/argocd/deployments/argocd-server"] = {
        "metadata": {"name": "argocd-server"},
        "spec": {"replicas": 1},
        "status": {},
    }
    with pytest.raises(StepFailed, match="Deployment/argocd-server"):
        apply_plan(ClusterPlan((WaitReady("argocd", 0),)), ClusterRunner("minikube", Helm("helm")))


def test_workload_readiness() -> None:
    assert workload_ready({"kind": "Deployment", "spec": {"replicas": 2}, "status": {"readyReplicas": 2}})
    assert not workload_ready({"kind": "Deployment", "spec": {"replicas": 2}, "status": {"readyReplicas": 1}})
    assert workload_ready({"kind": "DaemonSet", "status": {"numberReady": 1, "desiredNumberScheduled": 1}})
    assert workload_ready({"kind": "Deployment", "spec": {"replicas": 0}, "status": {}})


def test_nested() -> None:
    assert nested({"a.b": "1", "a.c": "2", "d": "3"}) == {"a": {"b": "1", "c": "2"}, "d": "3"}
