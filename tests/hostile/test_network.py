"""Issue #17, network conversations: credentials never leave for another host, every conversation is bounded
(an overall deadline, a capped Retry-After, bounded pagination), and a server answering badly is one exit-2
error line, never a crash (3) or a finding (1).

The stand-ins are real HTTP servers on loopback: a redirector that sends every request to a second server on
another loopback address (127.0.0.2) which records what arrives, GitLab's (tests/gitlab/fake_gitlab.py) and
Kubernetes' (tests/cluster/fakeapi.py). Deadlines are made small (GITOPS_POC_HTTP_DEADLINE,
VAULT_CLIENT_TIMEOUT) so that every test ends in seconds.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.errors import GitopsError
from gitops_poc.redact import redact
from gitops_poc.tokenhome import Home, Token
from gitops_poc.urls import origin
from tests.clirun import Run, run_cli
from tests.conftest import require_binary
from tests.gitlab.fake_gitlab import FakeGitLab, Request, fake_gitlab

GITLAB_TOKEN = "glpat-PLANTED-net-gitlab-4242"
VAULT_TOKEN = "hvs.PLANTED-net-vault-4242"
KUBE_TOKEN = "PLANTED-net-kube-bearer-4242"
REPO_PASSWORD = "PLANTED-net-repo-password-4242"
RECAPTCHA_SECRET = "PLANTED-net-recaptcha-secret-4242"
COOKIE = "PLANTED-net-cookie-4242"
PLANTED = (GITLAB_TOKEN, VAULT_TOKEN, KUBE_TOKEN, REPO_PASSWORD, RECAPTCHA_SECRET, COOKIE)
CREDENTIAL_HEADERS = ("authorization", "private-token", "x-vault-token", "cookie", "proxy-authorization")
# Seconds for one command against a hostile server: a normal run takes about 1 s, an unbounded one over 400 s;
# the margin is for a loaded CI machine (start-up alone took 10 s at load 13 on 2 cores).
BOUND = 30.0
DEADLINE = "1.5"  # GITOPS_POC_HTTP_DEADLINE / VAULT_CLIENT_TIMEOUT in these tests


# --- servers ----------------------------------------------------------------------------------------------
@dataclass
class Arrived:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    url: str
    arrived: list[Arrived] = field(default_factory=list)


Answer = Callable[[BaseHTTPRequestHandler, Server], None]


@contextmanager
def serve(answer: Answer, host: str = "127.0.0.1") -> Iterator[Server]:
    """A loopback HTTP server recording every request and answering it with `answer`."""
    record: Server = Server("")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            record.arrived.append(Arrived(self.command, self.path, headers, body))
            answer(self, record)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_LIST = _handle

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    record.url = f"http://{host}:{server.server_port}"
    try:
        yield record
    finally:
        server.shutdown()
        server.server_close()


def send(request: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    request.send_response(status)
    named = {"Content-Type": "application/json"} | {k.replace("_", "-"): v for k, v in headers.items()}
    for name, value in {**named, "Content-Length": str(len(body))}.items():
        request.send_header(name, value)
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(body)


def answer_json(body: object, status: int = 200) -> Answer:
    return lambda request, _server: send(request, status, json.dumps(body).encode())


def redirecting(status: int, elsewhere: str) -> Answer:
    """Every request is sent on to `elsewhere` (same path), with a cookie the client might keep."""

    def answer(request: BaseHTTPRequestHandler, _server: Server) -> None:
        send(
            request,
            status,
            b"",
            Location=f"{elsewhere}{request.path}",
            Set_Cookie=f"session={COOKIE}; Path=/",
        )

    return answer


def credentials_in(arrived: list[Arrived]) -> list[str]:
    """What of a credential reached the server: a credential header, or a planted value anywhere."""
    found = []
    for one in arrived:
        found += [f"{one.method} {one.path}: header {h}" for h in CREDENTIAL_HEADERS if h in one.headers]
        text = f"{one.path} {one.headers} {one.body.decode(errors='replace')}"
        found += [f"{one.method} {one.path}: {value}" for value in PLANTED if value in text]
    return found


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def kubeconfig(folder: Path, server: str) -> Path:
    path = folder / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "minikube",
                "clusters": [{"name": "minikube", "cluster": {"server": server}}],
                "users": [{"name": "minikube", "user": {"token": KUBE_TOKEN}}],
                "contexts": [{"name": "minikube", "context": {"cluster": "minikube", "user": "minikube"}}],
            }
        )
    )
    return path


def cli(*args: str, env: dict[str, str], crash_dir: Path) -> Run:
    started = time.monotonic()
    run = run_cli(*args, env={"GITOPS_POC_HTTP_DEADLINE": DEADLINE, **env}, tmpdir=crash_dir, timeout=60)
    took = time.monotonic() - started
    assert took < BOUND, f"{args} took {took:.1f} s\n{run.err}"
    return run


# --- every HTTP client of ours, against a redirect to another host ------------------------------------------
def _gitlab(url: str, tmp_path: Path) -> None:
    from gitops_poc.gitlab.client import connect

    connect(url, token_for(url))


def token_for(url: str) -> Token:
    """GITLAB_TOKEN for GitLab at `url` (as GITLAB_URL would make it)."""
    return Token(GITLAB_TOKEN, "GITLAB_TOKEN", Home(origin(url), "GITLAB_URL"))


def _vault(url: str, tmp_path: Path) -> None:
    from gitops_poc.vault.client import VaultTarget, make_client, preflight, vault_errors

    client = make_client(VaultTarget(url), VAULT_TOKEN, deadline=float(DEADLINE))
    try:
        preflight(client)
    finally:  # a write too (307/308 keep the method and body)
        with vault_errors(client, "writing"):
            client.secrets.kv.v2.create_or_update_secret("x", {"k": "v"})


def _kubernetes(url: str, tmp_path: Path) -> None:
    from gitops_poc.cluster.kube import Kube

    kube = Kube.from_kubeconfig("minikube", str(kubeconfig(tmp_path, url)))
    try:
        kube.version()
    finally:
        kube.create_token("ns", "sa")


def _chart_repository(url: str, tmp_path: Path) -> None:
    from gitops_poc.helmrepo import repository_reachable

    with_password = url.replace("http://", f"http://reader:{REPO_PASSWORD}@")
    assert repository_reachable(with_password, timeout=float(DEADLINE)) is False


def _helm(url: str, tmp_path: Path) -> None:
    """helm itself, as render, diff, review and ci deploy run it: `helm pull --repo URL` with the
    repository's password in the URL (helm turns it into basic auth)."""
    from gitops_poc.render.helm import Helm
    from gitops_poc.render.model import ChartRef

    with_password = url.replace("http://", f"http://reader:{REPO_PASSWORD}@")
    args = ChartRef(with_password, "app", "3.13.0").pull_args()
    assert "--pass-credentials" not in args
    Helm(require_binary("helm"), timeout=float(BOUND)).pull(args, tmp_path / "pulled")


