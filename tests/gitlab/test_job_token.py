"""gitops-config's pipeline reads the service repositories with its CI job token: `gitlab bootstrap` puts
gitops-config in each service's job-token allowlist (and limits access to it), publish does it for the
projects it creates, `gitlab check` reports a missing entry. Against the GitLab-like HTTP server, whose git
endpoint takes a job token only where the allowlist admits the job's project, as GitLab does: the tool,
run as in gitops-config's pipeline (CI_JOB_TOKEN, CI_SERVER_URL, no GITLAB_TOKEN), reads the services'
value files through it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.tokenhome import reading_token
from tests.gitlab.conftest import API_TOKEN
from tests.gitlab.fake_gitlab import FakeGitLab

SERVICES = ("api-gateway", "auth-adapter", "web-grpc", "web-http", "health-demo")
READER = "gitops-poc/gitops-config"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def scope(fake: FakeGitLab, service: str) -> dict[str, object]:
    return fake.state.job_token_scopes[fake.state.projects[f"gitops-poc/{service}"]["id"]]


def reader_id(fake: FakeGitLab) -> int:
    return int(fake.state.projects[READER]["id"])


def job_token_writes(fake: FakeGitLab) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.writes() if "/job_token_scope" in r.path]


def check(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, list[tuple[str, str]]]:
    code, out, _err = run(capsys, "gitlab", "check", "--root", str(root), "-o", "json")
    return code, [(d["target"], d["problem"]) for d in json.loads(out)["differences"]]


def test_bootstrap_admits_gitops_config_in_every_service_once(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))
    assert code == 0, err
    assert f"+ create CI job token allowlist gitops-poc/health-demo (admits {READER}'s CI job token" in err
    for service in SERVICES:
        assert scope(gitlab_env, service) == {"inbound_enabled": True, "allowlist": [reader_id(gitlab_env)]}
    # gitops-config admits no one: the services' pipelines never read it with their job tokens.
    assert gitlab_env.state.job_token_scopes[reader_id(gitlab_env)]["allowlist"] == []
    writes = len(gitlab_env.writes())
    code, _out, err = run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))
    assert code == 0 and "GitLab matches the plan: nothing to change" in err
    assert len(gitlab_env.writes()) == writes
    assert check(capsys, generated_root) == (0, [])


def test_dry_run_lists_the_allowlist_entries_and_changes_nothing(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gitlab_env.add_group("gitops-poc")
    for name in ("gitops-config", *SERVICES):
        gitlab_env.add_project("gitops-poc", name)
    code, out, _err = run(
        capsys, "gitlab", "bootstrap", "--root", str(generated_root), "--dry-run", "-o", "json"
    )
    assert code == 0
    planned = [s for s in json.loads(out)["steps"] if s["kind"] == "CI job token allowlist"]
    assert [(s["action"], s["target"]) for s in planned] == [("create", f"gitops-poc/{s}") for s in SERVICES]
    assert gitlab_env.writes() == []
    assert all(scope(gitlab_env, s)["allowlist"] == [] for s in SERVICES)


def test_check_reports_a_missing_entry_and_an_unlimited_scope_that_bootstrap_fixes(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))[0] == 0
    scope(gitlab_env, "health-demo")["allowlist"] = []
    scope(gitlab_env, "web-http")["inbound_enabled"] = False
    code, differences = check(capsys, generated_root)
    assert code == 1
    assert differences == [
        (
            "gitops-poc/web-http",
            "CI job token access is not limited to the allowlist: any project's jobs may read it",
        ),
        (
            "gitops-poc/health-demo",
            f"{READER} is not in its CI job token allowlist: gitops-config's pipeline cannot read this "
            "repository",
        ),
    ]
    assert run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))[0] == 0
    web_http = gitlab_env.state.projects["gitops-poc/web-http"]["id"]
    health_demo = gitlab_env.state.projects["gitops-poc/health-demo"]["id"]
    assert job_token_writes(gitlab_env)[-2:] == [
        f"PATCH /projects/{web_http}/job_token_scope",
        f"POST /projects/{health_demo}/job_token_scope/allowlist",
    ]
    assert check(capsys, generated_root) == (0, [])


def test_an_entry_added_meanwhile_by_someone_else_counts_as_done(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))[0] == 0
    scope(gitlab_env, "health-demo")["allowlist"] = []
    health_demo = gitlab_env.state.projects["gitops-poc/health-demo"]["id"]

    def racing(_request: object) -> None:  # between bootstrap's read and its write
        scope(gitlab_env, "health-demo")["allowlist"] = [reader_id(gitlab_env)]

    gitlab_env.before("GET", rf"/projects/{health_demo}/job_token_scope", racing)
    assert run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))[0] == 0
    assert scope(gitlab_env, "health-demo")["allowlist"] == [reader_id(gitlab_env)]


def test_publish_allowlists_the_projects_it_creates_only(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """new-service + publish: the new project admits gitops-config from its first push; an existing project
    that lost its entry is left to bootstrap (publish may lack the Maintainer role there)."""
    root = str(generated_root)
    assert run(capsys, "gitlab", "bootstrap", "--root", root)[0] == 0
    scope(gitlab_env, "health-demo")["allowlist"] = []
    code, _out, err = run(capsys, "new-service", "billing", "--root", root, "--yes")
    assert code == 0, err
    gitlab_env.requests.clear()
    code, _out, err = run(capsys, "publish", "--root", root, "--remote-base", gitlab_env.url, "--dry-run")
    assert code == 0, err
    assert "GitLab: create CI job token allowlist gitops-poc/billing" in err
    assert gitlab_env.writes() == []
    code, _out, err = run(capsys, "publish", "--root", root, "--remote-base", gitlab_env.url)
    assert code == 0, err
    assert scope(gitlab_env, "billing") == {"inbound_enabled": True, "allowlist": [reader_id(gitlab_env)]}
    assert scope(gitlab_env, "health-demo")["allowlist"] == []
    # Publish reads no existing project's job-token scope.
    billing = gitlab_env.state.projects["gitops-poc/billing"]["id"]
    read = {r.path.split("/")[2] for r in gitlab_env.requests if "/job_token_scope" in r.path}
    assert read <= {str(billing), "gitops-poc%2Fbilling", "gitops-poc/billing"}


def _gitops_config_pipeline_env(monkeypatch: pytest.MonkeyPatch, fake: FakeGitLab, job_token: str) -> None:
    """What a job of gitops-config's pipeline has: no GITLAB_TOKEN, its own job token, its GitLab's URL."""
    monkeypatch.delenv("GITLAB_TOKEN", raising=False)
    monkeypatch.setenv("CI_JOB_TOKEN", job_token)
    monkeypatch.setenv("CI_SERVER_URL", fake.url)
    monkeypatch.setenv("GITOPS_REMOTE_BASE", fake.url)


def test_gitops_configs_job_token_reads_the_services_it_is_admitted_to(
    gitlab_env: FakeGitLab,
    generated_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    process_args: list[list[str]],
) -> None:
    root = str(generated_root)
    assert run(capsys, "gitlab", "bootstrap", "--root", root)[0] == 0
    assert run(capsys, "publish", "--root", root, "--remote-base", gitlab_env.url)[0] == 0
    clone = tmp_path / "gitops-config"
    subprocess.run(["git", "clone", "-q", str(gitlab_env.git_root / READER) + ".git", str(clone)], check=True)
    job_token = gitlab_env.issue_job_token(READER)
    _gitops_config_pipeline_env(monkeypatch, gitlab_env, job_token)
    gitlab_env.git_auth.clear()

    code, _out, err = run(capsys, "lint", "--root", str(clone))
    assert code == 0, err
    assert "a clone of gitops-config" in err and "not read" not in err
    assert set(gitlab_env.git_auth) == {"gitlab-ci-token"}  # every service, with the job token
    assert len(gitlab_env.git_auth) >= len(SERVICES)
    fetches = [args for args in process_args if args[:1] == ["git"] and "fetch" in args]
    assert len(fetches) >= len(SERVICES)
    assert not any(job_token in arg for args in process_args for arg in args), "the job token in argv"
    assert job_token not in err
    assert not any(job_token in f.read_text(errors="replace") for f in clone.rglob("*") if f.is_file())

    # Without gitops-config in health-demo's allowlist GitLab refuses the job token there: said, not hidden.
    scope(gitlab_env, "health-demo")["allowlist"] = []
    code, _out, err = run(capsys, "lint", "--root", str(clone))
    assert "value files of 1 service(s) not read (first: health-demo:" in err
    assert "403" in err and job_token not in err
    assert gitlab_env.git_refusals[-1] == (
        f"Authentication by CI/CD job token not allowed from {READER} to gitops-poc/health-demo."
    )

    # A job token of another project of the group reads nothing.
    scope(gitlab_env, "health-demo")["allowlist"] = [reader_id(gitlab_env)]
    _gitops_config_pipeline_env(monkeypatch, gitlab_env, gitlab_env.issue_job_token("gitops-poc/web-http"))
    code, _out, err = run(capsys, "lint", "--root", str(clone))
    assert "value files of 4 service(s) not read" in err


def test_the_job_token_goes_to_the_jobs_own_gitlab_only() -> None:
    ci = {"CI_JOB_TOKEN": "glcbt-abc", "CI_SERVER_URL": "https://gitlab.example.com"}

    def credential(url: str | None, environ: dict[str, str]) -> tuple[str, str] | None:
        """(user, token) git is handed for `url` (GITLAB_HOST as the built-in default)."""
        found = reading_token(url, environ, "gitlab.com")
        return (found.user, found.value) if found and url and found.belongs_to(url) else None

    assert credential("https://gitlab.example.com", ci) == ("gitlab-ci-token", "glcbt-abc")
    assert credential("https://gitlab.example.com:443/", ci) == ("gitlab-ci-token", "glcbt-abc")
    assert credential("https://git.other.example", ci) is None
    assert credential("http://gitlab.example.com", ci) is None  # not over another scheme
    assert credential("ssh://git@gitlab.example.com", ci) is None
    assert credential(None, ci) is None
    assert credential("https://gitlab.example.com", {"CI_JOB_TOKEN": "x"}) is None
    # GITLAB_TOKEN wins on its own GitLab (in CI: CI_SERVER_URL's, unless GITLAB_URL names another)...
    with_token = {**ci, "GITLAB_TOKEN": API_TOKEN}
    assert credential("https://gitlab.example.com", with_token) == ("oauth2", API_TOKEN)
    # ... and goes nowhere else: another server gets no token at all (it used to get GITLAB_TOKEN).
    assert credential("https://git.other.example", with_token) is None
    moved = {**with_token, "GITLAB_URL": "https://git.other.example"}
    assert credential("https://git.other.example", moved) == ("oauth2", API_TOKEN)
    # GITLAB_URL names GitLab under another address: the job token still goes to CI_SERVER_URL's alone.
    assert credential("https://gitlab.example.com", moved) == ("gitlab-ci-token", "glcbt-abc")
    # Outside CI: GITLAB_URL, else https://GITLAB_HOST.
    assert credential("https://gitlab.com", {"GITLAB_TOKEN": API_TOKEN}) == ("oauth2", API_TOKEN)
    assert credential("https://gitlab.example.com", {"GITLAB_TOKEN": API_TOKEN}) is None


def test_without_the_maintainer_role_bootstrap_says_which_request_needs_it(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))[0] == 0
    gitlab_env.fail("GET", r"/projects/\d+/job_token_scope", 403, times=100)
    code, _out, err = run(capsys, "gitlab", "check", "--root", str(generated_root))
    assert code == 2
    assert "GitLab answered 403 to GET /projects/gitops-poc/api-gateway/job_token_scope" in err
    assert "it needs the Maintainer role there" in err and API_TOKEN not in err
