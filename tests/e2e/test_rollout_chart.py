"""End-to-end `rollout chart` against a real GitLab and the cluster its Argo CD syncs: the dev wave pushed to
the real gitops-config and waited on until dev's Applications are Synced and Healthy on the version. Skipped
here with the reason (no GitLab and no Kubernetes run on these machines); opt-in as tests/e2e/test_gitlab.py
and tests/e2e/test_cluster.py (GITLAB_URL, GITLAB_TOKEN, GITOPS_POC_E2E=1, KUBECONFIG, ...) plus
GITOPS_POC_E2E_ROLLOUT_ROOT: the platform folder published to that GitLab and synced by that Argo CD."""

from __future__ import annotations

import os

import pytest

from gitops_poc.cli import main
from tests.conftest import REAL_SYSTEMS
from tests.e2e.test_cluster import cluster
from tests.e2e.test_gitlab import real_gitlab

pytestmark = [pytest.mark.gitlab, pytest.mark.cluster]
__all__ = ["cluster", "real_gitlab"]  # the opt-in fixtures, shared


def test_the_dev_wave_lands_in_real_gitops_config_and_argo_cd_reports_it_healthy(
    real_gitlab: str, cluster: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = os.environ.get("GITOPS_POC_E2E_ROLLOUT_ROOT")
    if not root:
        pytest.skip("set GITOPS_POC_E2E_ROLLOUT_ROOT to a platform folder published and synced by Argo CD")
    argv = ["rollout", "chart", "3.13.0", "-C", root, "--remote-base", REAL_SYSTEMS["GITLAB_URL"]]
    assert main([*argv, "--env", "dev", "--push", "--timeout", "900", "-o", "json"]) == 0
    out = capsys.readouterr().out
    assert '"action": "healthy"' in out or '"action": "done-before"' in out