def _recaptcha(url: str, tmp_path: Path) -> None:
    from auth_adapter.recaptcha import Recaptcha, RecaptchaSettings

    settings = RecaptchaSettings(url=f"{url}/recaptcha/api/siteverify", secret_v2=RECAPTCHA_SECRET)
    assert Recaptcha(settings).verify("user-token", 2) is False


# Ours refuse before sending anything elsewhere. The reCAPTCHA client is svc-auth's (services/auth-adapter):
# it must not send a credential there; whether it sends anything at all is its owner's choice.
CLIENTS: dict[str, tuple[Callable[[str, Path], None], bool]] = {
    "gitlab": (_gitlab, True),
    "vault": (_vault, True),
    "kubernetes": (_kubernetes, True),
    "chart-repository": (_chart_repository, True),
    "recaptcha": (_recaptcha, False),
    # helm follows a redirect itself (Go's client, which drops the Authorization header for another host);
    # what matters is that nothing of the credential arrives there.
    "helm": (_helm, False),
}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_no_client_of_ours_sends_a_credential_to_another_host(
    client: str, status: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_POC_HTTP_DEADLINE", DEADLINE)
    talk, nothing_at_all = CLIENTS[client]
    with (
        serve(answer_json({"ok": True}), host="127.0.0.2") as elsewhere,
        serve(redirecting(status, elsewhere.url)) as redirector,
    ):
        started = time.monotonic()
        try:
            talk(redirector.url, tmp_path)
        except GitopsError as exc:
            shown = redact(str(exc))  # as the error handler shows it (helm's own text names the URL)
            assert "Traceback" not in shown
            assert not any(value in shown for value in PLANTED), shown
        assert time.monotonic() - started < BOUND
    assert redirector.arrived, "the client never asked the configured server"
    assert credentials_in(elsewhere.arrived) == []
    if nothing_at_all:
        assert elsewhere.arrived == []


def test_a_redirect_to_another_port_of_the_same_host_or_to_http_is_refused_too(tmp_path: Path) -> None:
    from gitops_poc.httpguard import CrossOriginRefused, GuardedSession

    with serve(answer_json({})) as other_port, serve(redirecting(302, other_port.url)) as redirector:
        session = GuardedSession(redirector.url, service="GitLab", deadline=2)
        with pytest.raises(CrossOriginRefused, match=r"sent us to http://127\.0\.0\.1:\d+: refused"):
            session.get(f"{redirector.url}/api/v4/user", headers={"PRIVATE-TOKEN": GITLAB_TOKEN})
        # https -> http on the same host and port: a downgrade, refused before anything is sent
        https = redirector.url.replace("http://", "https://")
        session = GuardedSession(https, service="GitLab", deadline=2)
        with pytest.raises(CrossOriginRefused, match="sent us to http://"):
            session.get(redirector.url)
    assert other_port.arrived == []


def asks_for_credentials(request: BaseHTTPRequestHandler, _server: Server) -> None:
    """A git server wanting basic auth: git asks its askpass or credential helper and sends what it gets."""
    if "authorization" in {k.lower() for k in request.headers}:
        send(request, 404, b"")
    else:
        send(request, 401, b"", WWW_Authenticate='Basic realm="git"')


def _git_publish(url: str, tmp_path: Path) -> None:
    from gitops_poc.gitauth import askpass_env
    from gitops_poc.publish.git import Scratch

    with askpass_env(token_for(url)) as env, Scratch(env) as scratch:
        scratch.fetch(f"{url}/group/repo.git", "main")


def _git_write_back(url: str, tmp_path: Path) -> None:
    from gitops_poc.delivery.gitops import Repository

    subprocess.run(["git", "init", "--quiet", str(tmp_path / "clone")], check=True)
    Repository(tmp_path / "clone", {"CI_PUSH_TOKEN": GITLAB_TOKEN}).fetch(f"{url}/group/repo.git", "main")


def _git_status(url: str, tmp_path: Path) -> None:
    from gitops_poc.gitauth import askpass_env
    from gitops_poc.publish.remote import parse_remote_base
    from gitops_poc.status.gitside import Repositories

    with (
        askpass_env(token_for(url)) as env,
        Repositories(parse_remote_base(url, tmp_path), "main", env).open() as repos,
    ):
        repos.locate("group/repo", "health-demo")


@pytest.mark.parametrize("status", [301, 302, 307])
@pytest.mark.parametrize(
    "talk", [_git_publish, _git_write_back, _git_status], ids=["publish", "ci-write-back", "status"]
)
def test_git_never_sends_the_token_to_another_host(
    talk: Callable[[str, Path], None], status: int, tmp_path: Path
) -> None:
    """Real git over http, its token from the askpass script (publish, status) or the credential helper (ci):
    a redirect to another host that then asks for credentials gets none."""
    with (
        serve(asks_for_credentials, host="127.0.0.2") as elsewhere,
        serve(redirecting(status, elsewhere.url)) as redirector,
        contextlib.suppress(GitopsError),
    ):
        talk(redirector.url, tmp_path)
    assert redirector.arrived, "git never asked the configured server"
    assert credentials_in(elsewhere.arrived) == []
    assert elsewhere.arrived == []  # not even followed


K8APP = Path("/work/shared/charts/k8app")


def test_helm_sends_the_repository_password_to_the_repository_alone(
    tmp_path: Path, platform_root: Path, crash_dir: Path
) -> None:
    """The real command path (`render` -> `helm pull --repo URL`, no --pass-credentials), a repository whose
    index places the chart on another host: the chart is fetched from there without the password."""
    require_binary("helm")
    if not (K8APP / "index.yaml").is_file():
        pytest.skip("the offline chart repositories are not here (/work/shared/charts)")

    def chart(request: BaseHTTPRequestHandler, _server: Server) -> None:
        send(request, 200, (K8APP / Path(request.path).name).read_bytes(), Content_Type="application/gzip")

    with serve(chart, host="127.0.0.2") as elsewhere:
        index = (K8APP / "index.yaml").read_text().replace("- app-3", f"- {elsewhere.url}/app-3").encode()
        with serve(lambda request, _server: send(request, 200, index)) as repository:
            run = cli(
                "render",
                "health-demo",
                "dev",
                "-C",
                str(platform_root),
                env={
                    "CHART_REPO": repository.url.replace("http://", f"http://reader:{REPO_PASSWORD}@"),
                    "GITOPS_POC_RECORD_ARGV": str(tmp_path / "argv.jsonl"),
                },
                crash_dir=crash_dir,
            )
    started = (tmp_path / "argv.jsonl").read_text()
    assert "helm" in started and REPO_PASSWORD not in started  # never in argv: `ps` would show it
    assert [a.path for a in elsewhere.arrived] == ["/app-3.13.0.tgz"], run.text  # the chart came from there
    assert "authorization" in repository.arrived[0].headers  # the password is in use, for the repository
    assert credentials_in(elsewhere.arrived) == []
    assert REPO_PASSWORD not in run.text + "".join(run.crash_logs)


def test_a_redirect_within_the_configured_origin_is_followed(tmp_path: Path) -> None:
    from gitops_poc.httpguard import GuardedSession

    def answer(request: BaseHTTPRequestHandler, _server: Server) -> None:
        if request.path == "/old":
            send(request, 301, b"", Location="/new")
        else:
            send(request, 200, json.dumps({"token": request.headers.get("PRIVATE-TOKEN")}).encode())

    with serve(answer) as server:
        session = GuardedSession(server.url, service="GitLab", deadline=2)
        answered = session.get(f"{server.url}/old", headers={"PRIVATE-TOKEN": GITLAB_TOKEN})
    assert answered.json() == {"token": GITLAB_TOKEN}


@pytest.mark.parametrize("status", [302, 307])
def test_gitlab_commands_redirected_elsewhere_exit_2(
    status: int, platform_root: Path, crash_dir: Path
) -> None:
    with (
        serve(answer_json({"id": 1}), host="127.0.0.2") as elsewhere,
        serve(redirecting(status, elsewhere.url)) as redirector,
    ):
        env = {"GITLAB_URL": redirector.url, "GITLAB_TOKEN": GITLAB_TOKEN}
        for command in ("check", "bootstrap"):
            run = cli("gitlab", command, "--root", str(platform_root), env=env, crash_dir=crash_dir)
            run.one_error(2, "refused", "127.0.0.2")
            assert GITLAB_TOKEN not in run.text
    assert elsewhere.arrived == []


# --- GitLab: pagination, Retry-After, failures --------------------------------------------------------------
@contextmanager
def gitlab(tmp_path: Path) -> Iterator[FakeGitLab]:
    with fake_gitlab(GITLAB_TOKEN, tmp_path / "gitlab-repos") as fake:
        fake.add_group("gitops-poc")
        yield fake


def gitlab_env(fake: FakeGitLab | str) -> dict[str, str]:
    return {"GITLAB_URL": fake if isinstance(fake, str) else fake.url, "GITLAB_TOKEN": GITLAB_TOKEN}


def _links(fake: FakeGitLab, next_url: Callable[[Request, int], str]) -> None:
    """Every listing answers one item and a `next` link of `next_url(request, page)`."""

    def page(req: Request, items: list[Any]) -> tuple[int, Any, dict[str, str]]:
        number = int(req.query.get("page", 1))
        return 200, items[:1], {"Link": f'<{next_url(req, number)}>; rel="next"'}

    fake._page = page  # type: ignore[method-assign]


@pytest.mark.parametrize(
    "loop",
    [
        pytest.param(lambda url, req, page: f"{url}/api/v4{req.path}?page={page}&per_page=100", id="itself"),
        pytest.param(
            lambda url, req, page: f"{url}/api/v4{req.path}?per_page=100&page={3 - page}", id="two-pages"
        ),
    ],
)
def test_a_pagination_loop_stops_at_once(
    loop: Callable[[str, Request, int], str], tmp_path: Path, platform_root: Path, crash_dir: Path
) -> None:
    with gitlab(tmp_path) as fake:
        _links(fake, lambda req, page: loop(fake.url, req, page))
        run = cli("gitlab", "check", "--root", str(platform_root), env=gitlab_env(fake), crash_dir=crash_dir)
        run.one_error(2, "pagination loop", "/variables", "reading group gitops-poc")
        listed = [r for r in fake.requests if r.path == "/groups/gitops-poc/variables"]
    assert len(listed) <= 2  # today's client made 3,000 requests over 4 minutes


def test_a_pagination_link_to_another_host_is_refused(
    tmp_path: Path, platform_root: Path, crash_dir: Path
) -> None:
    with serve(answer_json([]), host="127.0.0.2") as elsewhere, gitlab(tmp_path) as fake:
        _links(fake, lambda req, page: f"{elsewhere.url}/api/v4{req.path}?page={page + 1}")
        run = cli("gitlab", "check", "--root", str(platform_root), env=gitlab_env(fake), crash_dir=crash_dir)
    run.one_error(2, "refused", "127.0.0.2")
    assert elsewhere.arrived == []


def test_an_endless_listing_stops_at_max_pages() -> None:
    from gitops_poc.httpguard import GuardedSession, PaginationLoop

    def answer(request: BaseHTTPRequestHandler, server: Server) -> None:
        page = int(request.path.rpartition("=")[2]) if "page=" in request.path else 1
        send(request, 200, b"[1]", Link=f'<{server.url}/items?page={page + 1}>; rel="next"')

    with serve(answer) as server:
        session = GuardedSession(server.url, service="GitLab", deadline=2, max_pages=5)
        url: str | None = f"{server.url}/items"
        with pytest.raises(PaginationLoop, match="more than 5 pages"):
            while url:
                url = session.get(url).links.get("next", {}).get("url")
        assert len(server.arrived) == 5
        # another listing afterwards starts a new count
        assert session.get(f"{server.url}/other").status_code == 200


@pytest.mark.parametrize(
    ("headers", "shown"),
    [
        ({"Retry-After": "100000"}, "'Retry-After: 100000'"),
        ({"Retry-After": "99999999999999999999999"}, "'Retry-After: 99999999999999999999999'"),
        ({"Retry-After": "Wed, 01 Jan 2100 00:00:00 GMT"}, "Retry-After: Wed, 01 Jan 2100"),
        ({"RateLimit-Reset": str(int(time.time()) + 86_400)}, "RateLimit-Reset: "),
    ],
    ids=["seconds", "huge", "http-date", "ratelimit-reset"],
)
def test_a_long_retry_after_is_not_waited_for(
    headers: dict[str, str], shown: str, tmp_path: Path, platform_root: Path, crash_dir: Path
) -> None:
    with gitlab(tmp_path) as fake:
        fake.fail("GET", r"/user", 429, times=100, **headers)
        run = cli("gitlab", "check", "--root", str(platform_root), env=gitlab_env(fake), crash_dir=crash_dir)
        assert len(fake.requests) == 1
    run.one_error(2, "429", shown, "more than the 30 s waited at most", "try again later")


@pytest.mark.parametrize(
    "value", ["soon", "-5", "1.5", "Sun, 99 Foo 2026 99:99:99 GMT", "\u0663", " ", "1, 2"]
)
def test_an_unparsable_retry_after_is_retried_with_the_client_backoff(
    value: str, tmp_path: Path, platform_root: Path, crash_dir: Path
) -> None:
    with gitlab(tmp_path) as fake:
        fake.fail("GET", r"/user", 429, times=2, **{"Retry-After": value})
        run = cli(
            "gitlab", "bootstrap", "--dry-run", "--root", str(platform_root), env=gitlab_env(fake),
            crash_dir=crash_dir,
        )  # fmt: skip
        statuses = [(r.path, r.status) for r in fake.requests][:3]
    assert run.code == 0 and not run.crash_logs, run.err
    assert statuses == [("/user", 429), ("/user", 429), ("/user", 200)]


def test_a_short_retry_after_is_waited_for(tmp_path: Path, platform_root: Path, crash_dir: Path) -> None:
    with gitlab(tmp_path) as fake:
        fake.fail("GET", r"/user", 429, times=1, **{"Retry-After": "1"})
        started = time.monotonic()
        run = cli(
            "gitlab", "bootstrap", "--dry-run", "--root", str(platform_root), env=gitlab_env(fake),
            crash_dir=crash_dir,
        )  # fmt: skip
    assert run.code == 0, run.err
    assert time.monotonic() - started >= 1.0


def _not_json(content_type: str, body: bytes) -> Answer:
    return lambda request, _server: send(request, 200, body, Content_Type=content_type)


@pytest.mark.parametrize(
    ("make", "shown"),
    [
        (lambda tmp: f"http://127.0.0.1:{closed_port()}", "cannot reach GitLab"),
        (lambda tmp: "gitlab.example.com", "not an http(s):// URL"),
        (lambda tmp: "http://[::1", "not an http(s):// URL"),
        (lambda tmp: "http://127.0.0.1:99999", "not an http(s):// URL"),
        (lambda tmp: "https://", "not an http(s):// URL"),
        (lambda tmp: "ftp://gitlab.example.com", "not an http(s):// URL"),
        (lambda tmp: "http://user:secret-in-url@[::1", "not an http(s):// URL"),
    ],
    ids=["unreachable", "no-scheme", "bad-ipv6", "bad-port", "no-host", "ftp", "password-in-url"],
)
def test_gitlab_unreachable_or_a_bad_url_is_exit_2(
    make: Callable[[Path], str], shown: str, tmp_path: Path, platform_root: Path, crash_dir: Path
) -> None:
    url = make(tmp_path)
    for args in (("check",), ("bootstrap",), ("bootstrap", "--dry-run")):
        env = gitlab_env(url) | ({"GITLAB_TOKEN": ""} if "--dry-run" in args else {})
        if "cannot reach" in shown and "--dry-run" in args:
            continue  # a dry run without a token asks nothing
        run = cli("gitlab", *args, "--root", str(platform_root), env=env, crash_dir=crash_dir)
        run.one_error(2, shown)
        assert "secret-in-url" not in run.text


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (_not_json("text/html", b"<html>502 Bad Gateway</html>"), "not JSON"),
        (_not_json("application/json", b"{not json"), "not JSON"),
        (answer_json({"message": "boom"}, 500), "GitLab answered 500"),
        (answer_json({"message": "down"}, 503), "GitLab answered 503"),
    ],
    ids=["html", "broken-json", "500", "503"],
)
def test_gitlab_answering_badly_is_exit_2(
    answer: Answer, shown: str, platform_root: Path, crash_dir: Path
) -> None:
    with serve(answer) as server:
        for command in ("check", "bootstrap"):
            run = cli("gitlab", command, "--root", str(platform_root), env=gitlab_env(server.url),
                      crash_dir=crash_dir)  # fmt: skip
            run.one_error(2, shown)
            assert "None" not in run.err  # today: "GitLab answered None", exit 1


