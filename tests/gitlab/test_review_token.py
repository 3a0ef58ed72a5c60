"""`gitlab bootstrap` sets up the review token: a group access token (api, Reporter, expiring) whose value
goes straight into the masked, hidden, unprotected group variable GITOPS_REVIEW_TOKEN; rotated near expiry
or when the variable is lost; reported by `gitlab check`. Against the GitLab-like HTTP server, which accepts
the tokens it issued, so the stored value is shown to post a review note and a rotated one to stop working."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.errors import GitopsError
from gitops_poc.review.markdown import MARKER
from gitops_poc.review.post import Target, post
from tests.gitlab.fake_gitlab import FakeGitLab

NAME = "gitops-poc-review"
KEY = "GITOPS_REVIEW_TOKEN"
MISSING = "group access token is missing (none active: revoked or expired)"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def today() -> date:
    return datetime.now(UTC).date()


def group_id(fake: FakeGitLab) -> int:
    return int(fake.state.groups["gitops-poc"]["id"])


def review_tokens(fake: FakeGitLab) -> list[dict[str, object]]:
    return [t for t in fake.state.access_tokens[group_id(fake)] if t["name"] == NAME]


def active(fake: FakeGitLab) -> dict[str, object]:
    (token,) = [t for t in review_tokens(fake) if t["active"]]
    return token


def variable(fake: FakeGitLab) -> dict[str, object]:
    return fake.state.variables[group_id(fake)][KEY]


def bootstrap(capsys: pytest.CaptureFixture[str], root: Path, *more: str) -> tuple[int, str, str]:
    return run(capsys, "gitlab", "bootstrap", "--root", str(root), *more)


def check(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, list[tuple[str, str]]]:
    code, out, _err = run(capsys, "gitlab", "check", "--root", str(root), "-o", "json")
    return code, [(d["target"], d["problem"]) for d in json.loads(out)["differences"]]


def posts_with(fake: FakeGitLab, token: str) -> str:
    """`review --post`'s own code with `token` as GITOPS_REVIEW_TOKEN, on a merge request of gitops-config."""
    project = fake.state.projects["gitops-poc/gitops-config"]["id"]
    return post(f"review\n{MARKER}\n", Target(fake.url, str(project), 3), {KEY: token})


