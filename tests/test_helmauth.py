"""A chart repository's password reaches helm through a private repository configuration, never argv."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gitops_poc import helmauth, proc
from gitops_poc.argv import Opt, Part, Value
from gitops_poc.errors import UsageError
from gitops_poc.render.helm import Helm, HelmError
from gitops_poc.render.model import ChartRef
from tests.conftest import require_binary

K8APP = Path(__file__).resolve().parents[2] / "shared" / "charts" / "k8app"
PASSWORD = "chart-repo-s3cret-7f2c"


def pull(repo: str) -> list[Part]:
    return ["helm", "pull", Opt("--repo", repo), Opt("--version", "3.13.0"), "--", Value("app", "CHART_NAME")]


@pytest.mark.parametrize("repo", ["https://charts.example/k8app", "https://reader@charts.example/k8app"])
def test_a_repository_without_a_password_is_left_as_it_is(repo: str) -> None:
    parts = pull(repo)
    with proc.recording() as started, helmauth.private_repository("helm", parts) as (argv, env):
        assert argv == parts and env == {}
    assert started == []


def test_a_password_without_a_user_is_refused_naming_chart_repo() -> None:
    with (
        pytest.raises(UsageError, match="CHART_REPO: https://charts.example/k has a password but no user"),
        helmauth.private_repository("helm", pull("https://:s3cret-pass@charts.example/k")),
    ):
        pass


@pytest.fixture
def protected_repository() -> Iterator[tuple[str, list[str]]]:
    """The offline k8app repository behind basic auth; (URL, the Authorization headers that arrived)."""
    if not (K8APP / "index.yaml").is_file():
        pytest.skip("the offline chart repositories are not here (../shared/charts)")
    expected = "Basic " + base64.b64encode(f"reader:{PASSWORD}".encode()).decode()
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            target = K8APP / Path(self.path).name
            if self.headers.get("Authorization") != expected or not target.is_file():
                self.send_response(401 if target.is_file() else 404)
                self.send_header("WWW-Authenticate", 'Basic realm="charts"')
                self.end_headers()
                return
            body = target.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()


def _pull(helm: Helm, repo: str, destination: Path) -> Sequence[list[str]]:
    with proc.recording() as started:
        helm.pull(ChartRef(repo, "app", "3.13.0").pull_args(), destination)
    return started


def test_helm_pulls_from_a_protected_repository_with_the_password_nowhere_in_argv(
    protected_repository: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, seen = protected_repository
    helm = Helm(require_binary("helm"))
    started = _pull(helm, url.replace("http://", f"http://reader:{PASSWORD}@"), tmp_path / "pulled")
    assert (tmp_path / "pulled" / "app" / "Chart.yaml").is_file()
    assert [argv[1:3] for argv in started] == [["repo", "add"], ["pull", "--untar"]]
    assert not any(PASSWORD in word for argv in started for word in argv)
    assert any(header.startswith("Basic ") for header in seen)  # the password was in use
    assert not list(tmp_path.glob("**/repositories.yaml"))  # the private configuration is gone


def test_a_wrong_password_is_helms_error_naming_the_repository_without_it(
    protected_repository: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, _seen = protected_repository
    helm = Helm(require_binary("helm"))
    with pytest.raises(HelmError, match=f"chart repository {url}") as caught:
        _pull(helm, url.replace("http://", "http://reader:not-the-password@"), tmp_path / "pulled")
    assert "not-the-password" not in str(caught.value)
