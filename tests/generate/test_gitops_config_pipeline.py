"""gitops-config's own generated pipeline, run by gitlab-ci-local in a clone of the real published
gitops-config repository (`gitops-poc publish` to local bare remotes): the merge-request pipeline (lint, plan
with the deletion guard, review, the report artifact) and the default branch's (init --check, GitLab Pages).

The jobs run the tool in shell mode. Their configuration is the pipeline's own variables (gitops-config holds
no .env); the services' value files and histories come from the bare remotes (GITOPS_REMOTE_BASE), the
charts from the offline repositories on loopback (CHART_REPO_MIRROR, ARGO_HELM_REPO, HASHICORP_HELM_REPO)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.generate.test_pipelines_gitlab_ci_local import NODE_BIN, git, gitlab_ci_local
from tests.gitlab.conftest import API_TOKEN
from tests.gitlab.fake_gitlab import fake_gitlab
from tests.review.structure import parse_note

TOOL = REPO_ROOT / ".venv" / "bin" / "gitops-poc"


@dataclass
class Clone:
    root: Path  # the platform folder init writes and publish pushes
    remotes: Path
    path: Path  # the clone of gitops-config the pipeline runs in
    charts: dict[str, str]
    home: Path

    def tool(self, *args: str) -> None:
        result = subprocess.run(
            [str(TOOL), *args, "-C", str(self.root)], capture_output=True, text=True, check=False, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def reconfigure(self, env_text: str) -> None:
        """The platform team's change: .env, `init`, `publish` (gitops-config's main moves on)."""
        (self.root / ".env").write_text(env_text)
        self.tool("init", "--yes")
        self.tool("publish", "--remote-base", str(self.remotes))

    def run(
        self, *jobs: str, variables: dict[str, str], remotes: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """gitlab-ci-local runs `jobs`; `remotes` False: the pipeline's own GITOPS_REMOTE_BASE
        ($CI_SERVER_URL) is left as it is."""
        arguments = [str(gitlab_ci_local()), *jobs, "--force-shell-executor"]
        served = {
            **({"GITOPS_REMOTE_BASE": str(self.remotes)} if remotes else {}),
            "CHART_REPO_MIRROR": self.charts["k8app"],
            **variables,
        }
        for name, value in served.items():
            arguments += ["--variable", f"{name}={value}"]
        environ = {k: v for k, v in os.environ.items() if k != "GITLAB_TOKEN"}
        environ["HOME"] = str(self.home)
        environ["PATH"] = f"{NODE_BIN}{os.pathsep}{REPO_ROOT / '.venv' / 'bin'}{os.pathsep}{environ['PATH']}"
        return subprocess.run(
            arguments, cwd=self.path, env=environ, capture_output=True, text=True, check=False, timeout=600
        )

    def artifact(self, job: str, name: str) -> Path:
        found = sorted((self.path / ".gitlab-ci-local" / "artifacts" / job).rglob(name))
        assert found, f"no {name} among {job}'s artifacts"
        return found[0]

    def listed(self, variables: dict[str, str]) -> list[str]:
        arguments = [str(gitlab_ci_local()), "--list-json"]
        for name, value in variables.items():
            arguments += ["--variable", f"{name}={value}"]
        environ = {**os.environ, "HOME": str(self.home)}
        environ["PATH"] = f"{NODE_BIN}{os.pathsep}{environ['PATH']}"
        result = subprocess.run(
            arguments, cwd=self.path, env=environ, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        listing = "\n".join(lines[lines.index("[") :])  # after gitlab-ci-local's warnings
        return [job["name"] for job in json.loads(listing) if job["when"] != "never"]


MR = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7"}


@pytest.fixture
def clone(tmp_path: Path, chart_repos: dict[str, str]) -> Iterator[Clone]:
    gitlab_ci_local()  # fails under CI when missing, skips elsewhere
    lab = Clone(tmp_path / "platform", tmp_path / "srv", tmp_path / "gitops-config", chart_repos, tmp_path)
    lab.root.mkdir()
    lab.reconfigure("GITLAB_GROUP=acme\n")
    subprocess.run(
        ["git", "clone", "-q", str(lab.remotes / "acme" / "gitops-config.git"), str(lab.path)], check=True
    )
    git(lab.path, "config", "user.email", "reviewer@example.com")
    git(lab.path, "config", "user.name", "Reviewer")
    (lab.path / ".git" / "info" / "exclude").write_text(".gitlab-ci-local/\n")
    yield lab


def test_the_pipelines_jobs_on_a_merge_request_and_on_the_default_branch(clone: Clone) -> None:
    assert (clone.path / ".gitlab-ci.yml").is_file()  # published with gitops-config
    on_main = clone.listed({})
    assert on_main == ["lint", "plan", "init-check", "pages"]
    git(clone.path, "checkout", "-q", "-b", "feature")  # a merge request's pipeline: off the default branch
    assert clone.listed(MR) == ["lint", "plan", "review", "report"]


def test_merge_request_pipeline_reviews_a_chart_bump(clone: Clone) -> None:
    base = git(clone.path, "rev-parse", "HEAD").strip()
    clone.reconfigure("GITLAB_GROUP=acme\nCHART_VERSION=3.12.1\n")
    git(clone.path, "pull", "-q", "--ff-only")
    git(clone.path, "checkout", "-q", "-b", "chart-3.12.1")
    result = clone.run(
        "lint",
        "plan",
        "review",
        "report",
        variables={
            **MR,
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
            "CI_PAGES_URL": "https://acme.pages.example/gitops-config",
            "ARGO_HELM_REPO": clone.charts["argo"],
            "HASHICORP_HELM_REPO": clone.charts["hashicorp"],
        },
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for job in ("lint", "plan", "review", "report"):
        assert f"PASS  {job}" in output
    note = clone.artifact("review", "review.md").read_text()
    assert "Applications: 15 changed, 0 added, 0 deleted" in note
    parsed = parse_note(note)
    assert parsed.summary.startswith("✅ **gitops-poc review**") or "gitops-poc review" in parsed.summary
    assert len(parsed.sections) == 15  # one collapsed section per Application
    assert any("<code>api-gateway-prod</code>" in s for s in parsed.sections)
    assert '`"3.13.0"` → `"3.12.1"`' in note
    # One line under the summary: the page the default branch publishes.
    assert note.splitlines()[2] == (
        "What runs where: [the platform report](https://acme.pages.example/gitops-config)"
    )
    quality = json.loads(clone.artifact("review", "gl-code-quality-report.json").read_text())
    assert all(not f["location"]["path"].startswith("gitops-config/") for f in quality)
    assert clone.artifact("report", "index.html").stat().st_size > 0
    assert "Compared with" in output and "0 to delete" in output  # plan ran with the deletion guard


def test_removing_two_services_trips_the_deletion_guard(clone: Clone) -> None:
    base = git(clone.path, "rev-parse", "HEAD").strip()
    clone.reconfigure('GITLAB_GROUP=acme\nSERVICES="api-gateway auth-adapter health-demo"\n')
    git(clone.path, "pull", "-q", "--ff-only")
    result = clone.run("plan", variables={**MR, "CI_MERGE_REQUEST_DIFF_BASE_SHA": base})
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "FAIL  plan" in output
    assert "6 to delete" in output or "6 Application" in output


def test_default_branch_init_check_and_pages(clone: Clone) -> None:
    result = clone.run("init-check", "pages", variables={})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "PASS  init-check" in output and "PASS  pages" in output
    page = clone.artifact("pages", "index.html")
    assert page.parent.name == "public"
    assert "api-gateway" in page.read_text()
    # A hand edit of a generated file: the default branch's init --check fails, naming the file.
    appset = clone.path / "argocd" / "applicationset.yaml"
    appset.write_text(appset.read_text().replace("PruneLast=true", "PruneLast=false"))
    git(clone.path, "commit", "-q", "-am", "hand edit")
    result = clone.run("init-check", variables={})
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "FAIL  init-check" in output
    assert "update argocd/applicationset.yaml" in output


def test_merge_request_pipeline_reads_the_services_with_its_ci_job_token(
    tmp_path: Path, chart_repos: dict[str, str]
) -> None:
    """On a GitLab (the stand-in: REST API and git over HTTP, a job token admitted only where a project's
    allowlist holds the job's project): `gitlab bootstrap`, `publish`, then gitops-config's merge-request
    pipelines (the default branch's init-check and pages, a merge request's lint and review) with nothing
    but the job's own CI_JOB_TOKEN and CI_SERVER_URL (GITOPS_REMOTE_BASE is the pipeline's `$CI_SERVER_URL`)
    read every service's value files and history; without gitops-config in a service's allowlist, that
    service's are not read and the review says so."""
    gitlab_ci_local()
    with fake_gitlab(API_TOKEN, tmp_path / "gitlab-repos") as lab_gitlab:
        lab = Clone(
            tmp_path / "platform", tmp_path / "srv", tmp_path / "gitops-config", chart_repos, tmp_path
        )
        lab.root.mkdir()
        (lab.root / ".env").write_text("GITLAB_GROUP=acme\n")
        admin = {**os.environ, "GITLAB_URL": lab_gitlab.url, "GITLAB_TOKEN": API_TOKEN}
        for command in (
            ["init", "--yes"],
            ["gitlab", "bootstrap"],
            ["publish", "--remote-base", lab_gitlab.url],
        ):
            done = subprocess.run(
                [str(TOOL), *command, "-C", str(lab.root)],
                capture_output=True,
                text=True,
                env=admin,
                check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
        bare = lab_gitlab.git_root / "acme" / "gitops-config.git"
        subprocess.run(["git", "clone", "-q", str(bare), str(lab.path)], check=True)
        (lab.path / ".git" / "info" / "exclude").write_text(".gitlab-ci-local/\n")
        ci = {
            "CI_SERVER_URL": lab_gitlab.url,
            "CI_JOB_TOKEN": lab_gitlab.issue_job_token("acme/gitops-config"),
        }
        # The default branch: init --check reads the services' value files, the report page their histories.
        result = lab.run("init-check", "pages", variables=ci, remotes=False)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "PASS  init-check" in output and "PASS  pages" in output
        assert "api-gateway" in lab.artifact("pages", "index.html").read_text()
        assert set(lab_gitlab.git_auth) == {"oauth2", "gitlab-ci-token"}  # publish's pushes, then the jobs'
        base = git(lab.path, "rev-parse", "HEAD").strip()
        git(lab.path, "checkout", "-q", "-b", "feature")
        job = {**MR, "CI_MERGE_REQUEST_DIFF_BASE_SHA": base, **ci}
        lab_gitlab.git_auth.clear()
        result = lab.run("lint", "review", variables=job, remotes=False)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "PASS  lint" in output and "PASS  review" in output
        assert "not read" not in output
        assert set(lab_gitlab.git_auth) == {"gitlab-ci-token"}  # the job token, the only credential there
        note = lab.artifact("review", "review.md").read_text()
        assert note.splitlines()[0].endswith("· 0 render errors"), note

        # health-demo no longer admits gitops-config: GitLab refuses the job token there, the review says so.
        health_demo = lab_gitlab.state.projects["acme/health-demo"]["id"]
        lab_gitlab.state.job_token_scopes[health_demo]["allowlist"] = []
        result = lab.run("review", variables=job, remotes=False)
        output = result.stdout + result.stderr
        assert "value files of 1 service(s) not read (first: health-demo:" in output
        assert job["CI_JOB_TOKEN"] not in output
        assert lab_gitlab.git_refusals[-1].startswith("Authentication by CI/CD job token not allowed")
