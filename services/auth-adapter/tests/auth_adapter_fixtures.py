"""Shared by the auth-adapter tests: a real server on loopback, Envoy-shaped requests, a siteverify server."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import gateway_config
import grpc
import jwt
from auth_adapter.cli import build
from auth_adapter.ratelimit import RateLimiter
from auth_adapter.server import build_server
from envoy.config.core.v3 import address_pb2
from envoy.service.auth.v3 import attribute_context_pb2, external_auth_pb2, external_auth_pb2_grpc
from service_runtime import ServerSettings, ServerThread

SECRET = "test-signing-key-0123456789abcdef-0123456789"  # HS256 wants 32 bytes or more
ISSUER, AUDIENCE = "https://issuer.test", "gateway"
STATIC = ("static-token-one", "static-token-two")

CONFIG = """
client_address: {trusted_hops: 1}
jwt: {issuer: "https://issuer.test", audience: gateway}
recaptcha: {v3_min_score: 0.7, timeout_seconds: 0.5}
tokens: {static_permissions: [read, write]}
apis:
  - name: Shop
    auth: {policy: optional}
    methods:
      - {name: Browse, auth: {policy: no-need}}
      - {name: Buy, auth: {policy: required, permission: write}}
      - {name: View, auth: {policy: required}}
      - {name: Admin, auth: {policy: required, permission: admin}}
      - {name: Limited, auth: {policy: required, rate_limit: {period: 1m, count: 2}}}
      - {name: Human, auth: {policy: no-need, need_recaptcha: true}}
  - name: grpc.health.v1.Health
    auth: {policy: no-need}
  - name: Bare
"""


def make_jwt(secret: str = SECRET, **claims: Any) -> str:
    now = int(time.time())
    body: dict[str, Any] = {
        "sub": "user-7",
        "sid": "session-9",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now + 300,
        "roles": ["CLIENT"],
        "permissions": ["read", "write"],
    }
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret, algorithm="HS256")


def request(
    path: str,
    headers: Mapping[str, str] | None = None,
    source: str = "10.1.1.1",
    use_path_header: bool = False,
) -> external_auth_pb2.CheckRequest:
    """A CheckRequest as Envoy's ext_authz filter sends it."""
    http = attribute_context_pb2.AttributeContext.HttpRequest(
        method="POST",
        host="gateway",
        scheme="http",
        protocol="HTTP/2",
        path="" if use_path_header else path,
        headers=dict(headers or {}),
    )
    if use_path_header:
        http.headers[":path"] = path
    return external_auth_pb2.CheckRequest(
        attributes=attribute_context_pb2.AttributeContext(
            source=attribute_context_pb2.AttributeContext.Peer(
                address=address_pb2.Address(
                    socket_address=address_pb2.SocketAddress(address=source, port_value=40000)
                )
            ),
            request=attribute_context_pb2.AttributeContext.Request(http=http),
        )
    )


class Adapter:
    def __init__(
        self, env: Mapping[str, str], config: str = CONFIG, limiter: RateLimiter | None = None
    ) -> None:
        authorizer = build(gateway_config.loads(config), env, limiter)
        settings = ServerSettings(port=0, host="127.0.0.1", drain=0.0, grace=1.0, workers=4)
        self.server = ServerThread(build_server(settings, authorizer))
        self.server.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.server.port}")
        self.stub = external_auth_pb2_grpc.AuthorizationStub(self.channel)

    def check(
        self, path: str, headers: Mapping[str, str] | None = None, **kw: Any
    ) -> external_auth_pb2.CheckResponse:
        return self.stub.Check(request(path, headers, **kw), timeout=10)

    def close(self) -> None:
        self.channel.close()
        assert self.server.stop(timeout=15), "the adapter did not stop"


@contextmanager
def adapter(
    env: Mapping[str, str], config: str = CONFIG, limiter: RateLimiter | None = None
) -> Iterator[Adapter]:
    a = Adapter(env, config, limiter)
    try:
        yield a
    finally:
        a.close()


class Siteverify:
    """A reCAPTCHA siteverify look-alike on loopback: the answer depends on the response token."""

    ANSWERS: dict[str, tuple[int, object]] = {
        "human": (200, {"success": True, "score": 0.9}),
        "borderline": (200, {"success": True, "score": 0.5}),
        "robot": (200, {"success": False, "error-codes": ["invalid-input-response"]}),
        "broken": (500, {"success": True, "score": 1.0}),
        "deep": (200, "[" * 5000),  # a str is sent as it is: JSON nested past Python's recursion limit
    }

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.forms: list[dict[str, list[str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                outer.forms.append(form)
                status, body = outer.ANSWERS.get(form.get("response", [""])[0], (200, {"success": False}))
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}/recaptcha/api/siteverify"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def silent_server() -> Iterator[str]:
    """A URL whose server accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield f"http://127.0.0.1:{s.getsockname()[1]}/siteverify"