def test_bootstrap_issues_the_review_token_into_a_masked_hidden_unprotected_variable(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = bootstrap(capsys, generated_root)
    assert code == 0, err
    token = active(gitlab_env)
    assert token["scopes"] == ["api"] and token["access_level"] == 20
    assert token["expires_at"] == (today() + timedelta(days=180)).isoformat()
    var = variable(gitlab_env)
    assert var["value"] == token["token"]
    assert (var["masked"], var["hidden"], var["protected"]) == (True, True, False)
    assert f"create group access token {NAME} (api, Reporter, expires " in err
    assert "value to GITOPS_REVIEW_TOKEN: masked, hidden, not protected" in err
    # The value went to GitLab's variable only: not to the screen, not to the credentials file.
    assert str(token["token"]) not in out + err
    assert str(token["token"]) not in (generated_root / ".env").read_text()
    assert KEY not in (generated_root / ".env").read_text()
    # What the merge-request pipeline gets in GITOPS_REVIEW_TOKEN posts the note.
    assert posts_with(gitlab_env, str(var["value"])) == "created"

    # The re-run reads the variable back without its value (hidden) and leaves it: no write at all.
    writes = len(gitlab_env.writes())
    code, _out, err = bootstrap(capsys, generated_root)
    assert code == 0 and "nothing to change" in err
    assert len(gitlab_env.writes()) == writes
    assert len(review_tokens(gitlab_env)) == 1
    assert check(capsys, generated_root) == (0, [])


def test_dry_run_shows_the_review_token_steps_and_writes_nothing(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gitlab_env.add_group("gitops-poc")
    code, out, _err = bootstrap(capsys, generated_root, "--dry-run", "-o", "json")
    assert code == 0 and gitlab_env.writes() == []
    steps = [s for s in json.loads(out)["steps"] if s["kind"] == "group access token"]
    expires = (today() + timedelta(days=180)).isoformat()
    assert steps == [
        {
            "kind": "group access token",
            "action": "create",
            "target": NAME,
            "detail": f"api, Reporter, expires {expires}; value to GITOPS_REVIEW_TOKEN: masked, hidden, "
            "not protected",
        }
    ]


def test_a_token_near_expiry_is_reported_then_rotated_and_the_old_value_stops_working(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bootstrap(capsys, generated_root)[0] == 0
    old = active(gitlab_env)
    soon = today() + timedelta(days=29)
    old["expires_at"] = soon.isoformat()
    assert check(capsys, generated_root) == (
        1,
        [
            (
                NAME,
                f"group access token expires on {soon} (in 29 days): `gitlab bootstrap` rotates it",
            )
        ],
    )
    code, out, err = bootstrap(capsys, generated_root, "--dry-run")
    assert code == 0 and f"rotate group access token {NAME}#{old['id']} (expires {soon}, in 29 days;" in out
    code, _out, err = bootstrap(capsys, generated_root)
    assert code == 0, err
    new = active(gitlab_env)
    assert new["id"] != old["id"] and old["revoked"] is True
    assert new["expires_at"] == (today() + timedelta(days=180)).isoformat()
    assert variable(gitlab_env)["value"] == new["token"] != old["token"]
    assert str(new["token"]) not in err
    with pytest.raises(GitopsError, match="refused the token"):
        posts_with(gitlab_env, str(old["token"]))
    assert posts_with(gitlab_env, str(new["token"])) == "created"
    assert check(capsys, generated_root) == (0, [])


def test_thirty_days_left_is_not_yet_rotated(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bootstrap(capsys, generated_root)[0] == 0
    active(gitlab_env)["expires_at"] = (today() + timedelta(days=30)).isoformat()
    assert "nothing to change" in bootstrap(capsys, generated_root)[2]
    assert check(capsys, generated_root) == (0, [])


def test_an_expired_or_revoked_token_is_replaced_by_a_new_one(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bootstrap(capsys, generated_root)[0] == 0
    old = active(gitlab_env)
    old.update(active=False)  # GitLab lists an expired token as inactive
    code, problems = check(capsys, generated_root)
    assert code == 1 and problems == [
        (NAME, "group access token is missing (none active: revoked or expired)")
    ]
    assert bootstrap(capsys, generated_root)[0] == 0
    new = active(gitlab_env)
    assert new["id"] != old["id"] and variable(gitlab_env)["value"] == new["token"]
    updates = [r for r in gitlab_env.writes() if r.method == "PUT" and r.path.endswith(f"/variables/{KEY}")]
    assert len(updates) == 1 and updates[0].body["value"] == new["token"]
    assert check(capsys, generated_root) == (0, [])


def test_a_lost_variable_gets_a_rotated_value(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitLab shows a token's value once: with the variable gone, rotating is the only way to a value."""
    assert bootstrap(capsys, generated_root)[0] == 0
    old = active(gitlab_env)
    del gitlab_env.state.variables[group_id(gitlab_env)][KEY]
    assert check(capsys, generated_root) == (1, [(KEY, "variable is missing")])
    code, out, _err = bootstrap(capsys, generated_root, "--dry-run")
    assert f"rotate group access token {NAME}#{old['id']} (GITOPS_REVIEW_TOKEN is missing;" in out
    assert bootstrap(capsys, generated_root)[0] == 0
    new = active(gitlab_env)
    assert new["id"] != old["id"] and variable(gitlab_env)["value"] == new["token"]
    assert variable(gitlab_env)["hidden"] is True
    assert check(capsys, generated_root) == (0, [])


def test_a_protected_variable_is_reported_and_unprotected_without_a_new_token(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bootstrap(capsys, generated_root)[0] == 0
    token = active(gitlab_env)
    variable(gitlab_env)["protected"] = True
    assert check(capsys, generated_root) == (
        1,
        [(KEY, "variable is protected: merge-request pipelines of feature branches do not see it")],
    )
    assert bootstrap(capsys, generated_root)[0] == 0
    (put,) = [r for r in gitlab_env.writes() if r.method == "PUT" and r.path.endswith(f"/variables/{KEY}")]
    assert "value" not in put.body and put.body["protected"] is False
    assert active(gitlab_env)["id"] == token["id"] and variable(gitlab_env)["value"] == token["token"]
    assert check(capsys, generated_root) == (0, [])


def test_a_token_of_that_name_with_another_role_is_replaced_and_revoked(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    group = gitlab_env.add_group("gitops-poc")
    tokens = gitlab_env.state.access_tokens[group["id"]]
    wrong = gitlab_env._issue(tokens, NAME, scopes=["api"], access_level=30, expires_at="2099-01-01")
    assert bootstrap(capsys, generated_root)[0] == 0
    gitlab_env._issue(tokens, NAME, scopes=["api", "write_repository"], access_level=20, expires_at=None)
    code, problems = check(capsys, generated_root)
    assert code == 1 and problems == [
        (NAME, "group access token has api, write_repository, Reporter; the plan says api, Reporter")
    ]
    assert wrong["revoked"] is True
    assert bootstrap(capsys, generated_root)[0] == 0
    assert [t["access_level"] for t in review_tokens(gitlab_env) if t["active"]] == [20]
    assert check(capsys, generated_root) == (0, [])


def test_without_the_owner_role_the_create_is_exit_2_with_the_reason(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gitlab_env.fail("POST", r"/groups/\d+/access_tokens", 403)
    code, _out, err = bootstrap(capsys, generated_root)
    assert code == 2
    assert f"GitLab answered 403 to create group access token {NAME}" in err
    assert "need the Owner role of the group" in err


def test_issuing_a_token_is_not_retried_on_5xx(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 5xx may come after GitLab issued the token: a retry would issue a second one."""
    gitlab_env.fail("POST", r"/groups/\d+/access_tokens", 502)
    code, _out, err = bootstrap(capsys, generated_root)
    assert code == 2 and f"GitLab answered 502 to create group access token {NAME}" in err
    posts = [r for r in gitlab_env.requests if r.method == "POST" and r.path.endswith("/access_tokens")]
    assert len(posts) == 1
    assert bootstrap(capsys, generated_root)[0] == 0  # the re-run finishes the job
    assert check(capsys, generated_root) == (0, [])


def test_publish_creates_projects_without_the_owner_role(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only bootstrap and check look at group access tokens (GitLab lists them to owners only)."""
    gitlab_env.fail("GET", r"/groups/[^/]+/access_tokens", 403, times=100)
    code, _out, err = run(capsys, "publish", "--root", str(generated_root), "--remote-base", gitlab_env.url)
    assert code == 0, err
    assert "gitops-poc/gitops-config" in gitlab_env.state.projects
    assert not any(r.path.endswith("/access_tokens") for r in gitlab_env.requests)
    code, _out, err = bootstrap(capsys, generated_root)
    assert code == 2 and "403" in err
