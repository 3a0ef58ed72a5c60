"""End to end on a real, disposable cluster (a user's minikube): `up` stands the platform up and `verify`
checks it. Opt-in (it installs Vault, VSO and ArgoCD): GITOPS_POC_E2E=1 and KUBECONFIG pointing at the
cluster; KUBE_CONTEXT if not `minikube`; GITLAB_DEPLOY_TOKEN_USER/GITLAB_DEPLOY_TOKEN for the registry.
Skipped here with the reason: no Kubernetes can run on this machine."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.cluster.push import agent_release
from gitops_poc.config import load_config
from gitops_poc.platform import Platform
from tests.conftest import REAL_SYSTEMS, REPO_ROOT, require_binary

pytestmark = pytest.mark.cluster


@pytest.fixture
def real_cluster(monkeypatch: pytest.MonkeyPatch) -> str:
    if os.environ.get("GITOPS_POC_E2E") != "1":
        pytest.skip(
            "cluster end-to-end is opt-in: set GITOPS_POC_E2E=1 and KUBECONFIG for a disposable minikube "
            "(no Kubernetes runs on this machine)"
        )
    if "KUBECONFIG" not in REAL_SYSTEMS:
        pytest.skip("no cluster end-to-end: KUBECONFIG is not set (no Kubernetes runs on this machine)")
    monkeypatch.setenv("KUBECONFIG", REAL_SYSTEMS["KUBECONFIG"])
    for key in ("GITLAB_DEPLOY_TOKEN_USER", "GITLAB_DEPLOY_TOKEN", "KUBE_CONTEXT"):
        if key in os.environ:
            monkeypatch.setenv(key, os.environ[key])
    return os.environ.get("KUBE_CONTEXT", "minikube")


def test_up_then_verify(real_cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = ["-C", str(REPO_ROOT), "--env-file", str(REPO_ROOT / ".env.example")]
    assert main(["up", *root]) == 0
    capsys.readouterr()
    # A second run skips what is done and verifies again.
    assert main(["up", *root]) == 0
    assert "skipped" in capsys.readouterr().err
    junit = tmp_path / "verify.xml"
    assert main(["verify", *root, "--output", "json", "--junit", str(junit)]) == 0
    assert json.loads(capsys.readouterr().out)["failed"] == 0


def test_setup_infrastructure_rerun_adds_no_helm_revision(
    real_cluster: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """After `up`, every release is current: the dry run says so and a re-run makes no revision."""
    helm = require_binary("helm")
    root = ["-C", str(REPO_ROOT), "--env-file", str(REPO_ROOT / ".env.example")]
    assert main(["up", *root]) == 0

    def revisions() -> list[str]:
        listed = subprocess.run(
            [helm, "list", "--all-namespaces", "--kube-context", real_cluster, "--output", "json"],
            capture_output=True,
            text=True,
            check=True,
        )
        return sorted(f"{r['name']}:{r['revision']}" for r in json.loads(listed.stdout))

    before = revisions()
    capsys.readouterr()
    assert main(["setup", "infrastructure", *root, "--dry-run"]) == 0
    assert "releases: 0 would be installed or upgraded (-), 3 already current" in capsys.readouterr().err
    assert main(["setup", "infrastructure", *root]) == 0
    assert "3 release(s) unchanged" in capsys.readouterr().err
    assert revisions() == before


def test_gitlab_agent_release_renders_with_the_pinned_public_chart(real_cluster: str, tmp_path: Path) -> None:
    """The agent chart has no offline copy: rendered here, where the public repository is reachable."""
    helm = require_binary("helm")
    release = agent_release(Platform(load_config(None, {})), "e2e-placeholder-token")
    private = tmp_path / "private.yaml"
    private.write_text("config:\n  token: e2e-placeholder-token\n")
    result = subprocess.run(
        [
            helm,
            "template",
            release.name,
            release.chart,
            "--repo",
            release.repo,
            "--version",
            release.version,
            "--namespace",
            release.namespace,
            "--values",
            release.values_files[0],
            "--values",
            str(private),
            *(a for k, v in release.set_strings for a in ("--set-string", f"{k}={v}")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "kind: Deployment" in result.stdout and "cluster-admin" not in result.stdout
    # The keys pinned in tests/cluster/test_agent_chart_keys.py do what they say at the pinned version.
    assert "kind: ClusterRole" not in result.stdout  # neither cluster-admin nor the scanning ClusterRole
    assert "name: gitlab-agent\n" in result.stdout and "--kas-address=wss://kas.gitlab.com" in result.stdout
    # Nor any Role for the agent itself: its Leases and Events come from `setup push` (agent_own_rights).
    assert "kind: Role\n" not in result.stdout and "kind: RoleBinding\n" not in result.stdout


# Captured at import, before the suite's isolation clears the environment.
AGENT_TOKEN = os.environ.get("GITLAB_AGENT_TOKEN", "")


def test_push_mode_applies_the_platform_objects_verify_checks(
    real_cluster: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Push mode on the real cluster: `setup push` applies gitops-config/platform/<env>/ and the agent;
    verify's platform checks (ServiceAccount and VaultAuth of each service) then pass."""
    if not AGENT_TOKEN:
        pytest.skip(
            "push mode end-to-end needs GITLAB_AGENT_TOKEN (a registered agent) besides GITOPS_POC_E2E"
        )
    monkeypatch.setenv("GITLAB_AGENT_TOKEN", AGENT_TOKEN)
    monkeypatch.setenv("GITOPS_MODE", "push")
    root = ["-C", str(REPO_ROOT), "--env-file", str(REPO_ROOT / ".env.example")]
    assert main(["setup", "push", *root]) == 0
    capsys.readouterr()
    main(["verify", *root, "--skip-vault", "--output", "json"])
    checks = json.loads(capsys.readouterr().out)["checks"]
    platform = [c for c in checks if c["group"].startswith("platform/")]
    assert platform and all(c["status"] == "ok" for c in platform), platform


