"""`apply_vault`: carry out a VaultPlan through hvac, one HTTP request per step, on one connection.

Before the first write, `sys/capabilities-self` checks the token may do every step, so a token
without rights changes nothing. Every step is idempotent, and secrets are written with check-and-set:
a step interrupted half-way (Vault stopped, connection lost) is simply planned again by the next run,
and a secret created meanwhile by someone else is kept, never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import hvac
import hvac.exceptions

from gitops_poc.errors import UsageError
from gitops_poc.vault.client import VaultError, VaultPermissionDenied, capabilities_self, vault_errors
from gitops_poc.vault.model import (
    CA_REQUIRED,
    Change,
    ConfigureKubernetesAuth,
    DeletePolicy,
    DeleteRole,
    EnableKubernetesAuth,
    EnableKv,
    Policy,
    Role,
    Step,
    VaultPlan,
)

Progress = Callable[[int, int, Step], None]
WRITE = frozenset({"create", "update", "root"})
DELETE = frozenset({"delete", "root"})


@dataclass
class ApplyReport:
    written: list[Step] = field(default_factory=list)
    kept: list[tuple[Step, str]] = field(default_factory=list)  # secret steps skipped by check-and-set

    @property
    def writes(self) -> int:
        return len(self.written)


def required_rights(step: Step) -> tuple[str, frozenset[str]]:
    """The API path a step writes, and the capabilities that allow it (any one of them, plus sudo where
    noted)."""
    if isinstance(step, EnableKv):
        return f"sys/mounts/{step.mount}", WRITE
    if isinstance(step, EnableKubernetesAuth):
        return f"sys/auth/{step.mount}", WRITE  # also needs sudo, checked below
    if isinstance(step, ConfigureKubernetesAuth):
        return f"auth/{step.mount}/config", WRITE
    if isinstance(step, Policy):
        return f"sys/policies/acl/{step.name}", WRITE
    if isinstance(step, Role):
        return f"auth/{step.mount}/role/{step.name}", WRITE
    if isinstance(step, DeleteRole):
        return f"auth/{step.mount}/role/{step.name}", DELETE
    if isinstance(step, DeletePolicy):
        return f"sys/policies/acl/{step.name}", DELETE
    needed = "create" if step.change is Change.CREATE else "update"
    return f"{step.mount}/data/{step.path}", frozenset({needed, "root"})


def missing_rights(plan: VaultPlan, client: hvac.Client) -> list[str]:
    """Paths the token may not write: POST /v1/sys/capabilities-self (one call per 200 paths)."""
    wanted = [required_rights(step) for step in plan]
    paths = sorted({path for path, _ in wanted})
    if not paths:
        return []
    with vault_errors(client, "checking the token's capabilities (sys/capabilities-self)"):
        granted = capabilities_self(client, paths)
    missing = []
    for step, (path, allowed) in zip(plan, wanted, strict=True):
        caps = granted.get(path, set())
        ok = bool(caps & allowed) and (
            not isinstance(step, EnableKubernetesAuth) or bool(caps & {"sudo", "root"})
        )
        if not ok and path not in missing:
            missing.append(path)
    return missing


def _write(client: hvac.Client, step: Step) -> str | None:
    """Do one step; returns a reason when a secret was kept instead of written."""
    if isinstance(step, EnableKv):
        # POST /v1/sys/mounts/{mount}
        client.sys.enable_secrets_engine("kv", path=step.mount, options={"version": "2"})
    elif isinstance(step, EnableKubernetesAuth):
        # POST /v1/sys/auth/{mount}
        client.sys.enable_auth_method("kubernetes", path=step.mount)
    elif isinstance(step, ConfigureKubernetesAuth):
        # POST /v1/auth/{mount}/config
        client.write_data(
            f"auth/{step.mount}/config",
            data={"kubernetes_host": step.host, "kubernetes_ca_cert": step.ca_cert},
        )
    elif isinstance(step, DeleteRole):
        # DELETE /v1/auth/{mount}/role/{name} (idempotent: gone already is fine)
        client.delete(f"auth/{step.mount}/role/{step.name}")
    elif isinstance(step, DeletePolicy):
        # DELETE /v1/sys/policies/acl/{name}
        client.delete(f"sys/policies/acl/{step.name}")
    elif isinstance(step, Policy):
        # PUT /v1/sys/policies/acl/{name}
        client.sys.create_or_update_acl_policy(step.name, step.hcl)
    elif isinstance(step, Role):
        # POST /v1/auth/{mount}/role/{name}; fields not sent keep their values, so every managed one is sent.
        client.write_data(
            f"auth/{step.mount}/role/{step.name}",
            data={
                "bound_service_account_names": [step.service_account],
                "bound_service_account_namespaces": [step.namespace],
                "bound_service_account_namespace_selector": "",
                "token_policies": list(step.policies),
                "token_no_default_policy": False,
                "audience": step.audience,
                "token_ttl": step.ttl,
            },
        )
    else:
        # POST /v1/{mount}/data/{path} with options.cas: 0 = only if absent, N = only if still at version N.
        try:
            client.adapter.post(
                f"/v1/{step.mount}/data/{step.path}",
                json={"options": {"cas": step.version}, "data": step.values.as_dict()},
            )
        except hvac.exceptions.InvalidRequest as exc:
            if any("check-and-set" in e for e in exc.errors or []):
                if step.change is Change.CREATE:
                    return "created by someone else meanwhile; kept as it is"
                return "changed by someone else since it was read; kept as it is"
            raise
    return None


def apply_vault(plan: VaultPlan, client: hvac.Client, progress: Progress | None = None) -> ApplyReport:
    """Apply every step in order; stops at the first failure with a message saying how far it got."""
    report = ApplyReport()
    if not plan.steps:
        return report
    if any(isinstance(s, ConfigureKubernetesAuth) and s.ca_cert is None for s in plan):
        raise UsageError(
            f"the plan has no CA for the kubernetes auth method ({CA_REQUIRED}); nothing was changed"
        )
    if missing := missing_rights(plan, client):
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise VaultPermissionDenied(f"the token lacks rights for {shown}; nothing was changed")
    total = len(plan.steps)
    for index, step in enumerate(plan.steps, start=1):
        try:
            with vault_errors(client, step.describe()):
                kept = _write(client, step)
        except VaultError as exc:
            done = report.writes
            message = (
                f"{exc} ({done} of {total} change(s) were applied before this; "
                "re-run `gitops-poc vault provision`: it does only what is still missing)"
            )
            exc.args = (message,)
            raise
        if kept is None:
            report.written.append(step)
        else:
            report.kept.append((step, kept))
        if progress is not None:
            progress(index, total, step)
    return report
