"""End-to-end against a real GitLab: bootstrap, a re-run that changes nothing, check, publish twice.

Skipped here with the reason (no GitLab can run on these machines). It creates projects and tokens, so it
is opt-in: GITLAB_URL and GITLAB_TOKEN (scope api) plus GITOPS_POC_E2E_GITLAB_GROUP, a group (or
`group/subgroup`) that may be filled and thrown away.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gitops_poc.changes import apply_changes
from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.generate import plan_init
from gitops_poc.platform import Platform
from tests.conftest import REAL_SYSTEMS

pytestmark = pytest.mark.gitlab


@pytest.fixture
def real_gitlab(monkeypatch: pytest.MonkeyPatch) -> str:
    missing = [k for k in ("GITLAB_URL", "GITLAB_TOKEN") if k not in REAL_SYSTEMS]
    if missing:
        pytest.skip(f"no GitLab end-to-end: {', '.join(missing)} not set (no GitLab runs on this machine)")
    group = os.environ.get("GITOPS_POC_E2E_GITLAB_GROUP")
    if not group:
        pytest.skip("GitLab end-to-end is opt-in: set GITOPS_POC_E2E_GITLAB_GROUP to a disposable group")
    for key in ("GITLAB_URL", "GITLAB_TOKEN"):
        monkeypatch.setenv(key, REAL_SYSTEMS[key])
    monkeypatch.setenv("GITLAB_GROUP", group)
    monkeypatch.setenv("SERVICES", "health-demo")
    return group


def bootstrap_twice_and_check(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bootstrap from scratch, a re-run that changes nothing, check that passes."""
    root.mkdir()
    assert main(["gitlab", "bootstrap", "--root", str(root)]) == 0
    assert main(["gitlab", "bootstrap", "--root", str(root)]) == 0
    assert "nothing to change" in capsys.readouterr().err
    assert main(["gitlab", "check", "--root", str(root)]) == 0


def test_bootstrap_check_and_publish_against_real_gitlab(
    real_gitlab: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "platform"
    platform = Platform(load_config(None, dict(os.environ)))
    apply_changes(root, plan_init(platform, root))
    assert main(["gitlab", "bootstrap", "--root", str(root)]) == 0
    assert main(["gitlab", "bootstrap", "--root", str(root)]) == 0
    assert "nothing to change" in capsys.readouterr().err
    assert main(["gitlab", "check", "--root", str(root)]) == 0
    assert stat.S_IMODE((root / ".env").stat().st_mode) == 0o600
    url = REAL_SYSTEMS["GITLAB_URL"]
    assert main(["publish", "--root", str(root), "--remote-base", url]) == 0
    capsys.readouterr()
    assert main(["publish", "--root", str(root), "--remote-base", url]) == 0
    assert "Everything is up to date" in capsys.readouterr().err
    output = capsys.readouterr()
    assert REAL_SYSTEMS["GITLAB_TOKEN"] not in output.out + output.err


def test_two_clusters_register_one_agent_each_in_real_gitlab(
    real_gitlab: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=e2e-prod")
    root = tmp_path / "platform"
    root.mkdir()
    assert main(["gitlab", "bootstrap", "--root", str(root)]) == 0
    config = load_config(root / ".env", dict(os.environ))
    assert config.agent_token(None) and config.agent_token("e2e-prod")
    assert config.agent_token(None) != config.agent_token("e2e-prod")
    assert main(["gitlab", "check", "--root", str(root)]) == 0
    output = capsys.readouterr()
    assert config.agent_token("e2e-prod") not in output.out + output.err


def test_the_review_token_lands_in_a_masked_unprotected_group_variable_of_real_gitlab(
    real_gitlab: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real GitLab decides what a group access token may be (Owner role, tier, maximum lifetime) and
    whether `masked_and_hidden` is known: bootstrap creates it, check passes, a re-run changes nothing."""
    import gitlab

    bootstrap_twice_and_check(tmp_path / "platform", capsys)
    gl = gitlab.Gitlab(REAL_SYSTEMS["GITLAB_URL"], private_token=REAL_SYSTEMS["GITLAB_TOKEN"])
    group = gl.groups.get(real_gitlab)
    var = group.variables.get("GITOPS_REVIEW_TOKEN")
    assert var.masked and not var.protected
    tokens = [t for t in group.access_tokens.list(get_all=True) if t.active and t.name.endswith("-review")]
    assert [(t.scopes, t.access_level) for t in tokens] == [(["api"], 20)]
    output = capsys.readouterr()
    assert "glpat-" not in output.out + output.err


def test_every_service_admits_gitops_configs_job_token_in_real_gitlab(
    real_gitlab: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real GitLab decides whether the job token allowlist API is there (15.9+) and who may change it
    (Maintainer): bootstrap admits gitops-config in health-demo's allowlist with access limited to it, a
    re-run changes nothing, check passes. (Reading the repository with the job token itself needs a runner:
    a pipeline of gitops-config, not a test.)"""
    import gitlab

    bootstrap_twice_and_check(tmp_path / "platform", capsys)
    gl = gitlab.Gitlab(REAL_SYSTEMS["GITLAB_URL"], private_token=REAL_SYSTEMS["GITLAB_TOKEN"])
    scope = gl.projects.get(f"{real_gitlab}/health-demo").job_token_scope.get()
    assert scope.inbound_enabled
    allowed = [p.path_with_namespace for p in scope.allowlist.list(get_all=True)]
    assert f"{real_gitlab}/gitops-config" in allowed


def test_the_token_is_not_sent_to_the_same_host_under_another_scheme(
    real_gitlab: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Real GitLab as GITLAB_URL: the same host over the other scheme is another origin, so merge requests
    there are refused (exit 2) before anything is sent."""
    from urllib.parse import urlsplit

    root = tmp_path / "platform"
    platform = Platform(load_config(None, dict(os.environ)))
    apply_changes(root, plan_init(platform, root))
    parts = urlsplit(REAL_SYSTEMS["GITLAB_URL"])
    other = parts._replace(scheme="http" if parts.scheme == "https" else "https").geturl()
    assert main(["rollout", "template", "--root", str(root), "--remote-base", other]) == 2
    err = capsys.readouterr().err
    assert f"GitLab's API at {other}" in err and "GITLAB_TOKEN is only sent to GitLab at" in err
    assert REAL_SYSTEMS["GITLAB_TOKEN"] not in err
