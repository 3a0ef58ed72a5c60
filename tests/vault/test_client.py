"""Reaching Vault: address and token from the environment, and failures turned into clear messages."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path

import hvac
import pytest

from gitops_poc.cli import main
from gitops_poc.vault.client import (
    VaultLoginMissing,
    VaultPermissionDenied,
    VaultRequestFailed,
    VaultSealed,
    VaultUnreachable,
    client_from_env,
    make_client,
    preflight,
    read_token,
    target_from_env,
    vault_errors,
)

from .bao import BaoProcess, PersistentBao, Vault, free_ports


def test_address_must_be_set_and_be_http() -> None:
    with pytest.raises(VaultLoginMissing, match="VAULT_ADDR is not set"):
        target_from_env({})
    with pytest.raises(VaultLoginMissing, match="is not an http"):
        target_from_env({"VAULT_ADDR": "127.0.0.1:8200"})
    assert (
        target_from_env({"VAULT_ADDR": "https://vault.example:8200/", "VAULT_CACERT": "/ca.pem"}).verify
        == "/ca.pem"
    )
    assert target_from_env({"VAULT_ADDR": "https://v:8200", "VAULT_SKIP_VERIFY": "true"}).verify is False


def test_token_sources(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    assert read_token({"VAULT_TOKEN": "from-env"}, None) == "from-env"
    assert read_token({"VAULT_TOKEN": "from-env"}, token_file) == "from-file"  # the explicit option wins
    assert read_token({}, Path("-"), io.StringIO("from-stdin\n")) == "from-stdin"
    (tmp_path / ".vault-token").write_text("from-helper")
    assert read_token({"HOME": str(tmp_path)}, None) == "from-helper"
    with pytest.raises(VaultLoginMissing, match="no Vault token"):
        read_token({"HOME": str(tmp_path / "empty")}, None)
    with pytest.raises(VaultLoginMissing, match="is empty"):
        read_token({}, Path("-"), io.StringIO("\n"))
    with pytest.raises(VaultLoginMissing, match="cannot read the token file"):
        read_token({}, tmp_path / "missing")
    token_file.write_text("first-line\r\nsecond-line\n")
    assert read_token({}, token_file) == "first-line"  # only the first line; CRLF endings are fine
    assert read_token({"VAULT_TOKEN": " from-env \n"}, None) == "from-env"
    with pytest.raises(VaultLoginMissing, match="VAULT_TOKEN contains spaces, control"):
        read_token({"VAULT_TOKEN": "from\renv"}, None)


BAD_TOKENS = {
    "control character": "s.abc\x1bdef",
    "space inside": "s.abc def",
    "tab inside": "s.abc\tdef",
    "non-ASCII": "s.abcdéf",
}


@pytest.mark.parametrize("token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_a_token_that_cannot_be_a_header_is_refused_without_showing_it(tmp_path: Path, token: str) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    for environ, path in (({}, token_file), ({"VAULT_TOKEN": token}, None), ({"HOME": str(tmp_path)}, None)):
        if path is None and "HOME" in environ:
            (tmp_path / ".vault-token").write_text(token)
        with pytest.raises(
            VaultLoginMissing, match="contains spaces, control or non-ASCII characters"
        ) as caught:
            read_token(environ, path)
        assert "abc" not in str(caught.value)


TWO_LINES_SECRET = "s.two-line-token-0123"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            f"{TWO_LINES_SECRET}\nsecond-line-9876\n",
            "does not accept the token",
        ),  # first line used, refused by Vault
        (
            f"s.two\x07{TWO_LINES_SECRET}\nsecond-line-9876\n",
            "contains spaces, control or non-ASCII characters",
        ),
    ],
    ids=["two lines", "control character"],
)
def test_cli_with_a_bad_token_file_never_prints_the_token(
    vault: Vault,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    content: str,
    message: str,
) -> None:
    monkeypatch.setenv("VAULT_ADDR", vault.addr)
    token_file = tmp_path / "token"
    token_file.write_text(content)
    code = main(["vault", "check", "-C", str(tmp_path), "--token-file", str(token_file)])
    captured = capsys.readouterr()
    assert code in (1, 2) and message in captured.err, captured.err
    for part in (TWO_LINES_SECRET, "second-line-9876", "two-line-token"):
        assert part not in captured.out + captured.err


def test_any_request_failure_is_a_clean_error_without_the_token() -> None:
    """requests' InvalidHeader quotes the header value: the token. (read_token refuses such tokens first.)"""
    client = make_client(
        target_from_env({"VAULT_ADDR": f"http://127.0.0.1:{free_ports(1)}"}), "s.secret-part\nX"
    )
    with (
        pytest.raises(VaultRequestFailed, match="failed while checking the token .InvalidHeader.") as caught,
        vault_errors(client, "checking the token"),
    ):
        client.auth.token.lookup_self()
    assert "secret-part" not in str(caught.value)