# --- Kubernetes: a slow answer, HTML, a redirect ---------------------------------------------------------
def dripping(request: BaseHTTPRequestHandler, _server: Server) -> None:
    """A valid answer, one byte every 0.2 s (30 s in all): every read is quick, the whole is not."""
    body = json.dumps({"major": "1", "minor": "34", "padding": " " * 150}).encode()
    request.send_response(200)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    for byte in body:
        try:
            request.wfile.write(bytes([byte]))
            request.wfile.flush()
        except OSError:
            return
        time.sleep(0.2)


HTML = _not_json("text/html", b"<html><body>502 Bad Gateway (the proxy)</body></html>")


def test_a_slow_kubernetes_api_is_bounded_by_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitops_poc.cluster.kube import ClusterUnreachable, Kube

    monkeypatch.setenv("GITOPS_POC_HTTP_DEADLINE", "1")
    with serve(dripping) as server:
        kube = Kube.from_kubeconfig("minikube", str(kubeconfig(tmp_path, server.url)))
        started = time.monotonic()
        with pytest.raises(
            ClusterUnreachable, match="no complete answer to GET /version: no complete answer within 1 s"
        ):
            kube.version()
        assert time.monotonic() - started < 3


@pytest.mark.parametrize("answer", [dripping, HTML], ids=["one-byte-at-a-time", "html"])
@pytest.mark.parametrize(
    "command",
    [("doctor",), ("verify",), ("setup", "infrastructure"), ("setup", "platform"), ("up",)],
    ids=" ".join,
)
def test_cluster_commands_against_a_slow_or_html_api_end_in_time_without_a_crash(
    answer: Answer, command: tuple[str, ...], tmp_path: Path, platform_root: Path, crash_dir: Path
) -> None:
    with serve(answer) as server:
        env = {"KUBECONFIG": str(kubeconfig(tmp_path, server.url)), "PATH": "/usr/bin:/bin"}
        run = cli(*command, "-C", str(platform_root), env=env, crash_dir=crash_dir)
    assert run.code in (1, 2), run.text  # doctor/verify: failed checks (1); the others: cannot (2)
    assert "Traceback" not in run.text and not run.crash_logs, run.text
    assert KUBE_TOKEN not in run.text