# Captured at import, like AGENT_TOKEN: a second disposable cluster and the address it reaches Vault at.
SECOND_CONTEXT = os.environ.get("GITOPS_POC_E2E_SECOND_CONTEXT", "")
EXTERNAL_VAULT = os.environ.get("VAULT_EXTERNAL_ADDR", "")


def test_another_cluster_gets_the_operator_connected_to_vault_external_addr(
    real_cluster: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two clusters: `setup infrastructure` installs only the Vault Secrets Operator in the second one, its
    default VaultConnection at VAULT_EXTERNAL_ADDR, and verify finds its pods ready there."""
    if not (SECOND_CONTEXT and EXTERNAL_VAULT):
        pytest.skip(
            "two-cluster end-to-end needs GITOPS_POC_E2E_SECOND_CONTEXT (a second disposable cluster's kube "
            "context) and VAULT_EXTERNAL_ADDR (Vault as that cluster reaches it) besides GITOPS_POC_E2E"
        )
    from gitops_poc.cluster.kube import Kube

    monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=prod-e2e")
    monkeypatch.setenv("CLUSTER_CONTEXTS", f"prod-e2e={SECOND_CONTEXT}")
    monkeypatch.setenv("VAULT_EXTERNAL_ADDR", EXTERNAL_VAULT)
    root = ["-C", str(REPO_ROOT), "--env-file", str(REPO_ROOT / ".env.example")]
    assert main(["setup", "infrastructure", *root]) == 0
    second = Kube.from_kubeconfig(SECOND_CONTEXT)
    connection = second.get(
        "secrets.hashicorp.com/v1beta1", "VaultConnection", "vault-secrets-operator-system", "default"
    )
    assert connection is not None and connection["spec"]["address"] == EXTERNAL_VAULT.rstrip("/")
    assert second.get("v1", "Namespace", None, "vault") is None  # no Vault there
    capsys.readouterr()
    main(["verify", *root, "--skip-vault", "--output", "json"])
    checks = json.loads(capsys.readouterr().out)["checks"]
    [operator] = [c for c in checks if c["group"] == "infrastructure@prod-e2e"]
    assert operator["status"] == "ok", operator
