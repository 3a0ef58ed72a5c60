"""Serve a folder of bare repositories over git's smart HTTP protocol on loopback, through the real
`git http-backend`: clone, fetch and push as against GitLab's HTTPS remotes, with neither GitLab nor SSH.

Used by the demo (gitlab-ci-local resolves `include: project:` from the origin's host, and the pipeline's
jobs push over HTTP) and by tests (with `authorize`, a check of the HTTP basic credentials).
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gitops_poc import proc

# (user, password) -> allowed; None: anyone may clone and push (a loopback demo server).
Authorize = Callable[[str, str], bool]


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic ...` header; None when absent or malformed."""
    if not header.startswith("Basic "):
        return None
    try:
        user, sep, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def run_backend(
    root: Path,
    method: str,
    path: str,
    query: str,
    body: bytes,
    content_type: str,
    user: str,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request through `git http-backend` (CGI): status, headers and body of its answer."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REQUEST_METHOD": method,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        # With a REMOTE_USER, http-backend accepts pushes (receive-pack), as for a logged-in user.
        "REMOTE_USER": user or "anonymous",
        # Partial clones and their lazy fetches (gitlab-ci-local fetches an included file with
        # --filter=tree:0, then its blob), as GitLab allows them.
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "uploadpack.allowFilter",
        "GIT_CONFIG_VALUE_0": "true",
        "GIT_CONFIG_KEY_1": "uploadpack.allowAnySHA1InWant",
        "GIT_CONFIG_VALUE_1": "true",
    }
    result = proc.run(["git", "http-backend"], input=body, env=env)
    head, _, payload = result.stdout.partition(b"\r\n\r\n")
    status, headers = 200, []
    for line in head.decode(errors="replace").split("\r\n"):
        name, _, value = line.partition(": ")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name:
            headers.append((name, value))
    if result.returncode != 0 and not head:
        return 500, [], result.stderr
    return status, headers, payload


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        user = ""
        if self.server.authorize is not None:
            given = basic_credentials(self.headers.get("Authorization", ""))
            if given is None or not self.server.authorize(*given):
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            user = given[0]
        status, headers, payload = run_backend(
            self.server.root,
            self.command,
            split.path,
            split.query,
            body,
            self.headers.get("Content-Type", ""),
            user,
        )
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    root: Path
    authorize: Authorize | None


@contextmanager
def serve_git(root: Path, authorize: Authorize | None = None) -> Iterator[str]:
    """Serve `root` (holding `<group>/<repo>.git`) on 127.0.0.1 for the block; yields the base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.root, server.authorize = root, authorize
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