def test_a_kubernetes_api_answering_html_is_a_clear_error(tmp_path: Path) -> None:
    from gitops_poc.cluster.kube import ClusterUnreachable, Kube

    with serve(HTML) as server:
        kube = Kube.from_kubeconfig("minikube", str(kubeconfig(tmp_path, server.url)))
        with pytest.raises(
            ClusterUnreachable, match=r"not a JSON object \(text/html\): is a proxy in the way"
        ):
            kube.version()
    with serve(answer_json(["a", "list"])) as server:
        kube = Kube.from_kubeconfig("minikube", str(kubeconfig(tmp_path, server.url)))
        with pytest.raises(ClusterUnreachable, match="not a JSON object"):
            kube.get("v1", "Namespace", None, "dev")


def test_a_kubernetes_redirect_is_not_followed(tmp_path: Path) -> None:
    from gitops_poc.cluster.kube import ClusterError, Kube

    with (
        serve(answer_json({"major": "1"}), host="127.0.0.2") as elsewhere,
        serve(redirecting(302, elsewhere.url)) as redirector,
    ):
        kube = Kube.from_kubeconfig("minikube", str(kubeconfig(tmp_path, redirector.url)))
        with pytest.raises(
            ClusterError, match=r"answered 302, a redirect to http://127\.0\.0\.2:\d+/version"
        ):
            kube.version()
    assert ClusterError.exit_code == 2
    assert elsewhere.arrived == []


