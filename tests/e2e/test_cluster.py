"""End-to-end against a real cluster and the Vault in it (a user's minikube). Skipped here with a reason:
no Kubernetes can run on these machines. It writes to that Vault, so it is opt-in: GITOPS_POC_E2E=1,
KUBECONFIG pointing at the cluster, VAULT_ADDR/VAULT_TOKEN
for its Vault (e.g. through `kubectl port-forward svc/vault -n vault 8200`), the platform synced by ArgoCD
(`gitops-config/platform/<env>` applied, so the ServiceAccounts exist), and KUBE_CONTEXT if not `minikube`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gitops_poc.cli import main
from tests.conftest import REAL_SYSTEMS, REPO_ROOT, require_binary

pytestmark = pytest.mark.cluster


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> str:
    """The kube context of a reachable cluster with Vault; skips with the reason otherwise."""
    if os.environ.get("GITOPS_POC_E2E") != "1":
        pytest.skip(
            "cluster end-to-end is opt-in: set GITOPS_POC_E2E=1 with KUBECONFIG, VAULT_ADDR and VAULT_TOKEN "
            "pointing at a disposable minikube (no Kubernetes runs on this machine)"
        )
    missing = [k for k in ("KUBECONFIG", "VAULT_ADDR", "VAULT_TOKEN") if k not in REAL_SYSTEMS]
    if missing:
        pytest.skip(
            f"no cluster end-to-end: {', '.join(missing)} not set (no Kubernetes runs on this machine)"
        )
    kubectl = require_binary("kubectl")
    context = os.environ.get("KUBE_CONTEXT", "minikube")
    probe = subprocess.run(
        [
            kubectl,
            "--kubeconfig",
            REAL_SYSTEMS["KUBECONFIG"],
            "--context",
            context,
            "version",
            "--request-timeout=5s",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(
            f"cluster in {REAL_SYSTEMS['KUBECONFIG']} (context {context}) is not reachable:"
            f" {probe.stderr.strip()}"
        )
    for key, value in REAL_SYSTEMS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("KUBE_CONTEXT", context)
    monkeypatch.setenv("PATH", f"{Path(kubectl).parent}{os.pathsep}{os.environ['PATH']}")
    return context


def test_provision_then_real_service_account_logins_prove_least_privilege(
    cluster: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = ["--root", str(REPO_ROOT), "--env-file", str(REPO_ROOT / ".env.example")]
    # CA and host from the kube context, as a user runs it against minikube.
    assert main(["vault", "provision", *root]) == 0
    capsys.readouterr()
    assert main(["vault", "provision", *root, "--output", "json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["writes"] == 0 and second["applied"] is False
    # Real logins with `kubectl create token` for every service's own ServiceAccount, and the namespace's
    # `default` account refused.
    assert main(["vault", "check", *root, "--identity", "kubernetes"]) == 0
