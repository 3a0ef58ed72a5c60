"""Fixtures: real OpenBao servers for the Vault tests, and a stand-in Kubernetes TokenReview endpoint.

The dev server is started once per test session (per xdist worker) and emptied before each test that uses
it, so every test starts from a fresh dev Vault (only `secret/` mounted, as in dev mode) in ~20 ms.
Root tokens go to the server through the environment (BAO_DEV_ROOT_TOKEN_ID), to hvac as an argument and to
our CLI through VAULT_TOKEN: never on a command line.
"""

from __future__ import annotations

import secrets
import signal
import threading
from collections.abc import Iterator
from http.server import HTTPServer
from pathlib import Path

import pytest

from .bao import (
    BaoProcess,
    PersistentBao,
    TokenReview,
    Vault,
    reset_dev_vault,
    start_dev_server,
    start_persistent,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def vault_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    token = "test-" + secrets.token_hex(12)
    server = start_dev_server(tmp_path_factory.mktemp("bao-home"), token)
    try:
        yield Vault(server.addr, token)
    finally:
        server.stop()


@pytest.fixture
def vault(vault_server: Vault) -> Vault:
    """The session's dev server, emptied for this test."""
    reset_dev_vault(vault_server.client())
    return vault_server


@pytest.fixture
def vault_env(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> Vault:
    """The dev server, with VAULT_ADDR/VAULT_TOKEN set for the CLI."""
    vault.env(monkeypatch)
    return vault


@pytest.fixture
def ca_file() -> Path:
    """A PEM CA certificate (any PEM does outside a cluster; a real setup uses the cluster's)."""
    return DATA / "test-ca.pem"


@pytest.fixture
def persistent_bao(tmp_path: Path) -> Iterator[tuple[PersistentBao, BaoProcess]]:
    """A raft-backed OpenBao, started but not initialised. (OpenBao 2.x has no `file` storage.)"""
    bao, server = start_persistent(tmp_path / "bao")
    try:
        yield bao, server
    finally:
        server.stop(signal.SIGKILL)


@pytest.fixture
def kube_api() -> Iterator[str]:
    """URL of the stand-in API server (Vault's kubernetes_host in tests)."""
    server = HTTPServer(("127.0.0.1", 0), TokenReview)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
