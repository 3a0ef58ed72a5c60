"""Leftovers: roles and policies of this platform that it no longer wants (a service or environment removed).

Pure: works on what `state.read_named_like` read. A name alone proves nothing: with prefix `acme` the platform
names `acme-<service>-<env>`, but so does, to a name match, the platform with prefix `acme-secrets` or
`acme/secrets` (`acme-secrets-api-dev`). So a name counts as this platform's only when its content proves it:

- a policy: it grants paths, and every one is the KV v2 folder glob of `<service>/<env>` under this
  platform's prefix, for the very service and environment its name is made of (`policy_globs`);
- a role: one of its bound namespaces is this platform's namespace of the environment its name ends with
  (Platform.environment_of_namespace), every bound namespace is one of this platform's, and none of its
  policies is a same-stem policy proven to be someone else's (platforms sharing a NAMESPACE_PREFIX).

Anything unproven is left out: never reported, never deleted.

A role of a pair the platform still wants is a leftover too when it sits on another auth mount than the one
of its environment's cluster (the environment moved cluster): it still lets that ServiceAccount log in
there. Only `find_leftovers_on_mounts`, which knows each role's mount, can tell.
"""

from __future__ import annotations

from collections.abc import Mapping

from gitops_poc.platform import VAULT_KUBERNETES_AUTH_MOUNT, Platform
from gitops_poc.vault.model import Leftover, RoleState
from gitops_poc.vault.policy import policy_globs, policy_paths

Pair = tuple[str, str]


def _service_in(platform: Platform, name: str, env: str) -> str | None:
    """The service `name` is the role/policy name of in `env`, by the platform's naming (None: it is not)."""
    stem, suffix = f"{platform.vault_name_stem}-", f"-{env}"
    if not (name.startswith(stem) and name.endswith(suffix)) or len(name) <= len(stem) + len(suffix):
        return None
    service = name[len(stem) : -len(suffix)]
    return service if platform.vault_role(service, env) == name else None


def policy_pair(platform: Platform, name: str, hcl: str) -> Pair | None:
    """(service, env) when every path of the policy is that pair's own folder under this platform's prefix."""
    paths = policy_paths(hcl)
    pairs = set()
    for path in paths:
        for root in (platform.vault_data_root, platform.vault_metadata_root):
            parts = path.removeprefix(f"{root}/").split("/") if path.startswith(f"{root}/") else []
            if len(parts) == 3 and path in policy_globs(platform, parts[0], parts[1]):
                pairs.add((parts[0], parts[1]))
                break
        else:
            return None  # a path outside this platform's folders: not (only) its policy
    if len(pairs) != 1:
        return None
    (pair,) = pairs
    return pair if platform.vault_policy(*pair) == name else None


def role_pair(platform: Platform, name: str, role: RoleState) -> Pair | None:
    """(service, env) when the role's bound namespaces prove it is this platform's role for that pair."""
    envs = [platform.environment_of_namespace(ns) for ns in role.namespaces]
    if not envs or None in envs:
        return None  # unbound, `*`, or a namespace of another platform
    for env in envs:
        assert env is not None
        if (service := _service_in(platform, name, env)) is not None:
            return service, env
    return None


def _reason(platform: Platform, service: str, env: str) -> str:
    gone = []
    if service not in platform.services:
        gone.append(f"service {service!r} is not in SERVICES")
    if env not in platform.environments:
        gone.append(f"environment {env!r} is not in ENVIRONMENTS")
    return " and ".join(gone)


def find_leftovers(
    platform: Platform, roles: Mapping[str, RoleState], policies: Mapping[str, str]
) -> tuple[Leftover, ...]:
    """Roles, then policies, named and made like this platform's that are not in its desired set.

    `roles`/`policies`: at least every one whose name starts with the platform's stem (others are ignored).
    The roles' mounts are not known here, so a role is judged by its name alone; `find_leftovers_on_mounts`
    also finds the roles an environment left on the mount of the cluster it moved away from.
    """
    return _leftovers(platform, {None: roles}, policies, VAULT_KUBERNETES_AUTH_MOUNT)


def find_leftovers_on_mounts(
    platform: Platform,
    roles_by_mount: Mapping[str, Mapping[str, RoleState]],
    policies: Mapping[str, str],
    *,
    auth_mount: str = VAULT_KUBERNETES_AUTH_MOUNT,
) -> tuple[Leftover, ...]:
    """As `find_leftovers`, with every role's auth mount known (`auth_mount`: the mount of ArgoCD's own
    cluster): a role of a wanted pair on another mount than its environment's is a leftover as well."""
    known: dict[str | None, Mapping[str, RoleState]] = dict(roles_by_mount.items())
    return _leftovers(platform, known, policies, auth_mount)


def wanted_mount(platform: Platform, env: str, auth_mount: str) -> str:
    """The auth mount an environment's roles belong on: its cluster's, `auth_mount` for ArgoCD's own."""
    cluster = platform.cluster_of(env)
    return platform.vault_auth_mount_of_cluster(cluster) if cluster else auth_mount


def _moved(platform: Platform, env: str, mount: str) -> str:
    cluster = platform.cluster_of(env)
    where = f"cluster {cluster!r}" if cluster else "ArgoCD's own cluster"
    return f"environment {env!r} runs in {where} now: its roles belong on auth/{mount}"


def _leftovers(
    platform: Platform,
    roles_by_mount: Mapping[str | None, Mapping[str, RoleState]],
    policies: Mapping[str, str],
    auth_mount: str,
) -> tuple[Leftover, ...]:
    pairs = platform.pairs
    wanted_roles = {platform.vault_role(s, e) for s, e in pairs}
    wanted_policies = {platform.vault_policy(s, e) for s, e in pairs}
    stem = f"{platform.vault_name_stem}-"
    candidates = {n: hcl for n, hcl in policies.items() if n.startswith(stem) and n not in wanted_policies}
    owned = {n: pair for n, hcl in candidates.items() if (pair := policy_pair(platform, n, hcl)) is not None}
    foreign = set(candidates) - set(owned)

    found = []
    # ArgoCD's mount first, then the others by name (None: mount not known, name alone decides).
    order = sorted(roles_by_mount, key=lambda m: (m != auth_mount, m or ""))
    for mount in order:
        roles = roles_by_mount[mount]
        for name in sorted(roles):
            if not name.startswith(stem) or set(roles[name].policies) & foreign:
                continue
            if mount is None and name in wanted_roles:
                continue
            if (pair := role_pair(platform, name, roles[name])) is None:
                continue
            reason, moved = _reason(platform, *pair), False
            if not reason:  # a wanted pair: stale only on another mount than its environment's
                if mount is None or mount == (want := wanted_mount(platform, pair[1], auth_mount)):
                    continue
                reason, moved = _moved(platform, pair[1], want), True
            found.append(Leftover("role", name, *pair, reason, mount or "", moved))
    found += [Leftover("policy", n, *owned[n], _reason(platform, *owned[n])) for n in sorted(owned)]
    return tuple(found)
