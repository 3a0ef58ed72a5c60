"""A local HTTP server standing in for the Kubernetes API (none can run here), reached by the real
`kubernetes` client through a real kubeconfig. It records every request (method, path, query, headers,
body) and serves objects from a dict, so tests assert what the client SENT."""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "fake-bearer-token"
# Any PEM: the fake server speaks plain HTTP; Vault needs a CA for its kubernetes auth config.
CA_FILE = Path(__file__).parent.parent / "vault" / "data" / "test-ca.pem"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeApi:
    url: str = ""
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> object
    requests: list[Request] = field(default_factory=list)
    fail: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)  # (method, path) -> status
    tokens: dict[str, str] = field(default_factory=dict)  # "ns/sa" -> token
    # client-go (helm, kubectl) sends no bearer token over plain HTTP: let such a client in.
    anonymous: bool = False

    def sent(self, method: str) -> list[Request]:
        return [r for r in self.requests if r.method == method]

    def kubeconfig(self, folder: Path, context: str = "minikube") -> Path:
        path = folder / f"kubeconfig-{context}"
        ca = base64.b64encode(CA_FILE.read_bytes()).decode()
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": context,
                    "clusters": [
                        {"name": context, "cluster": {"server": self.url, "certificate-authority-data": ca}}
                    ],
                    "users": [{"name": context, "user": {"token": TOKEN}}],
                    "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
                }
            )
        )
        return path


def unreachable_kubeconfig(folder: Path, context: str = "minikube") -> Path:
    """A kubeconfig whose API server is a loopback port nothing listens on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = folder / f"kubeconfig-unreachable-{context}"
    cluster = {"name": context, "cluster": {"server": f"http://127.0.0.1:{port}"}}
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": context,
                "clusters": [cluster],
                "users": [{"name": context, "user": {}}],
                "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
            }
        )
    )
    return path


def release_secret(
    name: str,
    namespace: str,
    version: int,
    status: str,
    description: str = "Install complete",
    *,
    chart: tuple[str, str] = ("app", "3.13.0"),
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A release revision as Helm's secrets driver stores it (JSON, gzip, base64 in `data.release`)."""
    release = {
        "name": name,
        "namespace": namespace,
        "version": version,
        "info": {
            "first_deployed": "2026-12-01T10:00:00Z",
            "last_deployed": "2026-12-01T10:00:00Z",
            "deleted": "",
            "description": description,
            "status": status,
        },
        "chart": {"metadata": {"name": chart[0], "version": chart[1], "apiVersion": "v2"}},
        "config": config or {},
        "manifest": "",
    }
    return stored_release(release)


def stored_release(release: dict[str, Any]) -> dict[str, Any]:
    """The Secret helm's secrets driver stores a release object in (JSON, gzip, base64 in `data.release`,
    which the API server base64-encodes once more), labelled as helm labels it."""
    name, namespace, version = release["name"], release["namespace"], release["version"]
    status = release["info"]["status"]
    stored = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {
            "name": f"sh.helm.release.v1.{name}.v{version}",
            "namespace": namespace,
            "labels": {"name": name, "owner": "helm", "status": status, "version": str(version)},
        },
        "data": {"release": base64.b64encode(stored.encode()).decode()},
    }


def plant_release(api: FakeApi, secret: dict[str, Any]) -> None:
    meta = secret["metadata"]
    api.objects[f"/api/v1/namespaces/{meta['namespace']}/secrets/{meta['name']}"] = secret


def two_cluster_kubeconfig(folder: Path, own: FakeApi, other: FakeApi, other_context: str) -> Path:
    """One kubeconfig with `minikube` (ArgoCD's cluster, current) and `other_context`, each its own fake."""
    config = json.loads(own.kubeconfig(folder).read_text())
    second = json.loads(other.kubeconfig(folder, other_context).read_text())
    for key in ("clusters", "users", "contexts"):
        config[key] += second[key]
    path = folder / "kubeconfig"
    path.write_text(json.dumps(config))
    return path


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            api.requests.append(
                Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
            )
            if not api.anonymous and self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._answer(401, {"kind": "Status", "message": "Unauthorized"})
            if (self.command, parts.path) in api.fail:
                status, message = api.fail[(self.command, parts.path)]
                return self._answer(status, {"kind": "Status", "message": message, "code": status})
            if parts.path == "/version":
                return self._answer(200, {"major": "1", "minor": "34", "gitVersion": "v1.34.0"})
            if self.command == "GET":
                if parts.path in api.objects:
                    return self._answer(200, api.objects[parts.path])
                prefix = parts.path + "/"
                items = [
                    o for p, o in api.objects.items() if p.startswith(prefix) and "/" not in p[len(prefix) :]
                ]
                if items or parts.path.endswith("s"):
                    selector = parse_qs(parts.query).get("labelSelector", [""])[0]
                    for term in filter(None, selector.split(",")):  # equality terms, ANDed
                        k, _, v = term.partition("=")
                        items = [o for o in items if o.get("metadata", {}).get("labels", {}).get(k) == v]
                    # Typed like the real server's (SecretList): client-go (helm) drops a plain List.
                    first = items[0] if items else {}
                    kind = f"{first['kind']}List" if first.get("kind") else "List"
                    listing = {"kind": kind, "apiVersion": first.get("apiVersion", "v1"), "items": items}
                    return self._answer(200, listing)
                return self._answer(404, {"kind": "Status", "message": "not found", "code": 404})
            if self.command == "PATCH":
                if self.headers.get("Content-Type") == "application/apply-patch+yaml":
                    if (
                        body.get("type") == "kubernetes.io/service-account-token"
                    ):  # the token controller's job
                        token = api.tokens.get("service-account-token", "minted-token")
                        body = {**body, "data": {"token": base64.b64encode(token.encode()).decode()}}
                    api.objects[parts.path] = body
                    return self._answer(200, body)
                if parts.path not in api.objects:
                    return self._answer(404, {"kind": "Status", "message": "not found", "code": 404})
                api.objects[parts.path] = {**api.objects[parts.path], **body}
                return self._answer(200, api.objects[parts.path])
            if self.command == "DELETE":
                if api.objects.pop(parts.path, None) is None:
                    return self._answer(404, {"kind": "Status", "message": "not found", "code": 404})
                return self._answer(200, {"kind": "Status", "status": "Success"})
            if self.command == "POST" and parts.path.endswith("/token"):
                ns_sa = "/".join(parts.path.split("/")[4:7:2])
                return self._answer(201, {"status": {"token": api.tokens.get(ns_sa, "minted-token")}})
            return self._answer(405, {"kind": "Status", "message": "not allowed"})

        do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _handle

    return Handler


@contextmanager
def serve_fake_api() -> Iterator[FakeApi]:
    api = FakeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
