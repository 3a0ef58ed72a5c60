"""`gitlab bootstrap` sets the group variable REPORT_URL to gitops-config's GitLab Pages address (the report
page that every review note links, services' included) once GitLab has one, and says when it has none yet.
Against the GitLab-like HTTP server, which answers GET /projects/:id/pages with 404 until a site exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_poc.cli import main
from tests.gitlab.fake_gitlab import FakeGitLab

PAGES = "https://gitops-poc.pages.example.com/gitops-config"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def group_variables(fake: FakeGitLab) -> dict[str, dict[str, object]]:
    return fake.state.variables[fake.state.groups["gitops-poc"]["id"]]


def test_report_url_is_set_once_gitops_config_has_a_pages_site(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(generated_root)
    code, _out, err = run(capsys, "gitlab", "bootstrap", "--root", root)
    assert code == 0, err
    assert "note: REPORT_URL is not set: gitops-config has no GitLab Pages site yet" in err
    assert "REPORT_URL" not in group_variables(gitlab_env)
    assert run(capsys, "gitlab", "check", "--root", root)[0] == 0  # nothing to compare with yet

    gitlab_env.publish_pages("gitops-poc/gitops-config", PAGES)  # its default branch's `pages` job ran
    code, out, _err = run(capsys, "gitlab", "bootstrap", "--root", root, "--dry-run", "-o", "json")
    assert code == 0
    planned = json.loads(out)["steps"]
    assert planned == [
        {
            "kind": "variable",
            "action": "create",
            "target": "REPORT_URL",
            "detail": f"'{PAGES}', masked=false, protected=false",
        }
    ]
    assert "REPORT_URL" not in group_variables(gitlab_env)  # the dry run wrote nothing
    code, _out, err = run(capsys, "gitlab", "bootstrap", "--root", root)
    assert code == 0, err
    report_url = group_variables(gitlab_env)["REPORT_URL"]
    assert (report_url["value"], report_url["masked"], report_url["protected"]) == (PAGES, False, False)
    assert "REPORT_URL is not set" not in err
    writes = len(gitlab_env.writes())
    code, _out, err = run(capsys, "gitlab", "bootstrap", "--root", root)
    assert code == 0 and "GitLab matches the plan: nothing to change" in err
    assert len(gitlab_env.writes()) == writes
    assert run(capsys, "gitlab", "check", "--root", root)[0] == 0

    del group_variables(gitlab_env)["REPORT_URL"]
    code, out, _err = run(capsys, "gitlab", "check", "--root", root, "-o", "json")
    assert code == 1
    assert json.loads(out)["differences"] == [{"target": "REPORT_URL", "problem": "variable is missing"}]


def test_publish_reads_no_project_settings(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pages settings and job-token scopes need the Maintainer role: publish, which may run with less on
    existing projects, asks for neither."""
    root = str(generated_root)
    assert run(capsys, "gitlab", "bootstrap", "--root", root)[0] == 0
    gitlab_env.requests.clear()
    code, _out, err = run(capsys, "publish", "--root", root, "--remote-base", gitlab_env.url)
    assert code == 0, err
    assert gitlab_env.requests  # it did talk to GitLab
    assert not any(r.path.endswith(("/pages", "/job_token_scope")) for r in gitlab_env.requests)
