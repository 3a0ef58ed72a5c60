"""`gitlab bootstrap` / `gitlab check` through python-gitlab, at the HTTP level, against a local server that
answers like GitLab's REST API (pagination, 401/404/409/400, 429 and 5xx retries)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from urllib.parse import unquote

import pytest

from gitops_poc.cli import main
from tests.gitlab.conftest import API_TOKEN, PUSH_TOKEN
from tests.gitlab.fake_gitlab import FakeGitLab, Request

SERVICES = ("api-gateway", "auth-adapter", "web-grpc", "web-http", "health-demo")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_bootstrap_creates_everything_then_a_rerun_changes_nothing(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))
    assert code == 0, err
    state = gitlab_env.state
    assert set(state.groups) == {"gitops-poc"}
    assert set(state.projects) == {f"gitops-poc/{p}" for p in ("gitops-config", *SERVICES)}
    assert all(p["visibility"] == "private" for p in state.projects.values())
    creates = [r for r in gitlab_env.requests if r.method == "POST" and r.path == "/projects"]
    assert all(
        r.body["initialize_with_readme"] is False and r.body["default_branch"] == "main" for r in creates
    )
    for project in state.projects.values():
        rule = state.protected[(project["id"], "main")]
        assert rule["push_access_levels"][0]["access_level"] == 40 and rule["allow_force_push"] is False
    variables = state.variables[state.groups["gitops-poc"]["id"]]
    push = variables["CI_PUSH_TOKEN"]
    assert (push["value"], push["masked"], push["protected"]) == (PUSH_TOKEN, True, True)
    assert variables["GITOPS_MODE"]["value"] == "pull" and variables["GITOPS_MODE"]["protected"] is False
    assert variables["CI_TOOL_IMAGE"]["value"] == "registry.gitlab.com/gitops-poc/gitops-poc:0.1.0"
    (deploy,) = state.deploy_tokens[state.groups["gitops-poc"]["id"]]
    assert deploy["scopes"] == ["read_registry"]
    config_project = state.projects["gitops-poc/gitops-config"]
    (agent,) = state.agents[config_project["id"]]
    (agent_token,) = state.agent_tokens[agent["id"]]
    assert agent["name"] == "minikube-agent"

    env = generated_root / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    text = env.read_text()
    assert f'GITLAB_DEPLOY_TOKEN="{deploy["token"]}"' in text
    assert f'GITLAB_DEPLOY_TOKEN_USER="{deploy["username"]}"' in text
    assert f'GITLAB_AGENT_TOKEN="{agent_token["token"]}"' in text
    assert "GITLAB_DEPLOY_TOKEN, GITLAB_AGENT_TOKEN" in err.replace("GITLAB_DEPLOY_TOKEN_USER, ", "")

    writes = len(gitlab_env.writes())
    code, out, err = run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))
    assert code == 0 and "GitLab matches the plan: nothing to change" in err
    assert len(gitlab_env.writes()) == writes  # not one write on the re-run
    assert run(capsys, "gitlab", "check", "--root", str(generated_root))[0] == 0


def test_an_existing_token_env_file_keeps_its_lines(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (generated_root / ".env").write_text("# ours\nSERVICES=billing\n")
    assert run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))[0] == 0
    assert (
        (generated_root / ".env")
        .read_text()
        .startswith("# ours\nSERVICES=billing\nGITLAB_DEPLOY_TOKEN_USER=")
    )
    assert "gitops-poc/billing" in gitlab_env.state.projects


def test_lists_follow_every_page(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    group = gitlab_env.add_group("gitops-poc")
    for i in range(7):  # the server pages by 2: the platform's variables are on page 4 and 5
        gitlab_env.state.variables[group["id"]][f"OTHER_{i}"] = {
            "key": f"OTHER_{i}",
            "value": "x",
            "masked": False,
            "protected": False,
        }
    assert run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))[0] == 0
    pages = [
        r.query.get("page")
        for r in gitlab_env.requests
        if r.path.endswith("/variables") and r.method == "GET"
    ]
    assert pages == [None, "2", "3", "4"]  # 7 variables, 2 a page
    assert run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))[2].endswith(
        "nothing to change\n"
    )


def test_missing_is_404_and_a_race_is_read_as_done(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Another bootstrap protects a branch between our read and our write: GitLab answers 409.
    def someone_protects(req: Request) -> None:
        project = gitlab_env._project(unquote(req.path.split("/")[2]))
        assert project is not None
        gitlab_env.state.protected[(project["id"], "main")] = {
            "name": "main",
            "allow_force_push": False,
            "push_access_levels": [{"access_level": 40}],
            "merge_access_levels": [{"access_level": 40}],
        }

    gitlab_env.before("POST", r"/projects/[^/]+/protected_branches", someone_protects)
    assert run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))[0] == 0
    assert any(r.status == 409 for r in gitlab_env.requests)
    group_reads = [r for r in gitlab_env.requests if r.path == "/groups/gitops-poc" and r.method == "GET"]
    assert group_reads[0].status == 404  # read as "missing", then created
    assert run(capsys, "gitlab", "check", "--root", str(generated_root))[0] == 0


def test_rate_limits_and_server_errors_are_retried(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gitlab_env.fail("GET", r"/user", 429, times=2, **{"Retry-After": "0"})
    gitlab_env.fail("POST", r"/projects", 502, times=1)
    gitlab_env.fail("GET", r"/groups/gitops-poc/variables", 503, times=2)
    assert run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))[0] == 0
    statuses = [(r.method, r.path, r.status) for r in gitlab_env.requests]
    assert statuses[:3] == [("GET", "/user", 429), ("GET", "/user", 429), ("GET", "/user", 200)]
    assert ("POST", "/projects", 502) in statuses
    assert len(gitlab_env.state.projects) == 6  # the retried create made one project, not two
    assert run(capsys, "gitlab", "check", "--root", str(generated_root))[0] == 0


def test_a_token_create_is_not_retried_on_5xx(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gitlab_env.fail("POST", r"/groups/\d+/deploy_tokens", 500, times=1)
    code, _out, err = run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))
    assert code == 2  # GitLab failing is the tool failing (docs/exit-codes.md), not a finding
    assert "GitLab answered 500 to create deploy token gitops-poc-registry" in err
    posts = [r for r in gitlab_env.requests if r.method == "POST" and r.path.endswith("/deploy_tokens")]
    assert len(posts) == 1


def test_a_bad_token_is_exit_2_and_not_shown(
    gitlab_env: FakeGitLab,
    generated_root: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-WRONG-planted-999")
    code, out, err = run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))
    assert code == 2 and "GitLab refused the token (401)" in err
    assert "glpat-WRONG-planted-999" not in out + err


def test_no_token_is_a_clear_error_but_dry_run_plans(
    generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, "gitlab", "check", "--root", str(generated_root))
    assert code == 2 and "set GITLAB_TOKEN" in err
    code, out, err = run(
        capsys, "gitlab", "bootstrap", "--root", str(generated_root), "--dry-run", "-o", "json"
    )
    assert code == 0
    plan = json.loads(out)
    assert plan["read_from_gitlab"] is False and len(plan["steps"]) == 24 and plan["applied"] == 0


def test_dry_run_reads_but_writes_nothing(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gitlab_env.add_group("gitops-poc")
    gitlab_env.add_project("gitops-poc", "gitops-config", visibility="public")
    code, out, err = run(capsys, "gitlab", "bootstrap", "--root", str(generated_root), "--dry-run")
    assert code == 0 and gitlab_env.writes() == []
    assert "update visibility gitops-poc/gitops-config (public -> private)" in out
    assert "create group gitops-poc" not in out
    assert not (generated_root / ".env").exists()


def test_check_reports_drift_with_exit_1(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))[0] == 0
    group_id = gitlab_env.state.groups["gitops-poc"]["id"]
    gitlab_env.state.variables[group_id]["CI_PUSH_TOKEN"]["protected"] = False
    del gitlab_env.state.variables[group_id]["GITOPS_MODE"]
    gitlab_env.state.projects["gitops-poc/web-http"]["visibility"] = "public"
    code, out, err = run(capsys, "gitlab", "check", "--root", str(generated_root), "-o", "json")
    assert code == 1 and "differs from the plan in 3 place(s)" in err
    assert {(d["target"], d["problem"]) for d in json.loads(out)["differences"]} == {
        ("CI_PUSH_TOKEN", "variable is not protected"),
        ("GITOPS_MODE", "variable is missing"),
        ("gitops-poc/web-http", "visibility is public, the plan says private"),
    }
    assert run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))[0] == 0
    assert run(capsys, "gitlab", "check", "--root", str(generated_root))[0] == 0
    assert gitlab_env.state.variables[group_id]["CI_PUSH_TOKEN"]["value"] == PUSH_TOKEN


def test_subgroups_are_created_parent_first(
    gitlab_env: FakeGitLab,
    generated_root: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITLAB_GROUP", "acme/platform")
    gitlab_env.add_group("acme")
    assert run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))[0] == 0
    child = gitlab_env.state.groups["acme/platform"]
    assert child["parent_id"] == gitlab_env.state.groups["acme"]["id"]
    assert "acme/platform/gitops-config" in gitlab_env.state.projects
    assert API_TOKEN not in json.dumps([r.body for r in gitlab_env.requests])


def test_two_clusters_get_an_agent_each_and_each_token_goes_to_its_own_key(
    gitlab_env: FakeGitLab,
    generated_root: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=prod-eu")
    code, _out, err = run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))
    assert code == 0, err
    state = gitlab_env.state
    agents = state.agents[state.projects["gitops-poc/gitops-config"]["id"]]
    assert [a["name"] for a in agents] == ["minikube-agent", "prod-eu"]
    issued = {a["name"]: state.agent_tokens[a["id"]] for a in agents}
    assert [t["name"] for t in issued["prod-eu"]] == ["prod-eu-token"]
    text = (generated_root / ".env").read_text()
    assert f'GITLAB_AGENT_TOKEN="{issued["minikube-agent"][0]["token"]}"' in text
    assert f'GITLAB_AGENT_TOKEN_PROD_EU="{issued["prod-eu"][0]["token"]}"' in text
    assert "GITLAB_AGENT_TOKEN_PROD_EU" in err and issued["prod-eu"][0]["token"] not in err
    # The file loads: the new key is the prod-eu agent's token, which `setup push` reads from there.
    from gitops_poc.config import load_config

    config = load_config(generated_root / ".env", {"ENVIRONMENT_CLUSTERS": "prod=prod-eu"})
    assert config.agent_token("prod-eu") == issued["prod-eu"][0]["token"]
    writes = len(gitlab_env.writes())
    code, _out, err = run(capsys, "gitlab", "bootstrap", "--root", str(generated_root))
    assert code == 0 and "nothing to change" in err and len(gitlab_env.writes()) == writes
    assert run(capsys, "gitlab", "check", "--root", str(generated_root))[0] == 0
    # An agent deleted in GitLab is reported by check.
    agents.remove(agents[1])
    code, out, _err = run(capsys, "gitlab", "check", "--root", str(generated_root))
    assert code == 1 and "gitops-poc/gitops-config:prod-eu: agent is not registered" in out
