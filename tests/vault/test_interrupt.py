"""Provision interrupted by the server going away, then finished by a re-run on the same storage."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import hvac
import pytest

from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.platform import Platform
from gitops_poc.vault.apply import apply_vault
from gitops_poc.vault.client import VaultUnreachable
from gitops_poc.vault.model import SecretSeed
from gitops_poc.vault.provision_plan import ProvisionOptions, plan_vault
from gitops_poc.vault.secrets_file import build_seeds
from gitops_poc.vault.state import read_vault_state

from .bao import BaoProcess, PersistentBao, init_and_unseal

pytestmark = pytest.mark.vault

PLATFORM = Platform(load_config(None, {}))
STOP_AFTER = 20  # writes done before the server is killed


def all_secrets(client: hvac.Client) -> dict[str, tuple[int, dict[str, str]]]:
    """path -> (current version, data) for every platform secret that exists."""
    found = {}
    for service in PLATFORM.services:
        for env in PLATFORM.environments:
            path = PLATFORM.vault_secret_path(service, env)
            meta = client.read(f"secret/metadata/{path}")
            if meta:
                data = client.secrets.kv.v2.read_secret(path, raise_on_deleted_version=True)["data"]["data"]
                found[path] = (meta["data"]["current_version"], data)
    return found


def test_interrupted_provision_is_finished_by_a_rerun(
    persistent_bao: tuple[PersistentBao, BaoProcess],
    ca_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bao, server = persistent_bao
    token, unseal_key = init_and_unseal(bao)
    client = hvac.Client(url=bao.addr, token=token, timeout=10)
    options = ProvisionOptions(kubernetes_ca_cert=ca_file.read_text())
    plan = plan_vault(PLATFORM, read_vault_state(client, PLATFORM), build_seeds(PLATFORM), options)
    # A fresh server has nothing: the KV mount and the auth method are planned too.
    assert [type(s).__name__ for s in plan.steps[:3]] == [
        "EnableKv",
        "EnableKubernetesAuth",
        "ConfigureKubernetesAuth",
    ]
    assert len(plan) == 48

    def crash(done: int, total: int, step: object) -> None:
        if done == STOP_AFTER:
            server.stop(signal.SIGKILL)  # the server dies between two writes, as in a crash

    with pytest.raises(VaultUnreachable) as caught:
        apply_vault(plan, client, crash)
    message = str(caught.value)
    assert f"cannot reach Vault at {bao.addr}" in message
    assert f"{STOP_AFTER} of 48 change(s) were applied" in message and "re-run" in message

    # Same storage, new process: sealed until unsealed again.
    restarted = bao.process().start()
    try:
        monkeypatch.setenv("VAULT_ADDR", bao.addr)
        monkeypatch.setenv("VAULT_TOKEN", token)
        args = ["vault", "provision", "-C", str(tmp_path), "--kubernetes-ca-file", str(ca_file), "-o", "json"]
        assert main(args) == 2
        assert f"Vault at {bao.addr} is sealed" in capsys.readouterr().err

        client.sys.submit_unseal_key(unseal_key)
        bao.wait_active(client)
        before = all_secrets(client)
        written_before = [s.path for s in plan.steps[:STOP_AFTER] if isinstance(s, SecretSeed)]
        assert written_before and set(written_before) == set(before)

        assert main(args) == 0, capsys.readouterr().err
        rerun = json.loads(capsys.readouterr().out)
        assert rerun["writes"] == 48 - STOP_AFTER  # exactly what was missing
        after = all_secrets(client)
        assert len(after) == 15
        for path, (version, data) in before.items():
            assert after[path] == (version, data)  # untouched: same version, same values

        assert main(args) == 0
        assert json.loads(capsys.readouterr().out)["writes"] == 0
        assert main(["vault", "check", "-C", str(tmp_path), "-o", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["ok"] is True
    finally:
        restarted.stop(signal.SIGKILL)
