"""Initialise and unseal a real OpenBao with on-disk storage (what the standalone Vault in minikube is)."""

from __future__ import annotations

import stat
from pathlib import Path

import hvac
import pytest

from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.vault.bootstrap import bootstrap_vault, dev_root_token, read_keys

from .bao import start_persistent

pytestmark = pytest.mark.vault


def test_initialise_unseal_then_rerun_and_restart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bao, server = start_persistent(tmp_path / "bao")
    keys = tmp_path / "root" / ".vault-keys.json"
    try:
        client = hvac.Client(url=bao.addr, timeout=10)
        report = bootstrap_vault(client, keys)
        assert (report.initialised, report.unsealed) == (True, True)
        assert stat.S_IMODE(keys.stat().st_mode) == 0o600
        data = read_keys(keys)
        bao.wait_active(client)
        assert hvac.Client(url=bao.addr, token=data["root_token"]).is_authenticated()
        # A second run changes nothing.
        again = bootstrap_vault(client, keys)
        assert (again.initialised, again.unsealed) == (False, False)
        assert read_keys(keys) == data
    finally:
        server.stop()
    # After a restart Vault is sealed again: a re-run unseals it with the kept key, without re-initialising.
    restarted = bao.process()
    restarted.start()
    try:
        client = hvac.Client(url=bao.addr, timeout=10)
        assert client.sys.read_seal_status()["sealed"]
        report = bootstrap_vault(client, keys)
        assert (report.initialised, report.unsealed) == (False, True)
        assert not client.sys.read_seal_status()["sealed"]
    finally:
        restarted.stop()
    printed = capsys.readouterr()
    assert data["root_token"] not in printed.out + printed.err


def test_missing_keys_file_for_a_sealed_vault_is_a_clear_error(tmp_path: Path) -> None:
    bao, server = start_persistent(tmp_path / "bao")
    try:
        client = hvac.Client(url=bao.addr, timeout=10)
        client.sys.initialize(secret_shares=1, secret_threshold=1)
        with pytest.raises(UsageError, match="no Vault keys file"):
            bootstrap_vault(client, tmp_path / "absent.json")
    finally:
        server.stop()


def test_keys_of_another_vault_are_not_overwritten(tmp_path: Path) -> None:
    bao, server = start_persistent(tmp_path / "bao")
    keys = tmp_path / ".vault-keys.json"
    keys.write_text('{"root_token": "other", "unseal_keys": ["x"]}')
    try:
        with pytest.raises(GitopsError, match="not initialised but"):
            bootstrap_vault(hvac.Client(url=bao.addr, timeout=10), keys)
        assert "other" in keys.read_text()
    finally:
        server.stop()


def test_dev_root_token_is_random_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / ".vault-keys.json"
    first = dev_root_token(path)
    assert first.startswith("dev-") and len(first) > 20 and first != "dev-root"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dev_root_token(path) == first