# --- Vault: unreachable is exit 2, as docs/vault.md says -------------------------------------------------
@pytest.mark.parametrize("command", [("vault", "check"), ("vault", "provision")], ids=" ".join)
def test_an_unreachable_vault_is_exit_2_as_documented(
    command: tuple[str, ...], platform_root: Path, crash_dir: Path
) -> None:
    addr = f"http://127.0.0.1:{closed_port()}"
    env = {"VAULT_ADDR": addr, "VAULT_TOKEN": VAULT_TOKEN, "VAULT_CLIENT_TIMEOUT": DEADLINE}
    run = cli(*command, "-C", str(platform_root), env=env, crash_dir=crash_dir)
    run.one_error(2, f"cannot reach Vault at {addr}")
    docs = (Path(__file__).parents[2] / "docs" / "vault.md").read_text()
    row = next(line for line in docs.splitlines() if line.startswith("| Vault not running"))
    assert row.rstrip().endswith("| 2 |"), row


def test_a_slow_vault_is_bounded(platform_root: Path, crash_dir: Path) -> None:
    with serve(dripping) as server:
        env = {"VAULT_ADDR": server.url, "VAULT_TOKEN": VAULT_TOKEN, "VAULT_CLIENT_TIMEOUT": "1"}
        run = cli("vault", "check", "-C", str(platform_root), env=env, crash_dir=crash_dir)
    run.one_error(2, "no complete answer within 1 s")


# --- the rules themselves -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        ("120", 120.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: at once
        ("soon", None),
        ("-1", None),
        ("1e3", None),
        ("", None),
        ("Wed, 21 Oct 2015 07:28:00", None),  # no zone
        ("٣", None),  # a non-ASCII digit
    ],
)
def test_retry_after_parsing(value: str, seconds: float | None) -> None:
    from gitops_poc.httpguard import retry_after_seconds

    assert retry_after_seconds(value) == seconds


def test_the_deadline_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from gitops_poc.errors import UsageError
    from gitops_poc.httpguard import DEFAULT_DEADLINE, deadline_from_env

    assert deadline_from_env({}) == DEFAULT_DEADLINE
    assert deadline_from_env({"GITOPS_POC_HTTP_DEADLINE": "2.5"}) == 2.5
    for bad in ("0", "-1", "nan", "inf", "soon"):
        with pytest.raises(UsageError, match="GITOPS_POC_HTTP_DEADLINE"):
            deadline_from_env({"GITOPS_POC_HTTP_DEADLINE": bad})
