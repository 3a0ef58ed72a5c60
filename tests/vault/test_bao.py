"""The OpenBao test servers start reliably when ports are contended (`pytest -n auto` on a loaded machine)."""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import hvac
import pytest

from .bao import BaoExited, BaoProcess, free_ports, start_dev_server, start_on_free_ports

pytestmark = pytest.mark.vault


class _AnotherServer(BaseHTTPRequestHandler):
    """Answers every GET with 200, as another test's OpenBao on a port we thought free would."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


def dev_process(home: Path, port: int, token: str) -> BaoProcess:
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


@pytest.fixture
def squatter() -> Iterator[int]:
    """A port taken after it was probed free, by a server that answers /v1/sys/health."""
    server = HTTPServer(("127.0.0.1", free_ports(2)), _AnotherServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


def test_an_answer_from_another_server_is_not_taken_for_ours(tmp_path: Path, squatter: int) -> None:
    server = dev_process(tmp_path, squatter, "t")
    try:
        with pytest.raises(BaoExited, match="address already in use"):
            server.start()
    finally:
        server.stop()


def test_start_moves_to_fresh_ports_when_the_probed_ones_were_taken(tmp_path: Path) -> None:
    token = "test-" + secrets.token_hex(8)
    taken: list[socket.socket] = []

    def make(port: int) -> BaoProcess:
        if not taken:  # someone binds the port between our probe and the server's bind
            grab = socket.socket()
            grab.bind(("127.0.0.1", port))
            grab.listen()
            taken.append(grab)
        return dev_process(tmp_path, port, token)

    try:
        port, server = start_on_free_ports(make)
        try:
            assert port != taken[0].getsockname()[1]
            assert hvac.Client(url=server.addr, token=token).auth.token.lookup_self()["data"]["policies"] == [
                "root"
            ]
        finally:
            server.stop()
    finally:
        taken[0].close()
    assert (tmp_path / "bao.log").read_text().count("address already in use") == 1


def test_attempts_are_bounded(tmp_path: Path) -> None:
    def never(port: int) -> BaoProcess:
        return BaoProcess(
            ["server", "-config", str(tmp_path / "missing.hcl")], f"http://127.0.0.1:{port}", tmp_path / "log"
        )

    with pytest.raises(RuntimeError, match="did not start in 2 attempts on fresh ports"):
        start_on_free_ports(never, attempts=2)


def test_dev_server_helper(tmp_path: Path) -> None:
    server = start_dev_server(tmp_path, "test-token")
    try:
        assert hvac.Client(url=server.addr, token="test-token").sys.is_initialized()
    finally:
        server.stop()
