"""When is a release already current (its step skipped)? The decision as data, and the values we expect
helm to have recorded checked against what the REAL helm records for the same arguments, with the
published charts (served on loopback) and the shipped values files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.cluster.infrastructure import (
    InfraState,
    argocd_release,
    plan_infrastructure,
    vault_release,
    vso_release,
)
from gitops_poc.cluster.model import ClusterPlan, HelmRelease, Hidden, WaitReady
from gitops_poc.cluster.push import agent_release
from gitops_poc.cluster.releases import (
    Deployed,
    Lookup,
    differing_paths,
    release_key,
    settle_releases,
    wanted_values,
    why_upgrade,
)
from gitops_poc.config import load_config
from gitops_poc.platform import Platform
from tests.conftest import require_binary

from .helm_config import stored_config, with_repo

TOKEN = "glagent-PLANTED-compare-77aa"


def _platform(**env: str) -> Platform:
    return Platform(load_config(None, env))


def _agent(token: str = TOKEN) -> HelmRelease:
    return agent_release(_platform(), token)


def test_wanted_values_merge_files_in_order_then_private_values_then_set_strings() -> None:
    files = {
        "a.yaml": {"server": {"replicas": 1, "tls": {"on": True}}, "keep": [1, 2]},
        "b.yaml": {"server": {"replicas": 3}, "keep": [3]},
    }
    release = HelmRelease(
        "r",
        "ns",
        "c",
        "https://r",
        "1.0.0",
        ("a.yaml", "b.yaml"),
        set_strings=(("server.tls", "off"), ("new.key", "v")),
        private_values=Hidden.of({"server.token": "t"}),
    )
    assert wanted_values(release, files.__getitem__) == {
        "server": {"replicas": 3, "token": "t", "tls": "off"},  # maps merge; a --set-string replaces
        "keep": [3],  # lists are replaced, as helm does
        "new": {"key": "v"},
    }


def test_a_release_is_current_only_when_deployed_from_the_same_chart_with_the_same_values() -> None:
    release = _agent()
    wanted = wanted_values(release)
    chart = f"gitlab-agent-{release.version}"
    assert why_upgrade(release, wanted, Lookup(Deployed(4, "deployed", chart, wanted))) == ""
    assert why_upgrade(release, wanted, Lookup()) == "not installed"
    assert (
        why_upgrade(release, wanted, Lookup(Deployed(4, "failed", chart, wanted))) == "revision 4 is failed"
    )
    assert (
        why_upgrade(release, wanted, Lookup(Deployed(4, "deployed", "gitlab-agent-1.0.0", wanted)))
        == f"revision 4 runs gitlab-agent-1.0.0, not {chart}"
    )
    assert why_upgrade(release, wanted, Lookup(unreadable="kubernetes cluster unreachable")) == (
        "its state could not be read (kubernetes cluster unreachable)"
    )
    # Another token: the reason names the key, never either value.
    other = wanted_values(_agent("glagent-OTHER-token"))
    reason = why_upgrade(release, wanted, Lookup(Deployed(4, "deployed", chart, other)))
    assert reason == "revision 4 has other values (config.token)"
    # A value added by hand (`helm upgrade --set`) is a difference too.
    extra = {**wanted, "replicas": 5}
    assert "(replicas)" in why_upgrade(release, wanted, Lookup(Deployed(4, "deployed", chart, extra)))


def test_differing_paths_name_keys_and_types_not_values() -> None:
    assert list(differing_paths({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3, "d": 0}})) == ["a.c", "a.d"]
    assert list(differing_paths({"a": 1}, {"a": True})) == ["a"]  # 1 == True in Python, not in YAML
    assert list(differing_paths({"a": "1"}, {"a": 1})) == ["a"]
    assert list(differing_paths({}, {})) == []


def test_settle_marks_current_releases_unchanged_and_keeps_the_order() -> None:
    platform = _platform()
    plan = plan_infrastructure(platform, InfraState(None))
    vault, vso, argocd = (s for s in plan.steps if isinstance(s, HelmRelease))
    lookups = {
        release_key(vault, "minikube"): Lookup(
            Deployed(2, "deployed", f"vault-{vault.version}", wanted_values(vault))
        ),
        release_key(vso, "minikube"): Lookup(),
        # argocd: not read at all -> planned as an upgrade, with the reason
    }
    settled = settle_releases(plan, lookups, "minikube")
    assert [type(s) for s in settled.steps] == [type(s) for s in plan.steps]
    assert settled.notes == plan.notes
    releases = [s for s in settled.steps if isinstance(s, HelmRelease)]
    assert [(r.name, r.unchanged_revision, r.upgrade_reason) for r in releases] == [
        ("vault", 2, ""),
        ("vault-secrets-operator", None, "not installed"),
        ("argocd", None, "its state could not be read (not read)"),
    ]
    assert releases[0].describe() == "helm release vault in vault: vault 0.34.1 unchanged (revision 2)"
    assert releases[1].describe().endswith("; upgrade: not installed")
    assert [r.as_json()["unchanged_revision"] for r in releases] == [2, None, None]
    assert any(isinstance(s, WaitReady) for s in settled.steps)  # readiness is still checked
    assert ClusterPlan() == settle_releases(ClusterPlan(), {}, "minikube")


@pytest.mark.parametrize("which", ["vault", "vault-dev", "vso-remote", "argocd"])
def test_wanted_values_are_what_the_real_helm_records_with_the_published_charts(
    which: str, chart_repos: dict[str, str], tmp_path: Path
) -> None:
    helm = require_binary("helm")
    hashicorp, argo = chart_repos["hashicorp"], chart_repos["argo"]
    release: HelmRelease = {
        "vault": lambda: with_repo(vault_release(_platform()), hashicorp),
        "vault-dev": lambda: with_repo(vault_release(_platform(VAULT_DEV_MODE="true"), "dev-XYZ"), hashicorp),
        "vso-remote": lambda: replace(
            with_repo(vso_release(_platform()), hashicorp),
            set_strings=(("defaultVaultConnection.address", "https://vault.example.com"),),
        ),
        "argocd": lambda: with_repo(argocd_release(_platform()), argo),
    }[which]()
    recorded: Any = stored_config(helm, release, tmp_path)
    assert wanted_values(release) == (recorded or {})
    assert list(differing_paths(wanted_values(release), recorded or {})) == []


def test_the_agent_values_are_what_the_real_helm_records(tmp_path: Path) -> None:
    """The gitlab-agent chart has no offline copy; user-supplied values do not depend on the chart, so
    helm's own starter chart (`helm create`) stands in for it here."""
    import subprocess

    helm = require_binary("helm")
    subprocess.run([helm, "create", str(tmp_path / "starter")], check=True, capture_output=True)
    release = _agent()
    recorded = stored_config(helm, release, tmp_path, chart=str(tmp_path / "starter"))
    assert recorded["config"]["token"] == TOKEN  # the private values file reached helm
    assert wanted_values(release) == recorded
