"""`rollout template` with merge requests, against the GitLab-like HTTP server of the tests (REST API and
git over smart HTTP through the real `git http-backend`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_poc.cli import main
from tests.gitlab.conftest import API_TOKEN
from tests.gitlab.fake_gitlab import FakeGitLab, fake_gitlab
from tests.rollout.conftest import GROUP, SERVICES, Fleet, git, make_fleet

BRANCH = "gitops-poc/template-rollout"


@pytest.fixture
def gitlab_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    with fake_gitlab(API_TOKEN, tmp_path / "gitlab-repos") as fake:
        monkeypatch.setenv("GITLAB_TOKEN", API_TOKEN)
        monkeypatch.setenv("GITLAB_URL", fake.url)  # the token's GitLab: the only origin it is sent to
        yield fake


@pytest.fixture
def gitlab_fleet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], git_identity: None, gitlab_env: FakeGitLab
) -> Fleet:
    fleet = make_fleet(tmp_path, capsys, remote_base=gitlab_env.url)
    fleet.remotes = gitlab_env.git_root
    return fleet


def rollout(
    fleet: Fleet, fake: FakeGitLab, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, dict[str, object]], str]:
    code = main(
        ["rollout", "template", "--root", str(fleet.root), "--remote-base", fake.url, "-o", "json", *args]
    )
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    return code, {entry["service"]: entry for entry in data["repositories"]}, captured.err


def first_proposal(fleet: Fleet, fake: FakeGitLab, capsys: pytest.CaptureFixture[str]) -> None:
    """The template changes a line; the first rollout proposes it everywhere."""
    fleet.change_template(".cicd/default.yaml", "LOG_LEVEL: info", "LOG_LEVEL: warn")
    assert rollout(fleet, fake, capsys)[0] == 0


def merge_requests(fake: FakeGitLab, service: str) -> list[dict[str, object]]:
    project = fake.state.projects[f"{GROUP}/{service}"]
    return fake.state.merge_requests.get(int(project["id"]), [])


def test_one_merge_request_per_repository_and_a_second_run_opens_nothing_new(
    gitlab_fleet: Fleet, gitlab_env: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet, fake = gitlab_fleet, gitlab_env
    fleet.team_edit("orders", ".cicd/default.yaml", "LOG_LEVEL: info", "LOG_LEVEL: debug")
    mains = {service: fleet.head(service) for service in SERVICES}
    fleet.change_template(".cicd/default.yaml", "LOG_LEVEL: info", "LOG_LEVEL: warn")

    code, results, _ = rollout(fleet, fake, capsys)

    assert code == 1  # orders conflicts
    assert results["orders"]["outcome"] == "conflict" and merge_requests(fake, "orders") == []
    assert BRANCH not in git(f"--git-dir={fleet.bare('orders')}", "branch", "--list", BRANCH)
    for service in ("billing", "shipping"):
        assert results[service]["outcome"] == "proposed"
        assert results[service]["merge_request"] == "created"
        (mr,) = merge_requests(fake, service)
        assert mr["source_branch"] == BRANCH and mr["target_branch"] == "main" and mr["state"] == "opened"
        assert ".cicd/default.yaml" in str(mr["description"])
        assert results[service]["detail"] == mr["web_url"]
        assert "LOG_LEVEL: warn" in fleet.show(service, ".cicd/default.yaml", BRANCH)
        assert git(f"--git-dir={fleet.bare(service)}", "rev-parse", f"{BRANCH}^") == mains[service]
    assert {service: fleet.head(service) for service in SERVICES} == mains  # main only through the MR

    branches = {s: fleet.head(s, BRANCH) for s in ("billing", "shipping")}
    writes = len(fake.writes())
    code, results, _ = rollout(fleet, fake, capsys)
    assert results["billing"]["outcome"] == "unchanged" and results["shipping"]["outcome"] == "unchanged"
    assert {s: fleet.head(s, BRANCH) for s in ("billing", "shipping")} == branches  # nothing pushed
    assert len(fake.writes()) == writes  # no merge request created or edited
    assert all(len(merge_requests(fake, s)) == 1 for s in ("billing", "shipping"))


def test_a_later_template_change_updates_the_open_merge_request(
    gitlab_fleet: Fleet, gitlab_env: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet, fake = gitlab_fleet, gitlab_env
    first_proposal(fleet, fake, capsys)
    first = fleet.head("billing", BRANCH)
    fleet.change_template("README.md", None, "\n## Support\n\nAsk in #platform.\n")
    code, results, _ = rollout(fleet, fake, capsys)
    assert code == 0
    assert results["billing"]["outcome"] == "proposed" and results["billing"]["merge_request"] == "updated"
    (mr,) = merge_requests(fake, "billing")
    assert mr["iid"] == 1 and "README.md" in str(mr["description"])
    assert fleet.head("billing", BRANCH) != first  # our branch replaced (with a lease), main untouched
    assert "## Support" in fleet.show("billing", "README.md", BRANCH)
    assert "LOG_LEVEL: warn" in fleet.show("billing", ".cicd/default.yaml", BRANCH)


def test_a_branch_someone_else_committed_on_is_left_alone(
    gitlab_fleet: Fleet, gitlab_env: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet, fake = gitlab_fleet, gitlab_env
    first_proposal(fleet, fake, capsys)
    # A reviewer adds a commit of their own to our branch; then the template changes again.
    bare = fleet.bare("billing")
    theirs = git(
        f"--git-dir={bare}",
        "commit-tree",
        "-p",
        fleet.head("billing", BRANCH),
        "-m",
        "reviewer fix",
        f"{BRANCH}^{{tree}}",
    )
    git(f"--git-dir={bare}", "update-ref", f"refs/heads/{BRANCH}", theirs)
    fleet.change_template("README.md", None, "\nmore\n")
    code, results, _ = rollout(fleet, fake, capsys)
    assert code == 1
    assert results["billing"]["outcome"] == "branch-taken"
    assert fleet.head("billing", BRANCH) == theirs
    assert results["shipping"]["outcome"] == "proposed"


def test_gitlab_failing_mid_rollout_stops_keeps_what_was_done_and_a_rerun_resumes(
    gitlab_fleet: Fleet, gitlab_env: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet, fake = gitlab_fleet, gitlab_env
    fleet.change_template(".cicd/default.yaml", "LOG_LEVEL: info", "LOG_LEVEL: warn")
    fake.fail("POST", rf"/projects/{GROUP}%2Forders/merge_requests", 503, times=1)

    code, results, err = rollout(fleet, fake, capsys)

    assert code == 2
    assert [line for line in err.splitlines() if line.startswith("error:")], err
    assert "run the same command again to resume" in err
    # The others ran at the same time (workers): done, and reported.
    assert "orders" not in results and results["billing"]["outcome"] == "proposed"
    assert len(merge_requests(fake, "billing")) == 1 and merge_requests(fake, "orders") == []
    pushed = fleet.head("orders", BRANCH)  # the branch went up before GitLab refused the merge request

    code, results, _ = rollout(fleet, fake, capsys)

    assert code == 0
    assert results["billing"]["outcome"] == "unchanged"
    assert results["orders"]["outcome"] == "proposed" and results["orders"]["merge_request"] == "created"
    assert fleet.head("orders", BRANCH) == pushed  # the same proposal, not pushed again
    assert results["shipping"]["outcome"] in ("proposed", "unchanged")
    assert all(len(merge_requests(fake, s)) == 1 for s in SERVICES)


def test_gitlab_timing_out_stops_the_rollout(
    gitlab_fleet: Fleet,
    gitlab_env: FakeGitLab,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fleet, fake = gitlab_fleet, gitlab_env
    fleet.change_template(".cicd/default.yaml", "LOG_LEVEL: info", "LOG_LEVEL: warn")
    import time

    from gitops_poc.gitlab import client

    monkeypatch.setattr(client, "TIMEOUT", 0.5)
    for _attempt in range(client.MAX_RETRIES + 2):  # python-gitlab retries a timed-out request
        fake.before("GET", rf"/projects/{GROUP}%2Fshipping/merge_requests", lambda _req: time.sleep(1.5))
    code, results, err = rollout(fleet, fake, capsys)
    assert code == 2
    assert "in time" in err
    assert "shipping" not in results and merge_requests(fake, "shipping") == []
    # (The fake answers one request at a time: the others may time out behind it, so only shipping counts.)


def test_the_token_is_never_in_argv_or_output(
    gitlab_fleet: Fleet, gitlab_env: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops_poc import proc

    fleet, fake = gitlab_fleet, gitlab_env
    fleet.change_template(".cicd/default.yaml", "LOG_LEVEL: info", "LOG_LEVEL: warn")
    token = os.environ["GITLAB_TOKEN"]
    with proc.recording() as argvs:
        code = main(["rollout", "template", "--root", str(fleet.root), "--remote-base", fake.url])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert argvs and not any(token in word for argv in argvs for word in argv)
    assert token not in captured.out + captured.err


def test_a_merge_request_the_team_closed_is_not_reopened_until_the_template_changes_again(
    gitlab_fleet: Fleet, gitlab_env: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet, fake = gitlab_fleet, gitlab_env
    first_proposal(fleet, fake, capsys)
    (mr,) = merge_requests(fake, "billing")
    mr["state"] = "closed"  # the team said no
    code, results, _ = rollout(fleet, fake, capsys)
    assert code == 0
    assert results["billing"]["outcome"] == "declined" and results["billing"]["detail"] == mr["web_url"]
    assert len(merge_requests(fake, "billing")) == 1  # not reopened, no second one
    fleet.change_template("README.md", None, "\n## Support\n")
    code, results, _ = rollout(fleet, fake, capsys)
    assert results["billing"]["outcome"] == "proposed" and results["billing"]["merge_request"] == "created"
    assert [m["state"] for m in merge_requests(fake, "billing")] == ["closed", "opened"]
