"""Reaching Vault: address and token from the environment, and failures turned into clear messages."""

from __future__ import annotations

import io
from pathlib import Path

import hvac
import pytest

from gitops_poc.cli import main
from gitops_poc.vault.client import (
    VaultLoginMissing,
    VaultPermissionDenied,
    VaultSealed,
    VaultUnreachable,
    client_from_env,
    preflight,
    read_token,
    target_from_env,
)

from .bao import BaoProcess, PersistentBao, Vault, free_ports


def test_address_must_be_set_and_be_http() -> None:
    with pytest.raises(VaultLoginMissing, match="VAULT_ADDR is not set"):
        target_from_env({})
    with pytest.raises(VaultLoginMissing, match="is not an http"):
        target_from_env({"VAULT_ADDR": "127.0.0.1:8200"})
    assert target_from_env({"VAULT_ADDR": "https://vault.example:8200/", "VAULT_CACERT": "/ca.pem"}).verify == "/ca.pem"
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


def test_cli_without_address_or_token_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vault", "check", "-C", str(tmp_path)]) == 2
    assert "VAULT_ADDR is not set" in capsys.readouterr().err


def test_unreachable_vault_names_the_address(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    addr = f"http://127.0.0.1:{free_ports(1)}"  # nothing listens there
    with pytest.raises(VaultUnreachable, match=f"cannot reach Vault at {addr}"):
        preflight(client_from_env({"VAULT_ADDR": addr, "VAULT_TOKEN": "t"}))
    monkeypatch.setenv("VAULT_ADDR", addr)
    monkeypatch.setenv("VAULT_TOKEN", "t")
    assert main(["vault", "provision", "-C", str(tmp_path), "--dry-run"]) == 1
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
