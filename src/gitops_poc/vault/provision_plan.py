"""`plan_vault`: the difference between what Vault holds and what the platform needs, as frozen steps.

Pure: no I/O. Only differences become steps, so a second run of a complete Vault plans nothing. Existing
secrets are never planned for writing unless overwriting was asked for, and then only the secrets file's
own keys are laid over what is there. Roles and policies of removed services or environments are listed
as stale, and deleted only when pruning was asked for; secrets are never deleted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from gitops_poc.digits import natural
from gitops_poc.errors import ToolError, UsageError
from gitops_poc.platform import (
    IN_CLUSTER_SERVER,
    VAULT_AUDIENCE,
    VAULT_KUBERNETES_AUTH_MOUNT,
    VAULT_KV_MOUNT,
    Platform,
)
from gitops_poc.vault.model import (
    Change,
    ConfigureKubernetesAuth,
    DeletePolicy,
    DeleteRole,
    EnableKubernetesAuth,
    EnableKv,
    Hidden,
    Leftover,
    Mount,
    Policy,
    Role,
    RoleState,
    SecretSeed,
    Step,
    VaultPlan,
    VaultState,
)
from gitops_poc.vault.policy import policy_hcl
from gitops_poc.vault.secrets_file import SeedValues
from gitops_poc.vault.stale import find_leftovers_on_mounts

__all__ = [
    "ProvisionOptions",
    "VaultConflict",
    "parse_duration",
    "parse_token_ttl",
    "plan_vault",
    "policy_hcl",
]

DEFAULT_TOKEN_TTL = 3600  # the original's 1h
_DURATION = re.compile(r"(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?\Z")


class VaultConflict(ToolError):
    """Vault holds something at a path the platform needs, of a kind it cannot use; nothing was changed.
    Exit 2: the command cannot do its job (1 is `vault check`'s finding)."""


def parse_duration(text: str) -> int:
    """'1h', '90m', '1h30m', '45s' or plain seconds -> seconds."""
    text = text.strip()
    if (seconds := natural(text)) is not None:
        return seconds
    match = _DURATION.match(text)
    if not text or not match or not any(match.groups()):
        raise UsageError(f"{text!r} is not a duration (examples: 1h, 30m, 1h30m, 3600)")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def parse_token_ttl(text: str) -> int:
    """`--token-ttl`: a positive duration (0 would mean "Vault's default", not what anyone typing 0 means)."""
    try:
        seconds = parse_duration(text)
    except UsageError as exc:
        raise UsageError(f"--token-ttl {exc}") from None
    if seconds <= 0:
        raise UsageError(
            f"--token-ttl {text.strip()!r} is not a positive duration (examples: 1h, 30m, 1h30m, 3600)"
        )
    return seconds


def check_kubernetes_host(text: str) -> str:
    """`--kubernetes-host`: an http(s):// URL with a host (Vault sends TokenReviews there)."""
    parts = urlsplit(text)
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number
        valid = False
    if not valid or any(c.isspace() for c in text):
        raise UsageError(
            f"--kubernetes-host {text!r} is not an http(s):// URL of the API server (example:"
            f" {IN_CLUSTER_SERVER})"
        )
    return text


def format_duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return text or "0s"


@dataclass(frozen=True)
class ClusterAuthTarget:
    """Another cluster's kubernetes auth mount: its API server and CA (from its kube context)."""

    mount: str
    host: str
    ca_cert: str | None = field(repr=False)  # None: a dry run without the CA at hand


@dataclass(frozen=True)
class ProvisionOptions:
    # None (option omitted): keep what Vault has; with nothing there, the in-cluster host / an error for the
    # CA.
    kubernetes_host: str | None = None
    kubernetes_ca_cert: str | None = None
    token_ttl: int = DEFAULT_TOKEN_TTL
    overwrite_secrets: bool = False
    audience: str = VAULT_AUDIENCE
    auth_mount: str = VAULT_KUBERNETES_AUTH_MOUNT
    # A dry run may lack the CA: the auth config is then shown as needing one (apply refuses such a step).
    dry_run: bool = False
    prune: bool = False  # delete the roles and policies of removed services/environments
    cluster_auth: tuple[ClusterAuthTarget, ...] = ()  # one per cluster of ENVIRONMENT_CLUSTERS


def role_mount(platform: Platform, env: str, options: ProvisionOptions) -> str:
    """ArgoCD's own cluster keeps `options.auth_mount`; another cluster's environments use that cluster's."""
    cluster = platform.cluster_of(env)
    return platform.vault_auth_mount_of_cluster(cluster) if cluster else options.auth_mount


def desired_role(platform: Platform, service: str, env: str, options: ProvisionOptions) -> Role:
    return Role(
        name=platform.vault_role(service, env),
        service_account=platform.service_account(service),
        namespace=platform.namespace(env),
        policies=(platform.vault_policy(service, env),),
        audience=options.audience,
        ttl=format_duration(options.token_ttl),
        mount=role_mount(platform, env, options),
    )


def _role_matches(current: RoleState, role: Role, ttl: int) -> bool:
    return (
        current.service_accounts == (role.service_account,)
        and current.namespaces == (role.namespace,)
        and current.namespace_selector == ""
        and current.policies == role.policies
        and current.audience == role.audience
        and current.ttl == ttl
        and not current.no_default_policy
    )


def _setup_steps(state: VaultState, options: ProvisionOptions) -> list[Step]:
    steps: list[Step] = []
    kv = state.secret_engines.get(VAULT_KV_MOUNT)
    if kv is None:
        steps.append(EnableKv(VAULT_KV_MOUNT))
    elif kv != Mount("kv", "2"):
        kind = f"KV version {kv.version or '1'}" if kv.type == "kv" else f"a {kv.type} secrets engine"
        raise VaultConflict(
            f"{VAULT_KV_MOUNT}/ is mounted as {kind}; the platform needs KV version 2 there. "
            f"Upgrade it (`bao kv enable-versioning {VAULT_KV_MOUNT}/`) or move it; nothing was changed"
        )
    auth = state.auth_methods.get(options.auth_mount)
    if auth is None:
        steps.append(EnableKubernetesAuth(options.auth_mount))
    elif auth.type != "kubernetes":
        raise VaultConflict(
            f"auth/{options.auth_mount}/ is a {auth.type} auth method, not kubernetes; nothing was changed"
        )

    current = state.kubernetes_config
    host = options.kubernetes_host or (current.host if current else IN_CLUSTER_SERVER)
    ca = options.kubernetes_ca_cert or (current.ca_cert if current else None)
    if not ca and options.dry_run:
        ca = None  # previewed without a CA; the real apply still requires one
    elif not ca:
        raise UsageError(
            "the kubernetes auth method needs the cluster's CA certificate: pass --kubernetes-ca-file PEM, "
            "or make KUBE_CONTEXT name a context of your kubeconfig that holds it"
        )
    if current is None:
        steps.append(ConfigureKubernetesAuth(options.auth_mount, host, ca))
    elif ca is None or current.host != host or current.ca_cert.strip() != ca.strip():
        steps.append(ConfigureKubernetesAuth(options.auth_mount, host, ca, Change.UPDATE))
    for target in options.cluster_auth:
        steps += _cluster_auth_steps(state, target, options)
    return steps


def _cluster_auth_steps(
    state: VaultState, target: ClusterAuthTarget, options: ProvisionOptions
) -> list[Step]:
    """Another cluster's mount: enabled, and configured with that cluster's API server and CA."""
    steps: list[Step] = []
    auth = state.auth_methods.get(target.mount)
    if auth is None:
        steps.append(EnableKubernetesAuth(target.mount))
    elif auth.type != "kubernetes":
        raise VaultConflict(
            f"auth/{target.mount}/ is a {auth.type} auth method, not kubernetes; nothing was changed"
        )
    if target.ca_cert is None and not options.dry_run:
        raise UsageError(
            f"auth/{target.mount}/ needs its cluster's CA certificate (none in its kube context)"
        )
    current = state.cluster_auth.get(target.mount)
    config = current.config if current else None
    if config is None:
        steps.append(ConfigureKubernetesAuth(target.mount, target.host, target.ca_cert))
    elif (
        target.ca_cert is None
        or config.host != target.host
        or config.ca_cert.strip() != target.ca_cert.strip()
    ):
        steps.append(ConfigureKubernetesAuth(target.mount, target.host, target.ca_cert, Change.UPDATE))
    return steps


def _sources(seed: SeedValues, keys: list[str]) -> tuple[str, ...]:
    return tuple(sorted({seed.sources[k].value for k in keys}))


def _secret_step(
    path: str, seed: SeedValues, state: VaultState, options: ProvisionOptions
) -> SecretSeed | None:
    current = state.secrets.get(path)
    if current is None:
        keys = sorted(seed.values)
        return SecretSeed(VAULT_KV_MOUNT, path, tuple(keys), _sources(seed, keys), Hidden.of(seed.values))
    if not options.overwrite_secrets or current.deleted or current.data is None:
        return None
    existing = current.data.as_dict()
    wanted = dict(existing)
    wanted.update({k: seed.values[k] for k in seed.explicit})
    wanted.update({k: seed.values[k] for k in seed.generated_in_file if k not in existing})
    changed = sorted(k for k in wanted if existing.get(k) != wanted[k])
    if not changed:
        return None
    return SecretSeed(
        VAULT_KV_MOUNT,
        path,
        tuple(changed),
        _sources(seed, changed),
        Hidden.of(wanted),
        Change.UPDATE,
        current.version,
    )


def plan_vault(
    platform: Platform,
    state: VaultState,
    seeds: Mapping[tuple[str, str], SeedValues],
    options: ProvisionOptions = ProvisionOptions(),
) -> VaultPlan:
    """Steps that bring Vault in line with the platform; empty when it already is."""
    steps = _setup_steps(state, options)
    kept: list[str] = []
    notes: list[str] = []
    file_values_kept = 0
    for service in platform.services:
        for env in platform.environments:
            policy = Policy(platform.vault_policy(service, env), policy_hcl(platform, service, env))
            current_rules = state.policies.get(policy.name)
            if current_rules is None:
                steps.append(policy)
            elif current_rules != policy.hcl:
                steps.append(replace(policy, change=Change.UPDATE))

            role = desired_role(platform, service, env, options)
            cluster_auth = state.cluster_auth.get(role.mount)
            mount_roles = (
                state.roles
                if role.mount == options.auth_mount
                else (cluster_auth.roles if cluster_auth else {})
            )
            current_role = mount_roles.get(role.name)
            if current_role is None:
                steps.append(role)
            elif not _role_matches(current_role, role, options.token_ttl):
                steps.append(replace(role, change=Change.UPDATE))

            path = platform.vault_secret_path(service, env)
            seed = seeds[(service, env)]
            if (step := _secret_step(path, seed, state, options)) is not None:
                steps.append(step)
            elif path in state.secrets:
                kept.append(path)
                if state.secrets[path].deleted:
                    notes.append(f"{VAULT_KV_MOUNT}/{path}: its latest version is deleted; left as it is")
                elif (seed.explicit or seed.generated_in_file) and not options.overwrite_secrets:
                    file_values_kept += 1
    if file_values_kept:
        notes.append(
            f"{file_values_kept} secret(s) named in the secrets file already exist and were kept; "
            "pass --overwrite-secrets to write the file's values over them"
        )
    roles_by_mount = {
        options.auth_mount: state.roles,
        **{mount: auth.roles for mount, auth in state.cluster_auth.items()},
        **state.former_auth_roles,
    }
    stale = find_leftovers_on_mounts(platform, roles_by_mount, state.policies, auth_mount=options.auth_mount)
    if stale:
        notes.append(_stale_note(stale, options.prune))
    if options.prune:
        # Roles first: deleting a role ends the logins; its policy alone grants nothing.
        steps += [DeleteRole(s.name, s.mount, s.reason) for s in stale if s.kind == "role"]
        steps += [DeletePolicy(s.name, s.reason) for s in stale if s.kind == "policy"]
    return VaultPlan(tuple(steps), tuple(kept), tuple(notes), stale, options.prune)


def _stale_note(stale: tuple[Leftover, ...], prune: bool) -> str:
    roles = sum(1 for s in stale if s.kind == "role")
    what = f"{roles} role(s) and {len(stale) - roles} policy(ies) of removed services or environments"
    if any(s.moved for s in stale):
        what += " or left on the auth mount of a cluster an environment moved away from"
    never = "their secrets (KV data) are never deleted, not even with --prune"
    if prune:
        return f"{what} are deleted (--prune); {never}"
    return (
        f"{what} are stale (not deleted): a stale role still lets that ServiceAccount log in and read; "
        f"pass --prune to delete them; {never}"
    )
