"""Fixtures for hostile-input tests: a generated platform in a real git repository, and a crash-log folder."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gitops_poc.changes import apply_changes
from gitops_poc.config import load_config
from gitops_poc.generate import plan_init
from gitops_poc.platform import Platform
from tests.clirun import Run, run_cli


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def provision_with_secrets(root: Path, secrets_text: str, crash_dir: Path) -> tuple[Path, Run]:
    """`vault provision --dry-run` with a secrets file of the given text (no Vault needed to read it)."""
    secrets = root / "s.yaml"
    secrets.write_text(secrets_text)
    run = run_cli(
        "vault", "provision", "-C", str(root), "--dry-run", "--secrets-file", str(secrets), tmpdir=crash_dir
    )
    return secrets, run


def generate(root: Path, settings: dict[str, str] | None = None) -> Platform:
    platform = Platform(load_config(None, settings or {}))
    apply_changes(root, plan_init(platform, root))
    return platform


@pytest.fixture
def platform_root(tmp_path: Path) -> Path:
    """A platform generated from the defaults, committed as the first commit of a git repository."""
    root = tmp_path / "platform"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    generate(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial platform")
    return root


@pytest.fixture
def crash_dir(tmp_path: Path) -> Path:
    return tmp_path / "crash-logs"


def _json(request: BaseHTTPRequestHandler, body: object, status: int = 200) -> None:
    data = json.dumps(body).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)


HEALTHY = {
    "/v1/sys/health": {"initialized": True, "sealed": False, "standby": False},
    "/v1/auth/token/lookup-self": {"data": {"policies": ["root"], "display_name": "root"}},
    "/v1/sys/mounts": {"data": {"secret/": {"type": "kv", "options": {"version": "2"}}}},
    "/v1/sys/auth": {"data": {"token/": {"type": "token"}}},
}


@pytest.fixture
def fake_vault() -> Iterator[Callable[[dict[str, object], float], str]]:
    """A local HTTP server answering Vault paths from a table (an answer of `None`: drip it slowly)."""
    servers: list[ThreadingHTTPServer] = []

    def start(answers: dict[str, object], drip: float = 0.0) -> str:
        class Fake(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self) -> None:
                path = self.path.split("?")[0]
                body = answers.get(path, HEALTHY.get(path, {"errors": []}))
                if drip and path in answers:
                    data = json.dumps(body).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    for byte in data:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(drip)
                    return
                _json(self, body, 200 if path in answers or path in HEALTHY else 404)

            do_GET = do_LIST = do_POST = do_PUT = _answer

        server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