class _RedirectLoop(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.path + "x")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_misbehaving_server_is_a_clean_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server = HTTPServer(("127.0.0.1", 0), _RedirectLoop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("VAULT_ADDR", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.setenv("VAULT_TOKEN", "s.redirected-token")
        assert (
            main(["vault", "check", "-C", str(tmp_path)]) == 2
        )  # not 3 (a crash) nor 1 (a finding): Vault failed
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err
    assert "failed while checking its health (TooManyRedirects)" in err
    assert "redirected-token" not in err


def test_cli_without_address_or_token_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["vault", "check", "-C", str(tmp_path)]) == 2
    assert "VAULT_ADDR is not set" in capsys.readouterr().err


def test_unreachable_vault_names_the_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    addr = f"http://127.0.0.1:{free_ports(1)}"  # nothing listens there
    with pytest.raises(VaultUnreachable, match=f"cannot reach Vault at {addr}"):
        preflight(client_from_env({"VAULT_ADDR": addr, "VAULT_TOKEN": "t"}))
    monkeypatch.setenv("VAULT_ADDR", addr)
    monkeypatch.setenv("VAULT_TOKEN", "t")
    assert main(["vault", "provision", "-C", str(tmp_path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach Vault at {addr}" in err and "VAULT_ADDR" in err


@pytest.mark.vault
def test_uninitialised_and_sealed_vault(persistent_bao: tuple[PersistentBao, BaoProcess]) -> None:
    bao, _ = persistent_bao
    with pytest.raises(VaultSealed, match=f"Vault at {bao.addr} is not initialised"):
        preflight(client_from_env({"VAULT_ADDR": bao.addr, "VAULT_TOKEN": "t"}))
    root = hvac.Client(url=bao.addr).sys.initialize(secret_shares=1, secret_threshold=1)["root_token"]
    client = client_from_env({"VAULT_ADDR": bao.addr, "VAULT_TOKEN": root})
    with pytest.raises(VaultSealed, match=f"Vault at {bao.addr} is sealed"):
        preflight(client)


@pytest.mark.vault
def test_token_checks(vault: Vault) -> None:
    good = client_from_env({"VAULT_ADDR": vault.addr, "VAULT_TOKEN": vault.token})
    assert preflight(good).policies == ("root",)
    bad = client_from_env({"VAULT_ADDR": vault.addr, "VAULT_TOKEN": "wrong"})
    with pytest.raises(VaultPermissionDenied, match="does not accept the token") as caught:
        preflight(bad)
    assert "wrong" not in str(caught.value)


class _SlowOrFast(BaseHTTPRequestHandler):
    """/slow holds the answer back for a second; anything else answers at once."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/slow":
            threading.Event().wait(1.0)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_deadline_session_reuses_one_worker_and_replaces_a_stuck_one() -> None:
    from gitops_poc.httpguard import DeadlineExceeded, GuardedSession

    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowOrFast)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    session = GuardedSession(url, service="vault", deadline=0.3)
    try:
        before = {t.ident for t in threading.enumerate() if t.name == "vault-request"}
        for _ in range(50):
            assert session.get(f"{url}/fast", timeout=5).status_code == 200
        workers = {t.ident for t in threading.enumerate() if t.name == "vault-request"} - before
        assert len(workers) == 1  # one thread served all 50, none started per request
        with pytest.raises(DeadlineExceeded, match="no complete answer within 0.3 s"):
            session.get(f"{url}/slow", timeout=5)
        # The stuck worker is left behind: the next request does not queue behind it.
        assert session.get(f"{url}/fast", timeout=5).status_code == 200
    finally:
        session.close()
        server.shutdown()
        server.server_close()
