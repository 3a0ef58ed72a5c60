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
"""

from __future__ import annotations

from collections.abc import Mapping

from gitops_poc.platform import Platform
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
    """
    pairs = [(s, e) for s in platform.services for e in platform.environments]
    wanted_roles = {platform.vault_role(s, e) for s, e in pairs}
    wanted_policies = {platform.vault_policy(s, e) for s, e in pairs}
    stem = f"{platform.vault_name_stem}-"
    candidates = {n: hcl for n, hcl in policies.items() if n.startswith(stem) and n not in wanted_policies}
    owned = {n: pair for n, hcl in candidates.items() if (pair := policy_pair(platform, n, hcl)) is not None}
    foreign = set(candidates) - set(owned)

    found = []
    for name in sorted(roles):
        if not name.startswith(stem) or name in wanted_roles or set(roles[name].policies) & foreign:
            continue
        if (pair := role_pair(platform, name, roles[name])) is not None:
            found.append(Leftover("role", name, *pair, _reason(platform, *pair)))
    found += [Leftover("policy", n, *owned[n], _reason(platform, *owned[n])) for n in sorted(owned)]
    return tuple(found)
