"""`setup registry` as a plan: each environment's namespace, the `regsecret` pull secret (server-side apply
updates it in place: no delete-then-create window), and the ServiceAccounts' imagePullSecrets merged with
what they already list (never replaced). Pure: the caller reads which ServiceAccounts exist."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops_poc.cluster.model import ApplyObject, ClusterPlan, Hidden, PatchObject, Step
from gitops_poc.platform import PULL_SECRET, Platform

MANAGED_BY = {"app.kubernetes.io/managed-by": "gitops-poc"}


@dataclass(frozen=True)
class RegistryCredentials:
    username: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class RegistryState:
    """(namespace, ServiceAccount) -> the imagePullSecrets names it lists, for the accounts that exist."""

    pull_secrets: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)


def registry_host(registry: str) -> str:
    """`registry.gitlab.com/group` -> `registry.gitlab.com`: docker logs in to the host."""
    return registry.split("/", 1)[0]


def docker_config(host: str, credentials: RegistryCredentials) -> str:
    auth = base64.b64encode(f"{credentials.username}:{credentials.token}".encode()).decode()
    entry = {"username": credentials.username, "password": credentials.token, "auth": auth}
    return json.dumps({"auths": {host: entry}}, sort_keys=True)


def namespace_object(name: str, env: str | None = None) -> dict[str, object]:
    """An environment's namespace (labelled with it), or another the platform needs (env None)."""
    labels = {**MANAGED_BY, "environment": env} if env else dict(MANAGED_BY)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def service_accounts(platform: Platform) -> tuple[str, ...]:
    """Who pulls images: the namespace's default account and each service's own."""
    return ("default", *(platform.service_account(s) for s in platform.services))


def plan_registry(platform: Platform, credentials: RegistryCredentials, state: RegistryState) -> ClusterPlan:
    host = registry_host(platform.config.docker_registry)
    secret_value = Hidden.of({".dockerconfigjson": docker_config(host, credentials)})
    steps: list[Step] = []
    missing: list[str] = []
    for env in platform.environments:
        namespace = platform.namespace(env)
        context = env_context(platform, env)
        steps.append(ApplyObject.of(namespace_object(namespace, env), context=context))
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": PULL_SECRET, "namespace": namespace, "labels": dict(MANAGED_BY)},
        }
        steps.append(ApplyObject.of(secret, secret_value, context))
        for account in service_accounts(platform):
            listed = state.pull_secrets.get((namespace, account))
            if listed is None:
                if account == "default":
                    # A new namespace gets its default account a moment later; create it with the secret.
                    body = {
                        "apiVersion": "v1",
                        "kind": "ServiceAccount",
                        "metadata": {"name": account, "namespace": namespace},
                        "imagePullSecrets": [{"name": PULL_SECRET}],
                    }
                    steps.append(ApplyObject.of(body, context=context))
                else:
                    missing.append(f"{namespace}/{account}")
                continue
            if PULL_SECRET in listed:
                continue
            merged = [{"name": name} for name in (*listed, PULL_SECRET)]
            steps.append(
                PatchObject.of(
                    "v1",
                    "ServiceAccount",
                    namespace,
                    account,
                    {"imagePullSecrets": merged},
                    f"add {PULL_SECRET}, keep {', '.join(listed) or 'nothing else'}",
                    context,
                )
            )
    notes: tuple[str, ...] = ()
    if missing:
        creator = "`setup push` applies" if platform.config.gitops_mode == "push" else "ArgoCD creates"
        notes = (
            f"{len(missing)} service ServiceAccount(s) do not exist yet (e.g. {missing[0]}): {creator} "
            f"them from gitops-config/platform/<env> already listing {PULL_SECRET}",
        )
    return ClusterPlan(tuple(steps), notes)


def env_context(platform: Platform, env: str) -> str:
    """The kube context of the environment's cluster; "" for the platform's own (KUBE_CONTEXT)."""
    return platform.cluster_context(platform.cluster_of(env))


def read_registry_state(kube_for: Callable[[str], Any], platform: Platform) -> RegistryState:
    """GET every ServiceAccount the plan may patch (absent ones are simply not in the state), each in its
    environment's cluster."""
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for env in platform.environments:
        namespace = platform.namespace(env)
        kube = kube_for(env_context(platform, env))
        for account in service_accounts(platform):
            body = kube.get("v1", "ServiceAccount", namespace, account)
            if body is not None:
                found[(namespace, account)] = tuple(
                    str(item.get("name"))
                    for item in body.get("imagePullSecrets") or []
                    if isinstance(item, dict)
                )
    return RegistryState(found)
