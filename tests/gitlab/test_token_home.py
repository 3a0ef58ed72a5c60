"""A GitLab token goes only to the origin it was given for: GitLab's address (GITLAB_URL, else in GitLab CI
CI_SERVER_URL, else https://GITLAB_HOST). Real git over HTTP and python-gitlab against two GitLab-like
servers on loopback that accept the same token: the tool's GitLab, and a second one on another host or port
that records every credential git or the API sends it. Were the token sent there, the second one would take
it (and the command would succeed): these tests fail on any leak."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gitops_poc.cli import main
from gitops_poc.errors import UsageError
from gitops_poc.gitauth import askpass_env, bound, for_remote
from gitops_poc.tokenhome import Home, Token, TokenElsewhere, gitlab_home
from gitops_poc.urls import origin
from tests.clirun import Run
from tests.gitlab.conftest import API_TOKEN
from tests.gitlab.fake_gitlab import FakeGitLab, fake_gitlab
from tests.hostile.test_network import redirecting, send, serve

READER = "gitops-poc/gitops-config"
SERVICES = ("api-gateway", "auth-adapter", "web-grpc", "web-http", "health-demo")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    code = main(list(args))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err, ())


@pytest.fixture(params=["another-host", "another-port"])
def elsewhere(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FakeGitLab]:
    """A second GitLab-like server taking the same token, on another host (127.0.0.2) or another port."""
    host = "127.0.0.2" if request.param == "another-host" else "127.0.0.1"
    with fake_gitlab(API_TOKEN, tmp_path / "elsewhere-repos", host=host) as fake:
        fake.add_group("gitops-poc")
        for name in ("gitops-config", *SERVICES):
            fake.add_project("gitops-poc", name)
        yield fake


def nothing_arrived(fake: FakeGitLab) -> None:
    assert fake.git_credentials == [], "git sent a credential to another origin"
    assert [r for r in fake.requests if "private-token" in r.headers or "authorization" in r.headers] == []
    assert API_TOKEN not in repr(fake.requests)


def test_publish_sends_the_token_to_gitlabs_address_only(
    gitlab_env: FakeGitLab,
    elsewhere: FakeGitLab,
    generated_root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = str(generated_root)
    publish = run(capsys, "publish", "--root", root, "--remote-base", elsewhere.url)
    publish.one_error(
        2,
        f"cannot read {elsewhere.url}/gitops-poc/gitops-config.git: the remote asks for credentials: "
        f"GITLAB_TOKEN is only sent to GitLab at {gitlab_env.url} (GITLAB_URL), not to {elsewhere.url}",
        "set GITLAB_URL to it",
    )
    assert f"note: --remote-base {elsewhere.url}: GITLAB_TOKEN is only sent to GitLab at" in publish.err
    nothing_arrived(elsewhere)
    assert elsewhere.requests == []  # no project created there through the API either
    # The same command against GitLab's own address: the token is used, by the API and by git.
    assert run(capsys, "publish", "--root", root, "--remote-base", gitlab_env.url).code == 0
    assert gitlab_env.git_auth and set(gitlab_env.git_auth) == {"oauth2"}
    assert {r.headers.get("private-token") for r in gitlab_env.requests} == {API_TOKEN}


def test_a_token_file_is_bound_to_gitlabs_address_too(
    gitlab_env: FakeGitLab,
    elsewhere: FakeGitLab,
    generated_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GITLAB_TOKEN")
    token_file = tmp_path / "token"
    token_file.write_text(API_TOKEN + "\n")
    root = str(generated_root)
    publish = run(
        capsys, "publish", "--root", root, "--remote-base", elsewhere.url, "--token-file", str(token_file)
    )
    publish.one_error(2, "--token-file is only sent to GitLab at", f"not to {elsewhere.url}")
    nothing_arrived(elsewhere)


def test_merge_requests_on_another_origin_are_refused_before_anything_is_sent(
    gitlab_env: FakeGitLab,
    elsewhere: FakeGitLab,
    generated_root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """rollout template / rollout chart open merge requests through the API of the remote base: on another
    origin, one error line, exit 2, and the server there hears nothing."""
    root = str(generated_root)
    for command in (("rollout", "template"), ("rollout", "chart", "3.13.0", "--no-wait")):
        result = run(capsys, *command, "--root", root, "--remote-base", elsewhere.url)
        result.one_error(
            2, f"GitLab's API at {elsewhere.url}: GITLAB_TOKEN is only sent to GitLab at {gitlab_env.url}"
        )
    assert elsewhere.requests == []
    nothing_arrived(elsewhere)


def test_reading_another_origin_sends_neither_gitlab_token_nor_job_token(
    gitlab_env: FakeGitLab,
    elsewhere: FakeGitLab,
    generated_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """gitops-config's pipeline reads the services from GITOPS_REMOTE_BASE: on its own GitLab with its
    tokens; on another origin with none, and the reason is in the line saying what was not read."""
    root = str(generated_root)
    assert run(capsys, "gitlab", "bootstrap", "--root", root).code == 0
    assert run(capsys, "publish", "--root", root, "--remote-base", gitlab_env.url).code == 0
    clone = tmp_path / "gitops-config"
    subprocess.run(["git", "clone", "-q", str(gitlab_env.git_root / READER) + ".git", str(clone)], check=True)
    job_token = gitlab_env.issue_job_token(READER)
    monkeypatch.setenv("CI_JOB_TOKEN", job_token)
    monkeypatch.setenv("CI_SERVER_URL", gitlab_env.url)
    monkeypatch.delenv("GITLAB_URL")  # GITLAB_TOKEN's home is then CI_SERVER_URL's
    monkeypatch.setenv("GITOPS_REMOTE_BASE", elsewhere.url)
    gitlab_env.git_auth.clear()

    lint = run(capsys, "lint", "--root", str(clone))
    assert f"value files of {len(SERVICES)} service(s) not read" in lint.err
    assert f"GITLAB_TOKEN is only sent to GitLab at {gitlab_env.url} (CI_SERVER_URL), not to" in lint.err
    nothing_arrived(elsewhere)
    assert job_token not in lint.err and API_TOKEN not in lint.err

    monkeypatch.setenv("GITOPS_REMOTE_BASE", gitlab_env.url)
    lint = run(capsys, "lint", "--root", str(clone))
    assert "not read" not in lint.err
    assert set(gitlab_env.git_auth) == {"oauth2"}  # GITLAB_TOKEN on its own GitLab


def test_the_token_goes_with_its_origin_only() -> None:
    """The rule, for every kind of "another origin": host, port, scheme, and remotes that are not http."""
    home = Home(origin("https://gitlab.example.com"), "GITLAB_URL")
    token = Token(API_TOKEN, "GITLAB_TOKEN", home)
    assert token.belongs_to("https://gitlab.example.com/gitops-poc/x.git")
    assert token.belongs_to("https://GITLAB.example.com:443")
    for other in (
        "https://gitlab.example.com.evil.example",
        "https://gitlab.example.com:8443",
        "http://gitlab.example.com",
        "ssh://git@gitlab.example.com/x.git",
        "git@gitlab.example.com:x.git",
        "/srv/git/x.git",
    ):
        assert not token.belongs_to(other), other
        with pytest.raises(
            TokenElsewhere, match="GITLAB_TOKEN is only sent to GitLab at https://gitlab.example.com"
        ):
            token.for_url(other, "GitLab's API at")
    with askpass_env(token) as env:
        assert for_remote("https://gitlab.example.com/g/r.git", env) == (env, None)
        kept, why = for_remote("https://gitlab.example.com:8443/g/r.git", env)
        assert API_TOKEN not in repr(kept) and "GIT_ASKPASS" not in kept
        assert why is not None and "not to https://gitlab.example.com:8443" in why
    # GitLab's address: GITLAB_URL, else CI_SERVER_URL, else https://GITLAB_HOST; --url over all of them.
    env = {"GITLAB_URL": "https://a.example", "CI_SERVER_URL": "https://b.example"}
    assert str(gitlab_home(env, "c.example")) == "https://a.example (GITLAB_URL)"
    assert (
        str(gitlab_home({"CI_SERVER_URL": "https://b.example"}, "c.example"))
        == "https://b.example (CI_SERVER_URL)"
    )
    assert str(gitlab_home({}, "c.example")) == "https://c.example (GITLAB_HOST)"
    assert str(gitlab_home(env, "c", ("http://d.example:8080", "--url"))) == "http://d.example:8080 (--url)"
    # A GitLab address that is not a URL is bad input naming the variable and the value.
    with pytest.raises(UsageError, match=r"GITLAB_URL='gitlab\.example\.com' is not an http\(s\):// URL"):
        gitlab_home({"GITLAB_URL": "gitlab.example.com"}, "c.example")


def test_a_redirect_from_gitlab_to_another_origin_does_not_carry_private_token(tmp_path: Path) -> None:
    """requests drops Authorization on a redirect to another host but keeps custom headers such as
    PRIVATE-TOKEN (shown here with a plain Session); the session python-gitlab gets refuses the redirect."""
    from gitops_poc.gitlab.client import GitLabApiError, connect

    with (
        serve(lambda r, _s: send(r, 200, b"{}"), host="127.0.0.2") as other,
        serve(redirecting(302, other.url)) as gitlab,
    ):
        plain = requests.Session()
        plain.get(f"{gitlab.url}/api/v4/user", headers={"PRIVATE-TOKEN": API_TOKEN}, timeout=5)
        assert other.arrived and other.arrived[0].headers.get("private-token") == API_TOKEN
        other.arrived.clear()
        home = Home(origin(gitlab.url), "GITLAB_URL")
        with pytest.raises(GitLabApiError, match=r"sent us to http://127\.0\.0\.2:\d+: refused"):
            connect(gitlab.url, Token(API_TOKEN, "GITLAB_TOKEN", home))
    assert gitlab.arrived, "the API was never asked"
    assert other.arrived == []


def test_withholding_the_token_keeps_the_other_git_settings() -> None:
    """Only credentials are dropped for another origin: a CA file given through GIT_CONFIG_* stays."""
    home = Home(origin("https://gitlab.example.com"), "CI_SERVER_URL")
    helper = '!f() { echo username=oauth2; printf "password=%s\\n" "$CI_PUSH_TOKEN"; }; f'
    env = {
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_0": "http.sslCAInfo",
        "GIT_CONFIG_VALUE_0": "/etc/ca.pem",
        "GIT_CONFIG_KEY_1": "credential.helper",
        "GIT_CONFIG_VALUE_1": helper,
        "GIT_CONFIG_KEY_2": "Credential.https://other.example.helper",
        "GIT_CONFIG_VALUE_2": "store",
        **bound(home, "CI_PUSH_TOKEN"),
    }
    kept, why = for_remote("https://other.example/g/r.git", env)
    assert why is not None and why.startswith(
        "CI_PUSH_TOKEN is only sent to GitLab at https://gitlab.example.com"
    )
    assert kept["GIT_CONFIG_COUNT"] == "2"
    assert (kept["GIT_CONFIG_KEY_0"], kept["GIT_CONFIG_VALUE_0"]) == ("http.sslCAInfo", "/etc/ca.pem")
    assert (kept["GIT_CONFIG_KEY_1"], kept["GIT_CONFIG_VALUE_1"]) == ("credential.helper", "")
    assert helper not in kept.values() and "store" not in kept.values()
    assert for_remote("https://gitlab.example.com/g/r.git", env) == (env, None)


def test_only_the_boundaries_hand_a_token_on() -> None:
    """A token reaches python-gitlab in gitlab/client.connect alone (which checks its home), and git through
    gitauth's askpass or delivery's credential helper alone (both bound, dropped by gitnet.talk elsewhere):
    a new place handing one on would bypass the rule."""
    src = Path(__file__).resolve().parents[2] / "src" / "gitops_poc"
    where: dict[str, set[str]] = {"private_token=": set(), "GIT_ASKPASS": set(), "credential.helper": set()}
    for path in src.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle, found in where.items():
            if needle in text:
                found.add(path.relative_to(src).as_posix())
    assert where == {
        "private_token=": {"gitlab/client.py"},
        "GIT_ASKPASS": {"gitauth.py"},
        "credential.helper": {"gitauth.py", "delivery/gitops.py"},
    }
