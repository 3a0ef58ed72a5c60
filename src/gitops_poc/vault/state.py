"""What Vault holds now, for the names the platform manages: read through hvac, returned as frozen data.

Lists first (mounts, auth methods, policy and role names, the KV folder of the platform), then reads only
the objects that exist, so an empty Vault costs a handful of calls.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import hvac

from gitops_poc.platform import VAULT_KUBERNETES_AUTH_MOUNT, VAULT_KV_MOUNT, Platform
from gitops_poc.vault import answers
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


def _mounts(response: object, endpoint: str) -> dict[str, Mount]:
    """The mounts of GET sys/mounts or sys/auth: {path: {type, options: {version}}}, under `data` or not."""
    raw = answers.body(response, endpoint) or {}
    data = answers.obj(raw, "data", endpoint) if "data" in raw else raw
    mounts = {}
    for path, info in data.items():
        if isinstance(info, Mapping) and "type" in info:
            options = answers.obj(info, "options", endpoint, optional=True)
            version = str(options.get("version") or "")
            mounts[path.rstrip("/")] = Mount(answers.text(info, "type", endpoint), version)
    return mounts


def _data(response: object, endpoint: str) -> Mapping[str, Any] | None:
    """`data` of an hvac answer; None for 404 (hvac's None) or a body-less reply."""
    body = answers.body(response, endpoint)
    return None if body is None else answers.obj(body, "data", endpoint)


def _keys(response: object, endpoint: str) -> list[str]:
    """Keys of a LIST response; hvac returns None when the path holds nothing (HTTP 404)."""
    data = _data(response, endpoint)
    return answers.texts(data, "keys", endpoint) if data else []


def _role(data: Mapping[str, Any], endpoint: str) -> RoleState:
    policies = answers.texts(data, "token_policies", endpoint) or answers.texts(data, "policies", endpoint)
    return RoleState(
        service_accounts=tuple(answers.texts(data, "bound_service_account_names", endpoint)),
        namespaces=tuple(answers.texts(data, "bound_service_account_namespaces", endpoint)),
        namespace_selector=answers.text(data, "bound_service_account_namespace_selector", endpoint),
        policies=tuple(policies),
        audience=",".join(answers.texts(data, "audience", endpoint)),
        ttl=answers.number(data, "token_ttl", endpoint) or answers.number(data, "ttl", endpoint),
        no_default_policy=bool(data.get("token_no_default_policy")),
    )


def read_role(client: hvac.Client, mount: str, name: str) -> RoleState | None:
    """GET /v1/auth/{mount}/role/{name}"""
    endpoint = f"GET auth/{mount}/role/{name}"
    data = _data(client.read(f"auth/{mount}/role/{name}"), endpoint)
    return _role(data, endpoint) if data is not None else None


def _named_like(platform: Platform, names: list[str]) -> list[str]:
    """The names that may be the platform's: its own, and those of removed services or environments."""
    stem = f"{platform.vault_name_stem}-"
    return sorted(name for name in names if name.startswith(stem))


def read_roles(client: hvac.Client, platform: Platform, mount: str) -> tuple[dict[str, RoleState], int]:
    """Every role of the auth mount whose name starts with the platform's stem, and the API calls it took."""
    with vault_errors(client, f"listing auth/{mount}/role"):
        # None: no such mount
        names = _named_like(platform, _keys(client.list(f"auth/{mount}/role"), f"LIST auth/{mount}/role"))
        roles = {name: role for name in names if (role := read_role(client, mount, name)) is not None}
    return roles, 1 + len(names)


def read_policies(client: hvac.Client, platform: Platform) -> tuple[dict[str, str], int]:
    """Every ACL policy (name -> rules) whose name starts with the platform's stem, and the API calls it
    took."""
    policies: dict[str, str] = {}
    with vault_errors(client, "listing the ACL policies (LIST sys/policies/acl)"):
        names = _named_like(platform, _keys(client.list("sys/policies/acl"), "LIST sys/policies/acl"))
        for name in names:
            endpoint = f"GET sys/policies/acl/{name}"
            if (data := _data(client.read(f"sys/policies/acl/{name}"), endpoint)) is not None:
                policies[name] = answers.text(data, "policy", endpoint)
    return policies, 1 + len(names)


def _read_kubernetes_mount(
    client: hvac.Client, platform: Platform, mount: str
) -> tuple[KubernetesConfig | None, dict[str, RoleState], int]:
    """A kubernetes auth mount's config and the platform's roles on it, and the API calls it took."""
    endpoint = f"GET auth/{mount}/config"
    with vault_errors(client, f"reading auth/{mount}/config"):
        data = _data(client.read(f"auth/{mount}/config"), endpoint) or {}
    config = None
    if host := answers.text(data, "kubernetes_host", endpoint):
        config = KubernetesConfig(host, answers.text(data, "kubernetes_ca_cert", endpoint))
    roles, role_calls = read_roles(client, platform, mount)
    return config, roles, 1 + role_calls


def former_cluster_mounts(platform: Platform, auths: Mapping[str, Mount], auth_mount: str) -> list[str]:
    """Kubernetes auth mounts named like a cluster's (`kubernetes-<name>`) that neither ArgoCD's cluster nor a
    cluster of ENVIRONMENT_CLUSTERS uses now: where a cluster the environments left may keep roles."""
    prefix = f"{VAULT_KUBERNETES_AUTH_MOUNT}-"  # as vault_auth_mount_of_cluster names them
    current = {auth_mount, *(platform.vault_auth_mount_of_cluster(c) for c in platform.remote_clusters)}
    return sorted(
        path
        for path, mount in auths.items()
        if mount.type == "kubernetes" and path.startswith(prefix) and path not in current
    )


def read_roles_by_mount(
    client: hvac.Client, platform: Platform, auth_mount: str = VAULT_KUBERNETES_AUTH_MOUNT
) -> dict[str, dict[str, RoleState]]:
    """The platform-named roles on every kubernetes auth mount they may be on, by mount: `auth_mount`, each
    cluster's, and former clusters' (`former_cluster_mounts`), for `stale.find_leftovers_on_mounts`."""
    with vault_errors(client, "reading the enabled auth methods (GET sys/auth)"):
        auths = _mounts(client.read("sys/auth"), "GET sys/auth")
    mounts = [auth_mount, *(platform.vault_auth_mount_of_cluster(c) for c in platform.remote_clusters)]
    mounts += former_cluster_mounts(platform, auths, auth_mount)
    return {
        mount: read_roles(client, platform, mount)[0]
        for mount in dict.fromkeys(mounts)
        if auths.get(mount, Mount("")).type == "kubernetes"
    }


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
    pairs = platform.pairs
    with vault_errors(client, "reading the mounted secrets engines (GET sys/mounts)"):
        engines = _mounts(client.read("sys/mounts"), "GET sys/mounts")
        calls += 1
    with vault_errors(client, "reading the enabled auth methods (GET sys/auth)"):
        auths = _mounts(client.read("sys/auth"), "GET sys/auth")
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
    former: dict[str, dict[str, RoleState]] = {}
    for mount in former_cluster_mounts(platform, auths, auth_mount):
        former[mount], role_calls = read_roles(client, platform, mount)
        calls += role_calls
    policies, policy_calls = read_policies(client, platform)
    calls += policy_calls

    secrets: dict[str, SecretState] = {}
    engine = engines.get(VAULT_KV_MOUNT)
    if engine is not None and engine.type == "kv" and engine.version == "2":
        with vault_errors(client, f"listing {platform.vault_metadata_root}/"):
            listed = _keys(client.list(platform.vault_metadata_root), f"LIST {platform.vault_metadata_root}")
            present = {k.rstrip("/") for k in listed}
            calls += 1
            for service, env in pairs:
                if service not in present:
                    continue
                path = platform.vault_secret_path(service, env)
                endpoint = f"GET {platform.vault_metadata_path(service, env)}"
                meta = _data(client.read(platform.vault_metadata_path(service, env)), endpoint)
                calls += 1
                if not meta:
                    continue
                version = answers.number(meta, "current_version", endpoint)
                versions = answers.obj(meta, "versions", endpoint, optional=True)
                latest = versions.get(str(version)) or {}
                if not isinstance(latest, Mapping):
                    raise answers.invalid(endpoint, f"`versions.{version}`", "an object", latest)
                deleted = bool(latest.get("deletion_time")) or bool(latest.get("destroyed"))
                values = None
                if path in data_paths and not deleted:
                    endpoint = f"GET {platform.vault_data_path(service, env)}"
                    read = _data(client.read(platform.vault_data_path(service, env)), endpoint) or {}
                    calls += 1
                    stored = answers.obj(read, "data", endpoint, optional=True)
                    values = Hidden.of({k: str(v) for k, v in stored.items()})
                secrets[path] = SecretState(version, deleted, values)

    return VaultState(engines, auths, kube_config, policies, roles, secrets, cluster_auth, former, calls)
