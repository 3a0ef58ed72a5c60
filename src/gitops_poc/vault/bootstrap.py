"""Initialise (once) and unseal a standalone Vault through its API, keeping the keys in a private file.

The keys file (mode 0600, written atomically, git-ignored) holds the unseal key and the root token; nothing
is printed or logged. A re-run finds Vault initialised and only unseals it when it is sealed (after a pod
restart). In dev mode the root token is the one the chart was given, kept in the same file.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_poc import fileio
from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.redact import remember
from gitops_poc.vault.client import vault_errors

KEYS_FILE = ".vault-keys.json"


@dataclass(frozen=True)
class BootstrapReport:
    initialised: bool  # this run initialised Vault
    unsealed: bool  # this run unsealed it
    keys_file: Path

    def describe(self) -> str:
        done = [w for w, flag in (("initialised", self.initialised), ("unsealed", self.unsealed)) if flag]
        return f"Vault {' and '.join(done)}" if done else "Vault already initialised and unsealed"


def _remember_keys(data: object) -> None:
    if isinstance(data, dict):
        keys = data.get("unseal_keys")
        remember([*(k for k in keys if isinstance(k, str))] if isinstance(keys, list) else [])
        remember([data["root_token"]] if isinstance(data.get("root_token"), str) else [])


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """0600 from the first byte, renamed into place."""
    _remember_keys(data)
    fileio.write_atomic(path, json.dumps(data), private=True)


def read_keys(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(fileio.read_bytes(path, fileio.JSON_STATE))
    except fileio.FileMissing:
        raise UsageError(
            f"{path}: no Vault keys file; Vault was initialised elsewhere. Put its unseal key and root token "
            'there as {"unseal_keys": [...], "root_token": "..."} (mode 0600)'
        ) from None
    except ValueError as exc:
        raise UsageError(f"{path}: cannot read the Vault keys file: {type(exc).__name__}") from None
    _remember_keys(data)
    if not isinstance(data, dict) or not isinstance(data.get("root_token"), str):
        raise UsageError(f"{path}: key root_token is missing (expected unseal_keys and root_token)")
    return data


def dev_root_token(path: Path) -> str:
    """The dev server's root token: kept from an earlier run, else a new random one (saved first)."""
    if path.is_file():
        return str(read_keys(path)["root_token"])
    token = "dev-" + secrets.token_urlsafe(24)
    write_private_json(path, {"unseal_keys": [], "root_token": token, "dev_mode": True})
    return token


def bootstrap_vault(client: Any, keys_file: Path) -> BootstrapReport:
    """`PUT /v1/sys/init` when Vault is not initialised, then `PUT /v1/sys/unseal` while it is sealed."""
    initialised = unsealed = False
    with vault_errors(client, "reading the seal status"):
        status = client.sys.read_seal_status()
    if not status.get("initialized"):
        if keys_file.exists():
            raise GitopsError(
                f"Vault at {client.url} is not initialised but {keys_file} exists (keys of another Vault?); "
                "move it away to initialise this one"
            )
        with vault_errors(client, "initialising"):
            result = client.sys.initialize(secret_shares=1, secret_threshold=1)
        write_private_json(keys_file, {"unseal_keys": result["keys"], "root_token": result["root_token"]})
        initialised = True
        status = {"sealed": True}
    if status.get("sealed"):
        keys = read_keys(keys_file).get("unseal_keys") or []
        for key in keys:
            with vault_errors(client, "unsealing"):
                answer = client.sys.submit_unseal_key(key)
            if not answer.get("sealed"):
                break
        else:
            raise GitopsError(f"Vault at {client.url} is still sealed after the keys in {keys_file}")
        unsealed = True
    return BootstrapReport(initialised, unsealed, keys_file)
