"""End-to-end `ci deploy` (push mode) against a real cluster: skipped here with the reason, since no
Kubernetes can run on these machines. Opt-in, as the other cluster tests: GITOPS_POC_E2E=1 and KUBECONFIG
pointing at a disposable cluster (a user's minikube) whose KUBE_CONTEXT (default minikube) can create
namespaces."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gitops_poc.cli import main
from tests.conftest import require_binary
from tests.e2e.test_up import real_cluster  # noqa: F401 - the same opt-in cluster fixture

pytestmark = pytest.mark.cluster


def test_deploy_installs_the_release_argocd_would_own(
    real_cluster: str,  # noqa: F811 - the fixture imported above
    generated_root: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NAMESPACE_PREFIX", "gitops-poc-e2e")
    service = generated_root / "services" / "health-demo"
    args = [
        "ci",
        "deploy",
        "-C",
        str(service),
        "--service",
        "health-demo",
        "--env",
        "dev",
        "--tag",
        "0.1.0",
        "--timeout",
        "3m",
        "-o",
        "json",
    ]
    code = main(args)
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["deployed"] is True and result["release"] == "health-demo"
    helm = require_binary("helm")
    listed = subprocess.run(
        [helm, "list", "-n", "gitops-poc-e2e-dev", "--kube-context", real_cluster, "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert any(r["name"] == "health-demo" for r in json.loads(listed.stdout))
    subprocess.run(
        [helm, "uninstall", "health-demo", "-n", "gitops-poc-e2e-dev", "--kube-context", real_cluster],
        check=False,
        capture_output=True,
    )
