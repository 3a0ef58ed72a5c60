"""What is deployed, read by the REAL helm binary from release Secrets in the Kubernetes API stand-in (stored
the way helm's secrets driver stores them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.cluster.helm_state import read_release, read_releases
from gitops_poc.cluster.model import ClusterPlan
from gitops_poc.cluster.push import agent_release
from gitops_poc.cluster.releases import Deployed, Lookup, settle_releases, wanted_values
from gitops_poc.config import load_config
from gitops_poc.platform import Platform
from gitops_poc.render.helm import Helm
from tests.conftest import require_binary

from .fakeapi import FakeApi, plant_release, release_secret, unreachable_kubeconfig

TOKEN = "glagent-PLANTED-state-5c6d"


@pytest.fixture
def helm() -> Helm:
    return Helm(require_binary("helm"))


def test_not_installed_deployed_and_unreadable(
    fake_api: FakeApi, kubeconfig: Path, helm: Helm, caplog: pytest.LogCaptureFixture
) -> None:
    fake_api.anonymous = True  # helm (client-go) sends no bearer token over plain HTTP
    release = agent_release(Platform(load_config(None, {})), TOKEN)
    assert read_release(helm, release, "minikube") == Lookup()  # nothing stored: not installed
    wanted = wanted_values(release)
    chart = ("gitlab-agent", release.version)
    plant_release(fake_api, release_secret("gitlab-agent", "gitlab-agent", 1, "superseded", chart=chart))
    plant_release(
        fake_api, release_secret("gitlab-agent", "gitlab-agent", 2, "deployed", chart=chart, config=wanted)
    )
    lookup = read_release(helm, release, "minikube")
    assert lookup == Lookup(Deployed(2, "deployed", f"gitlab-agent-{release.version}"))
    assert lookup.deployed is not None and lookup.deployed.values == wanted  # the token, in memory only
    assert TOKEN not in repr(lookup)
    # The release Secrets were listed in the release's namespace, by helm's labels.
    listed = [r for r in fake_api.requests if r.path == "/api/v1/namespaces/gitlab-agent/secrets"]
    assert listed and listed[-1].query["labelSelector"] == ["name=gitlab-agent,owner=helm"]
    plan = ClusterPlan((release,))
    [step] = settle_releases(plan, read_releases(plan, helm, "minikube"), "minikube").steps
    assert step.describe() == (
        f"helm release gitlab-agent in gitlab-agent: gitlab-agent {release.version} unchanged (revision 2)"
    )
    # Helm may not read the Secrets: unreadable with helm's reason, never "not installed".
    fake_api.fail[("GET", "/api/v1/namespaces/gitlab-agent/secrets")] = (403, "secrets is forbidden")
    denied = read_release(helm, release, "minikube")
    assert denied.deployed is None and "(get secrets)" in denied.unreadable
    assert TOKEN not in caplog.text


def test_an_unreachable_cluster_is_unreadable_not_absent(tmp_path: Path, helm: Helm) -> None:
    config = unreachable_kubeconfig(tmp_path)
    release = agent_release(Platform(load_config(None, {})), TOKEN)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KUBECONFIG", str(config))
        lookup = read_release(helm, release, "minikube")
    assert lookup.deployed is None and "unreachable" in lookup.unreadable
