"""Promotion gates in push mode (GITOPS_MODE=push): the source environment's Helm release and its Deployment,
read by the REAL helm binary and the kubernetes client from the Kubernetes API stand-in. The release is the
one the real helm makes of `ci deploy`'s own command (`--dry-run=client --output json` prints the release
object), stored the way helm's secrets driver stores it; the Deployment is the one in its manifest, with a
status. Each case ends in a commit carrying the evidence, or a refusal that changed nothing."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.argv import render
from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.delivery.deploy import plan_deploy
from gitops_poc.delivery.image import Image
from gitops_poc.platform import Platform
from gitops_poc.release.promotion import evidence_context
from gitops_poc.render.manifests import parse_manifests
from tests.cluster.fakeapi import (
    FakeApi,
    plant_release,
    serve_fake_api,
    stored_release,
    two_cluster_kubeconfig,
    unreachable_kubeconfig,
)
from tests.conftest import require_binary
from tests.delivery.conftest import ServiceRemote, git

pytestmark = pytest.mark.helm

DIGEST = "sha256:" + "d" * 64
REPOSITORY = "registry.gitlab.com/gitops-poc/api-gateway"
DEPLOYMENT_PATH = "/apis/apps/v1/namespaces/poc-staging/deployments/api-gateway"


@pytest.fixture
def staged(service_remote: ServiceRemote, push_mode: FakeApi) -> list[str]:
    """Push mode; 1.0.0@digest bumped into dev (pipeline 10), promoted to staging (no gates into staging)."""
    c = ["-C", str(service_remote.clone), "--push"]
    bump = ["ci", "bump", *c, "--env", "dev", "--tag", "1.0.0", "--digest", DIGEST, "--pipeline", "10"]
    assert main(bump) == 0
    assert main(["ci", "promote", *c, "--from", "dev", "--to", "staging"]) == 0
    assert push_mode.requests == []  # dev -> staging: no gates by default, the cluster is not asked
    git(service_remote.clone, "pull", "-q", "--ff-only")
    return c


def deployed_release(
    clone: Path,
    image: Image,
    *,
    revision: int = 3,
    status: str = "deployed",
    deployed_for: timedelta = timedelta(hours=2),
) -> dict[str, Any]:
    """The release object the real helm makes of `ci deploy --env staging`'s command, as revision
    `revision` in `status`, deployed `deployed_for` ago."""
    platform = Platform(load_config(None, os.environ))
    plan = plan_deploy(platform, clone, "api-gateway", "staging", image, kube_context="minikube")
    args = render([require_binary("helm"), *plan.upgrade_args(4)])
    printed = subprocess.run(
        [*args[:2], "--dry-run=client", "--output=json", *args[2:]],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    release: dict[str, Any] = json.loads(printed)
    stamp = (datetime.now(UTC) - deployed_for).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    release["version"] = revision
    release["info"].update(status=status, last_deployed=stamp, description="Upgrade complete")
    return release


def rolled_out(release: dict[str, Any], **status: int) -> dict[str, Any]:
    """The release's Deployment as the API server returns it: defaulted, scaled to 2 by its HPA, with a
    status (rolled out unless `status` says otherwise)."""
    [deployment] = [m.body for m in parse_manifests(release["manifest"]) if m.kind == "Deployment"]
    deployment["metadata"].update(namespace="poc-staging", generation=4)
    deployment["spec"].setdefault("replicas", 2)
    deployment["status"] = {
        "observedGeneration": 4,
        "replicas": 2,
        "updatedReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 2,
        **status,
    }
    return deployment


def serve(api: FakeApi, release: dict[str, Any], deployment: dict[str, Any] | None) -> None:
    older = {**release, "version": 1, "info": {**release["info"], "status": "superseded"}}
    plant_release(api, stored_release(older))
    plant_release(api, stored_release(release))
    if deployment is not None:
        api.objects[DEPLOYMENT_PATH] = deployment


def promote(c: list[str], *extra: str) -> int:
    return main(["ci", "promote", *c, "--from", "staging", "--to", "prod", *extra])


PROMOTED = Image(REPOSITORY, "1.0.0", DIGEST)


def test_a_deployed_and_rolled_out_release_promotes_with_the_evidence_in_the_commit(
    staged: list[str], service_remote: ServiceRemote, fake_api: FakeApi
) -> None:
    release = deployed_release(service_remote.clone, PROMOTED)
    serve(fake_api, release, rolled_out(release))
    assert promote(staged) == 0
    message = git(service_remote.bare, "log", "-1", "--format=%B", "main")
    assert "promote image 1.0.0@" in message
    for line in (
        "Gate-release: api-gateway in poc-staging (revision 3)",
        "Gate-status: release revision 3 deployed",
        f"Gate-image: {REPOSITORY}:1.0.0@{DIGEST} in the release's values",
        "Gate-rollout: Deployment api-gateway rolled out (2 available)",
        "Gate-soak: deployed since ",
        "Gate-checked-at: 20",
    ):
        assert line in message, (line, message)
    assert "Gate-application" not in message
    assert ".cicd/prod.yaml" in git(service_remote.bare, "show", "--stat", "--format=", "main")
    # helm listed the release's Secrets by its labels; the Deployment came through the kubernetes client.
    paths = [r.path for r in fake_api.sent("GET")]
    assert "/api/v1/namespaces/poc-staging/secrets" in paths and DEPLOYMENT_PATH in paths


@pytest.mark.parametrize(
    ("release_change", "deployment_change", "needle"),
    [
        ({"status": "failed"}, {}, "status: release revision 3 failed (needs deployed)"),
        ({"status": "pending-upgrade"}, {}, "status: release revision 3 pending-upgrade"),
        (
            {"image": Image(REPOSITORY, "0.9.0")},
            {},
            f"image: the release's values hold {REPOSITORY}:0.9.0, not {REPOSITORY}:1.0.0@{DIGEST}",
        ),
        ({}, {"observedGeneration": 3}, "generation 4 not yet observed (observed 3)"),
        ({}, {"updatedReplicas": 1, "replicas": 3}, "1 of 2 updated, 3 running, 2 available"),
        ({}, {"availableReplicas": 1}, "2 of 2 updated, 2 running, 1 available"),
        ({}, None, "Deployment api-gateway not found in poc-staging"),
        ({"deployed_for": timedelta(minutes=5)}, {}, "soak: deployed since"),
    ],
    ids=[
        "failed",
        "pending",
        "other-image",
        "generation-not-observed",
        "old-replicas-left",
        "not-available",
        "no-deployment",
        "soak-not-elapsed",
    ],
)
def test_missing_evidence_refuses_and_changes_nothing(
    staged: list[str],
    service_remote: ServiceRemote,
    fake_api: FakeApi,
    capsys: pytest.CaptureFixture[str],
    release_change: dict[str, Any],
    deployment_change: dict[str, int] | None,
    needle: str,
) -> None:
    image = release_change.pop("image", PROMOTED)
    release = deployed_release(service_remote.clone, image, **release_change)
    serve(fake_api, release, None if deployment_change is None else rolled_out(release, **deployment_change))
    head = service_remote.head()
    capsys.readouterr()
    assert promote(staged) == 8
    err = " ".join(capsys.readouterr().err.split())
    assert "promotion from staging refused: helm release api-gateway in poc-staging (revision 3)" in err
    assert needle in err and "--skip-gates" in err, err
    assert service_remote.head() == head


def test_no_release_refuses_and_an_unreadable_cluster_fails_closed(
    staged: list[str],
    service_remote: ServiceRemote,
    fake_api: FakeApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    head = service_remote.head()
    release = deployed_release(service_remote.clone, PROMOTED)
    capsys.readouterr()
    assert promote(staged) == 8  # the cluster answers: nothing was deployed to staging
    assert "no helm release api-gateway in poc-staging (kube context minikube)" in capsys.readouterr().err
    fake_api.fail[("GET", "/api/v1/namespaces/poc-staging/secrets")] = (403, "secrets is forbidden")
    assert promote(staged) == 2
    assert "failing closed" in capsys.readouterr().err
    del fake_api.fail[("GET", "/api/v1/namespaces/poc-staging/secrets")]
    serve(fake_api, release, rolled_out(release))
    fake_api.fail[("GET", DEPLOYMENT_PATH)] = (500, "etcdserver: request timed out")
    assert promote(staged) == 2
    assert "failing closed" in capsys.readouterr().err
    monkeypatch.setenv("KUBECONFIG", str(unreachable_kubeconfig(tmp_path)))
    assert promote(staged) == 2
    assert "failing closed" in capsys.readouterr().err
    assert service_remote.head() == head


def test_skip_gates_asks_no_cluster(
    staged: list[str], service_remote: ServiceRemote, fake_api: FakeApi
) -> None:
    assert promote(staged, "--skip-gates", "--reason", "staging cluster down") == 0
    assert "Gates-skipped: staging cluster down" in git(service_remote.bare, "log", "-1", "--format=%B")
    assert fake_api.requests == []


def test_a_source_on_another_cluster_is_read_there(
    staged: list[str],
    service_remote: ServiceRemote,
    push_mode: FakeApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ENVIRONMENT_CLUSTERS puts staging on stage-eu: its release and Deployment are read through that
    cluster's context (in GitLab CI, its agent's: the context its deploy job used), not KUBE_CONTEXT's."""
    monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "staging=stage-eu")
    release = deployed_release(service_remote.clone, PROMOTED)
    with serve_fake_api() as other:
        other.anonymous = True
        monkeypatch.setenv("KUBECONFIG", str(two_cluster_kubeconfig(tmp_path, push_mode, other, "stage-eu")))
        serve(other, release, rolled_out(release))
        push_mode.requests.clear()  # making the release asked it (helm's dry run)
        assert promote(staged) == 0
        assert push_mode.requests == [] and DEPLOYMENT_PATH in [r.path for r in other.sent("GET")]
    assert "Gate-rollout: Deployment api-gateway rolled out" in git(
        service_remote.bare, "log", "-1", "--format=%B"
    )
    platform = Platform(load_config(None, os.environ))
    assert (
        evidence_context(platform, "staging", None, {"GITLAB_CI": "true"})
        == "gitops-poc/gitops-config:stage-eu"
    )
    assert evidence_context(platform, "staging", None, {}) == "stage-eu"
    assert evidence_context(platform, "dev", None, {"GITLAB_CI": "true"}) == "minikube"  # KUBE_CONTEXT
    assert evidence_context(platform, "staging", "mine", {}) == "mine"
