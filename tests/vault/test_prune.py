"""Removing a service or an environment, against a real OpenBao shared by two platforms whose names look
alike.

`acme` and `acme-secrets` share one Vault and even their namespaces (NAMESPACE_PREFIX=acme), so every name
of `acme-secrets` starts with `acme-` and its roles are bound to `acme-<env>`: only the policies tell them
apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.cli import main

from .bao import Vault

pytestmark = pytest.mark.vault

ACME = 'VAULT_PATH_PREFIX=acme\nNAMESPACE_PREFIX=acme\nSERVICES="api web"\nENVIRONMENTS="dev qa prod"\n'
ACME_NOW = 'VAULT_PATH_PREFIX=acme\nNAMESPACE_PREFIX=acme\nSERVICES=api\nENVIRONMENTS="dev prod"\n'
OTHER = 'VAULT_PATH_PREFIX=acme-secrets\nNAMESPACE_PREFIX=acme\nSERVICES=billing\nENVIRONMENTS="dev qa"\n'
REMOVED = {"acme-web-dev", "acme-web-qa", "acme-web-prod", "acme-api-qa"}
OTHERS = {"acme-secrets-billing-dev", "acme-secrets-billing-qa"}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def provision(capsys: pytest.CaptureFixture[str], root: Path, ca_file: Path, *extra: str) -> dict[str, Any]:
    code, out, err = run(
        capsys,
        "vault",
        "provision",
        "-C",
        str(root),
        "--kubernetes-ca-file",
        str(ca_file),
        "-o",
        "json",
        *extra,
    )
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def roles_and_policies(vault: Vault) -> tuple[set[str], set[str]]:
    client = vault.client()
    return set(client.list("auth/kubernetes/role")["data"]["keys"]), set(
        client.sys.list_acl_policies()["data"]["keys"]
    )


@pytest.fixture
def platforms(
    vault_env: Vault, tmp_path: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, Path]:
    """Both platforms provisioned; then acme drops service `web` and environment `qa` from its .env."""
    acme, other = tmp_path / "acme", tmp_path / "other"
    for root, env in ((acme, ACME), (other, OTHER)):
        root.mkdir()
        (root / ".env").write_text(env)
        provision(capsys, root, ca_file)
    (acme / ".env").write_text(ACME_NOW)
    return acme, other


def test_leftovers_are_listed_reported_and_deleted_only_with_prune(
    vault_env: Vault, platforms: tuple[Path, Path], ca_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acme, other = platforms
    roles, policies = roles_and_policies(vault_env)
    assert roles >= REMOVED | OTHERS and policies >= REMOVED | OTHERS

    # provision: listed as stale, nothing deleted, and it does not say all is well.
    code, _, err = run(capsys, "vault", "provision", "-C", str(acme), "--kubernetes-ca-file", str(ca_file))
    assert code == 0, err
    for name in REMOVED:
        assert f"stale (not deleted) role {name} (" in err and f"stale (not deleted) policy {name} (" in err
    assert "stale (not deleted) role acme-web-dev (service 'web' is not in SERVICES)" in err
    assert "stale (not deleted) role acme-api-qa (environment 'qa' is not in ENVIRONMENTS)" in err
    assert "acme-secrets" not in err
    assert "Nothing to do" not in err and "--prune" in err and "secrets (KV data) are never deleted" in err
    result = provision(capsys, acme, ca_file)
    assert result["writes"] == 0
    assert {s["name"] for s in result["plan"]["stale"]} == REMOVED
    assert {s["action"] for s in result["plan"]["stale"]} == {"kept"}
    assert roles_and_policies(vault_env) == (roles, policies)

    # check: a stale role is a live grant, so it fails; the other platform is untouched and fine.
    code, out, err = run(capsys, "vault", "check", "-C", str(acme), "-o", "json")
    assert code == 1
    report = json.loads(out)
    assert report["leaks"] == [] and report["failures"] == []
    assert (
        {s["name"] for s in report["stale_roles"]} == {s["name"] for s in report["stale_policies"]} == REMOVED
    )
    assert "4 stale role(s)" in err
    code, _, err = run(capsys, "vault", "check", "-C", str(acme))
    assert code == 1
    assert (
        "warning: stale role acme-web-prod (service 'web' is not in SERVICES): it still lets ServiceAccount"
        " web in acme-prod log in" in err
    )
    assert "acme-secrets" not in err
    assert run(capsys, "vault", "check", "-C", str(other))[0] == 0

    # --dry-run --prune shows the deletions and deletes nothing.
    preview = provision(capsys, acme, ca_file, "--dry-run", "--prune")
    deletions = [(s["kind"], s["name"]) for s in preview["plan"]["steps"] if s["action"] == "delete"]
    assert sorted(deletions) == sorted([("role", n) for n in REMOVED] + [("policy", n) for n in REMOVED])
    assert len(preview["plan"]["steps"]) == 8
    code, _, err = run(
        capsys,
        "vault",
        "provision",
        "-C",
        str(acme),
        "--kubernetes-ca-file",
        str(ca_file),
        "--dry-run",
        "--prune",
    )
    assert code == 0
    assert (
        "- delete role acme-web-qa (service 'web' is not in SERVICES and environment 'qa' is not in"
        " ENVIRONMENTS)" in err
    )
    assert "- delete policy acme-api-qa" in err and "stale (not deleted)" not in err
    assert roles_and_policies(vault_env) == (roles, policies)

    # --prune deletes exactly acme's leftovers: not acme-secrets' look-alikes, not a single secret.
    assert provision(capsys, acme, ca_file, "--prune")["writes"] == 8
    after_roles, after_policies = roles_and_policies(vault_env)
    assert after_roles == roles - REMOVED and after_policies == policies - REMOVED
    assert after_roles >= OTHERS and after_policies >= OTHERS
    kv = vault_env.client().secrets.kv.v2
    assert set(kv.list_secrets("acme")["data"]["keys"]) == {"api/", "web/"}
    assert (
        kv.read_secret("acme/web/qa/config", raise_on_deleted_version=True)["data"]["data"]["ENVIRONMENT"]
        == "qa"
    )

    for root in (acme, other):
        code, _, err = run(capsys, "vault", "check", "-C", str(root))
        assert code == 0, err
        again = provision(capsys, root, ca_file)
        assert again["writes"] == 0 and again["plan"]["stale"] == []


def test_prune_needs_the_right_to_delete(
    vault_env: Vault,
    platforms: tuple[Path, Path],
    ca_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acme, _ = platforms
    client = vault_env.client()
    client.sys.create_or_update_acl_policy(
        "no-delete",
        'path "sys/*" { capabilities = ["read", "list"] }\n'
        'path "auth/*" { capabilities = ["read", "list", "create", "update"] }\n'
        'path "secret/*" { capabilities = ["read", "list"] }\n',
    )
    monkeypatch.setenv(
        "VAULT_TOKEN", client.auth.token.create(policies=["no-delete"], ttl="5m")["auth"]["client_token"]
    )
    roles, policies = roles_and_policies(vault_env)
    code, _, err = run(capsys, "vault", "provision", "-C", str(acme), "--prune")
    assert code == 2  # Vault refused: a tool error, never 1 (a finding)
    assert (
        "the token lacks rights for auth/kubernetes/role/acme-api-qa" in err and "nothing was changed" in err
    )
    assert roles_and_policies(vault_env) == (roles, policies)
