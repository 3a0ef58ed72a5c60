"""What Vault holds now, for the names the platform manages: read through hvac, returned as frozen data.

Lists first (mounts, auth methods, policy and role names, the KV folder of the platform), then reads only
the objects that exist, so an empty Vault costs a handful of calls.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import hvac

from gitops_poc.platform import VAULT_KUBERNETES_AUTH_MOUNT, VAULT_KV_MOUNT, Platform
from gitops_poc.vault.client import vault_errors
from gitops_poc.vault.model import (
    ClusterAuthState,
    Hidden,
    KubernetesConfig,
    Mount,
    RoleState,
    SecretState,
    VaultState,
)


def _mounts(raw: Mapping[str, Any]) -> dict[str, Mount]:
    data = raw.get("data", raw)
    mounts = {}
    for path, info in data.items():
        if isinstance(info, Mapping) and "type" in info:
            version = str((info.get("options") or {}).get("version", ""))
            mounts[path.rstrip("/")] = Mount(str(info["type"]), version)
    return mounts


def _body(response: object) -> dict[str, Any] | None:
    """The JSON body of an hvac answer; None for 404 (hvac's None) or a body-less reply (a bare Response)."""
    return response if isinstance(response, dict) else None


def _keys(response: Any) -> list[str]:
    """Keys of a LIST response; hvac returns None when the path holds nothing (HTTP 404)."""
    if not response:
        return []
    return list((response.get("data") or {}).get("keys") or [])


def _role(data: Mapping[str, Any]) -> RoleState:
    audience = data.get("audience") or ""
    return RoleState(
        service_accounts=tuple(data.get("bound_service_account_names") or ()),
        namespaces=tuple(data.get("bound_service_account_namespaces") or ()),
        namespace_selector=str(data.get("bound_service_account_namespace_selector") or ""),
        policies=tuple(data.get("token_policies") or data.get("policies") or ()),
        audience=audience if isinstance(audience, str) else ",".join(audience),
        ttl=int(data.get("token_ttl") or data.get("ttl") or 0),
        no_default_policy=bool(data.get("token_no_default_policy")),
    )


def read_role(client: hvac.Client, mount: str, name: str) -> RoleState | None:
    """GET /v1/auth/{mount}/role/{name}"""
    response = _body(client.read(f"auth/{mount}/role/{name}"))
    return _role(response["data"]) if response else None


def _named_like(platform: Platform, names: list[str]) -> list[str]:
    """The names that may be the platform's: its own, and those of removed services or environments."""
    stem = f"{platform.vault_name_stem}-"
    return sorted(name for name in names if name.startswith(stem))


def read_roles(client: hvac.Client, platform: Platform, mount: str) -> tuple[dict[str, RoleState], int]:
    """Every role of the auth mount whose name starts with the platform's stem, and the API calls it took."""
    with vault_errors(client, f"listing auth/{mount}/role"):
        names = _named_like(platform, _keys(client.list(f"auth/{mount}/role")))  # None: no such mount
        roles = {name: role for name in names if (role := read_role(client, mount, name)) is not None}
    return roles, 1 + len(names)


def read_policies(client: hvac.Client, platform: Platform) -> tuple[dict[str, str], int]:
    """Every ACL policy (name -> rules) whose name starts with the platform's stem, and the API calls it
    took."""
    policies: dict[str, str] = {}
    with vault_errors(client, "listing the ACL policies (LIST sys/policies/acl)"):
        names = _named_like(platform, _keys(client.list("sys/policies/acl")))
        for name in names:
            if response := _body(client.read(f"sys/policies/acl/{name}")):
                policies[name] = str(response["data"].get("policy", ""))
    return policies, 1 + len(names)


def _read_kubernetes_mount(
    client: hvac.Client, platform: Platform, mount: str
) -> tuple[KubernetesConfig | None, dict[str, RoleState], int]:
    """A kubernetes auth mount's config and the platform's roles on it, and the API calls it took."""
    with vault_errors(client, f"reading auth/{mount}/config"):
        response = _body(client.read(f"auth/{mount}/config"))
    data = (response or {}).get("data") or {}
    config = None
    if data.get("kubernetes_host"):
        config = KubernetesConfig(str(data["kubernetes_host"]), str(data.get("kubernetes_ca_cert") or ""))
    roles, role_calls = read_roles(client, platform, mount)
    return config, roles, 1 + role_calls


def read_vault_state(
    client: hvac.Client,
    platform: Platform,
    *,
    auth_mount: str = VAULT_KUBERNETES_AUTH_MOUNT,
    data_paths: Collection[str] = (),
) -> VaultState:
    """Read mounts, auth methods, the kubernetes auth config, and the platform's policies, roles and secrets.

    `data_paths`: KV paths whose current values are needed (only for --overwrite-secrets).
    """
    calls = 0
    pairs = [(s, e) for s in platform.services for e in platform.environments]
    with vault_errors(client, "reading the mounted secrets engines (GET sys/mounts)"):
        engines = _mounts(_body(client.read("sys/mounts")) or {})
        calls += 1
    with vault_errors(client, "reading the enabled auth methods (GET sys/auth)"):
        auths = _mounts(_body(client.read("sys/auth")) or {})
        calls += 1

    kube_config = None
    roles: dict[str, RoleState] = {}
    if auths.get(auth_mount, Mount("")).type == "kubernetes":
        kube_config, roles, mount_calls = _read_kubernetes_mount(client, platform, auth_mount)
        calls += mount_calls
    cluster_auth: dict[str, ClusterAuthState] = {}
    for cluster in platform.remote_clusters:
        mount = platform.vault_auth_mount_of_cluster(cluster)
        if auths.get(mount, Mount("")).type == "kubernetes":
            config, cluster_roles, mount_calls = _read_kubernetes_mount(client, platform, mount)
            cluster_auth[mount] = ClusterAuthState(config, cluster_roles)
            calls += mount_calls
    policies, policy_calls = read_policies(client, platform)
    calls += policy_calls

    secrets: dict[str, SecretState] = {}
    engine = engines.get(VAULT_KV_MOUNT)
    if engine is not None and engine.type == "kv" and engine.version == "2":
        with vault_errors(client, f"listing {platform.vault_metadata_root}/"):
            present = {k.rstrip("/") for k in _keys(client.list(platform.vault_metadata_root))}
            calls += 1
            for service, env in pairs:
                if service not in present:
                    continue
                path = platform.vault_secret_path(service, env)
                response = _body(client.read(platform.vault_metadata_path(service, env)))
                calls += 1
                if not response:
                    continue
                meta = response["data"]
                version = int(meta.get("current_version") or 0)
                latest = (meta.get("versions") or {}).get(str(version)) or {}
                deleted = bool(latest.get("deletion_time")) or bool(latest.get("destroyed"))
                values = None
                if path in data_paths and not deleted:
                    read = _body(client.read(platform.vault_data_path(service, env)))
                    calls += 1
                    values = Hidden.of(
                        {k: str(v) for k, v in ((read or {}).get("data") or {}).get("data", {}).items()}
                    )
                secrets[path] = SecretState(version, deleted, values)

    return VaultState(engines, auths, kube_config, policies, roles, secrets, cluster_auth, calls)
