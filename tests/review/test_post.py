"""Posting the note: one note per merge request, created once then updated in place, through python-gitlab
against the GitLab-like HTTP stand-in (429 and 5xx retried); a failed post never changes the verdict."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.review.markdown import MARKER
from gitops_poc.review.post import Target, post
from tests.conftest import REAL_SYSTEMS
from tests.gitlab.fake_gitlab import FakeGitLab, fake_gitlab
from tests.review.conftest import PlatformRepo

TOKEN = "glpat-PLANTED-review-token-4321"
NOTES = r"/projects/\d+/merge_requests/7/notes"


@pytest.fixture
def gitlab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    with fake_gitlab(TOKEN, tmp_path / "gitlab-repos") as fake:
        fake.add_group("gitops-poc")
        project = fake.add_project("gitops-poc", "gitops-config")
        monkeypatch.setenv("CI_SERVER_URL", fake.url)
        monkeypatch.setenv("CI_PROJECT_ID", str(project["id"]))
        monkeypatch.setenv("CI_MERGE_REQUEST_IID", "7")
        monkeypatch.setenv("GITOPS_REVIEW_TOKEN", TOKEN)
        yield fake


def notes(fake: FakeGitLab) -> list[str]:
    return [n["body"] for bodies in fake.state.notes.values() for n in bodies]


def target(fake: FakeGitLab) -> Target:
    return Target(fake.url, os.environ["CI_PROJECT_ID"], 7)


def test_created_once_then_updated_in_place(gitlab: FakeGitLab) -> None:
    gitlab.state.notes[(int(os.environ["CI_PROJECT_ID"]), 7)] = [
        {"id": 1, "body": "LGTM", "author": {"username": "someone"}}
    ]
    assert post(f"first\n{MARKER}\n", target(gitlab), os.environ) == "created"
    assert post(f"second\n{MARKER}\n", target(gitlab), os.environ) == "updated"
    assert post(f"second\n{MARKER}\n", target(gitlab), os.environ) == "unchanged"
    assert notes(gitlab) == ["LGTM", f"second\n{MARKER}\n"]
    puts = [r for r in gitlab.writes() if r.method == "PUT"]
    assert len(puts) == 1 and puts[0].path.endswith(
        "/notes/" + str(gitlab.state.notes[next(iter(gitlab.state.notes))][1]["id"])
    )


def test_429_and_5xx_are_retried(gitlab: FakeGitLab) -> None:
    gitlab.fail("GET", NOTES, 429, **{"Retry-After": "0"})
    gitlab.fail("POST", NOTES, 502)
    gitlab.fail("POST", NOTES, 503)
    assert post(f"note\n{MARKER}\n", target(gitlab), os.environ) == "created"
    assert notes(gitlab) == [f"note\n{MARKER}\n"]
    statuses = [r.status for r in gitlab.requests if r.path.endswith("/notes")]
    assert statuses == [429, 200, 502, 503, 201]


def test_the_review_posts_its_note_and_a_failed_post_keeps_the_verdict(
    platform_repo: Callable[..., PlatformRepo], gitlab: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = platform_repo(SERVICES="web-http")
    args = ["review", "-C", str(repo.root), "--base", "HEAD", "--post"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "Review note created on the merge request" in err
    assert notes(gitlab) == [out]
    repo.edit("services/web-http/.cicd/prod.yaml", "memory: 256Mi", "memory: 512Mi")
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "Review note updated" in err and notes(gitlab) == [out]

    gitlab.fail("GET", NOTES, 500, times=50)
    assert main(args) == 0  # the review's verdict, not the post's
    _, err = capsys.readouterr()
    assert "warning: the review note was not posted: GitLab answered 500" in err
    assert TOKEN not in err

    os.environ.pop("GITOPS_REVIEW_TOKEN")
    assert main(args) == 0
    assert "GITOPS_REVIEW_TOKEN is not set" in capsys.readouterr().err


def test_post_outside_a_merge_request_pipeline_is_bad_input(
    platform_repo: Callable[..., PlatformRepo],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = platform_repo(SERVICES="web-http")
    monkeypatch.delenv("CI_MERGE_REQUEST_IID", raising=False)
    assert main(["review", "-C", str(repo.root), "--base", "HEAD", "--post"]) == 2
    assert "CI_MERGE_REQUEST_IID" in capsys.readouterr().err


@pytest.mark.skipif(
    "GITLAB_URL" not in REAL_SYSTEMS or "GITOPS_REVIEW_E2E_MR" not in os.environ,
    reason="end-to-end: needs a real GitLab (GITLAB_URL, GITLAB_TOKEN) and GITOPS_REVIEW_E2E_MR=project!iid; "
    "no GitLab runs on this machine",
)
def test_end_to_end_against_a_real_gitlab() -> None:
    project, _, iid = os.environ["GITOPS_REVIEW_E2E_MR"].partition("!")
    where = Target(REAL_SYSTEMS["GITLAB_URL"], project, int(iid))
    environ = {"GITOPS_REVIEW_TOKEN": REAL_SYSTEMS["GITLAB_TOKEN"]}
    first = post(f"e2e first\n{MARKER}\n", where, environ)
    assert first in ("created", "updated")
    assert post(f"e2e second\n{MARKER}\n", where, environ) == "updated"
