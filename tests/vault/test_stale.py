"""`find_leftovers` is pure: which roles and policies named like the platform's are provably its own
leftovers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pytest

from gitops_poc.config import load_config
from gitops_poc.platform import Platform
from gitops_poc.vault.model import (
    Change,
    DeletePolicy,
    DeleteRole,
    KubernetesConfig,
    Leftover,
    Mount,
    RoleState,
    SecretState,
    VaultState,
)
from gitops_poc.vault.provision_plan import ProvisionOptions, plan_vault, policy_hcl
from gitops_poc.vault.secrets_file import build_seeds
from gitops_poc.vault.stale import find_leftovers

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def platform(**env: str) -> Platform:
    return Platform(load_config(None, env))


# acme as it was, and as it is now: service `web` and environment `qa` removed.
ACME_BEFORE = platform(
    VAULT_PATH_PREFIX="acme", NAMESPACE_PREFIX="acme", SERVICES="api web", ENVIRONMENTS="dev qa prod"
)
ACME = platform(VAULT_PATH_PREFIX="acme", NAMESPACE_PREFIX="acme", SERVICES="api", ENVIRONMENTS="dev prod")
REMOVED = {"acme-web-dev", "acme-web-qa", "acme-web-prod", "acme-api-qa"}
# Platforms whose names start with `acme-` too.
LOOK_ALIKES = {
    "prefix acme-secrets, own namespaces": platform(
        VAULT_PATH_PREFIX="acme-secrets",
        NAMESPACE_PREFIX="acme-secrets",
        SERVICES="api web",
        ENVIRONMENTS="dev qa",
    ),
    "prefix acme-secrets, same namespaces": platform(
        VAULT_PATH_PREFIX="acme-secrets", NAMESPACE_PREFIX="acme", SERVICES="billing", ENVIRONMENTS="dev qa"
    ),
    "prefix acme/secrets, same namespaces": platform(
        VAULT_PATH_PREFIX="acme/secrets", NAMESPACE_PREFIX="acme", SERVICES="api", ENVIRONMENTS="dev qa"
    ),
    "prefix acme-x, other namespaces": platform(
        VAULT_PATH_PREFIX="acme-x", NAMESPACE_PREFIX="other", SERVICES="api", ENVIRONMENTS="qa"
    ),
}


def provisioned(p: Platform) -> tuple[dict[str, RoleState], dict[str, str]]:
    """The roles and policies `vault provision` writes for a platform."""
    pairs = [(s, e) for s in p.services for e in p.environments]
    roles = {
        p.vault_role(s, e): RoleState(
            (p.service_account(s),), (p.namespace(e),), "", (p.vault_policy(s, e),), "vault", 3600
        )
        for s, e in pairs
    }
    return roles, {p.vault_policy(s, e): policy_hcl(p, s, e) for s, e in pairs}


def names(found: tuple[Leftover, ...], kind: str) -> set[str]:
    return {f.name for f in found if f.kind == kind}


def test_a_removed_service_and_environment_leave_their_roles_and_policies() -> None:
    roles, policies = provisioned(ACME_BEFORE)
    found = find_leftovers(ACME, roles, policies)
    assert names(found, "role") == names(found, "policy") == REMOVED
    assert [f.kind for f in found] == ["role"] * 4 + ["policy"] * 4  # roles first: they are the live grants
    by_name = {f.name: f for f in found if f.kind == "role"}
    assert by_name["acme-web-dev"] == Leftover(
        "role", "acme-web-dev", "web", "dev", "service 'web' is not in SERVICES"
    )
    assert by_name["acme-api-qa"].reason == "environment 'qa' is not in ENVIRONMENTS"
    assert (
        by_name["acme-web-qa"].reason
        == "service 'web' is not in SERVICES and environment 'qa' is not in ENVIRONMENTS"
    )
    assert find_leftovers(ACME_BEFORE, roles, policies) == ()  # nothing removed: nothing stale


@pytest.mark.parametrize("other", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_another_platforms_look_alike_names_are_never_taken(other: Platform) -> None:
    mine_roles, mine_policies = provisioned(ACME_BEFORE)
    theirs_roles, theirs_policies = provisioned(other)
    assert all(name.startswith("acme-") for name in theirs_roles)  # the names alone would match
    found = find_leftovers(ACME, {**mine_roles, **theirs_roles}, {**mine_policies, **theirs_policies})
    assert names(found, "role") == names(found, "policy") == REMOVED
    # ...and the other platform, seeing acme's names next to its own, takes none of them either.
    assert find_leftovers(other, {**mine_roles, **theirs_roles}, {**mine_policies, **theirs_policies}) == ()


def test_proof_comes_from_the_content_not_the_name() -> None:
    roles, policies = provisioned(ACME_BEFORE)
    web_dev = roles["acme-web-dev"]
    edited_roles: Mapping[str, RoleState] = {
        **roles,
        # Drifted, still this platform's: bound to its namespace, wider than it should be.
        "acme-web-dev": replace(
            web_dev, service_accounts=("web", "default"), policies=("acme-web-dev", "admin")
        ),
        # Not provable: any namespace, or one of another platform.
        "acme-web-prod": replace(roles["acme-web-prod"], namespaces=("*",)),
        "acme-web-qa": replace(roles["acme-web-qa"], namespaces=("acme-qa", "other-qa")),
        "acme-api-qa": replace(roles["acme-api-qa"], namespaces=()),
    }
    edited_policies = {
        **policies,
        "acme-web-prod": 'path "secret/data/acme/*" { capabilities = ["read"] }',  # not one pair's folder
        "acme-web-qa": policy_hcl(ACME_BEFORE, "api", "qa"),  # another pair's folder than its name says
        "acme-api-qa": policy_hcl(ACME_BEFORE, "api", "qa") + 'path "sys/*" { capabilities = ["sudo"] }',
    }
    found = find_leftovers(ACME, edited_roles, edited_policies)
    assert names(found, "role") == {"acme-web-dev"}
    assert names(found, "policy") == {"acme-web-dev"}


def test_a_role_whose_policy_is_someone_elses_is_not_taken() -> None:
    """acme/secrets binds to acme's namespaces and its names decompose as acme's; only its policy tells."""
    other = LOOK_ALIKES["prefix acme/secrets, same namespaces"]
    roles, policies = provisioned(other)
    assert find_leftovers(ACME, roles, policies) == ()
    # Without its policy in Vault the role's namespace is the only evidence, and it matches.
    assert names(find_leftovers(ACME, roles, {}), "role") == {"acme-secrets-api-dev", "acme-secrets-api-qa"}


def test_without_a_namespace_prefix_the_namespace_is_the_environment() -> None:
    before = platform(VAULT_PATH_PREFIX="acme", NAMESPACE_PREFIX="", SERVICES="api web", ENVIRONMENTS="dev")
    now = platform(VAULT_PATH_PREFIX="acme", NAMESPACE_PREFIX="", SERVICES="api", ENVIRONMENTS="dev")
    roles, policies = provisioned(before)
    assert names(find_leftovers(now, roles, policies), "role") == {"acme-web-dev"}
    moved = {**roles, "acme-web-dev": replace(roles["acme-web-dev"], namespaces=("team-dev",))}
    assert names(find_leftovers(now, moved, policies), "role") == set()


def test_platform_names_the_namespace_rule_backwards() -> None:
    assert ACME.environment_of_namespace("acme-qa") == "qa"  # not configured, still acme's naming
    assert ACME.environment_of_namespace("acme-") is None
    assert ACME.environment_of_namespace("other-qa") is None
    assert ACME.environment_of_namespace("*") is None
    assert ACME.vault_name_stem == "acme" and ACME.vault_data_root == "secret/data/acme"
    slashed = LOOK_ALIKES["prefix acme/secrets, same namespaces"]
    assert (
        slashed.vault_name_stem == "acme-secrets"
        and slashed.vault_policy("api", "dev") == "acme-secrets-api-dev"
    )


def complete_state(before: Platform, now: Platform) -> VaultState:
    roles, policies = provisioned(before)
    now_roles, _ = provisioned(now)
    roles.update(now_roles)  # the ttl etc. of the current ones as provision writes them
    pairs = [(s, e) for s in before.services for e in before.environments]
    return VaultState(
        secret_engines={"secret": Mount("kv", "2")},
        auth_methods={"kubernetes": Mount("kubernetes")},
        kubernetes_config=KubernetesConfig("https://kubernetes.default.svc", CA),
        policies=policies,
        roles=roles,
        secrets={before.vault_secret_path(s, e): SecretState(1) for s, e in pairs},
    )


def test_plan_lists_leftovers_and_deletes_them_only_when_pruning() -> None:
    state = complete_state(ACME_BEFORE, ACME)
    seeds = build_seeds(ACME)
    plan = plan_vault(ACME, state, seeds, ProvisionOptions())
    assert plan.steps == ()
    assert {s.name for s in plan.stale_kept} == REMOVED
    assert len(plan.stale) == 8
    (note,) = plan.notes
    assert note.startswith(
        "4 role(s) and 4 policy(ies) of removed services or environments are stale (not deleted)"
    )
    assert "pass --prune" in note and "secrets (KV data) are never deleted" in note

    pruned = plan_vault(ACME, state, seeds, ProvisionOptions(prune=True))
    assert pruned.stale_kept == ()
    deletions = [s for s in pruned.steps if isinstance(s, (DeleteRole, DeletePolicy))]
    assert [type(s) for s in deletions] == [DeleteRole] * 4 + [DeletePolicy] * 4 and len(deletions) == len(
        pruned
    )
    assert {s.name for s in deletions} == REMOVED
    assert all(s.change is Change.DELETE for s in deletions)
    assert pruned.count() == {"role deletion": 4, "policy deletion": 4}
    assert DeleteRole("acme-web-dev", "kubernetes", "service 'web' is not in SERVICES") in pruned.steps
    # Secrets are never part of a deletion; the removed pairs' secrets are not even looked at.
    assert pruned.kept_secrets == tuple(
        ACME.vault_secret_path(s, e) for s in ACME.services for e in ACME.environments
    )
    assert pruned.as_json()["stale"][0] == {
        "kind": "role",
        "name": "acme-api-qa",
        "service": "api",
        "environment": "qa",
        "reason": "environment 'qa' is not in ENVIRONMENTS",
        "mount": "kubernetes",
        "action": "delete",
    }


def test_a_role_on_the_mount_of_a_cluster_its_environment_left_is_stale_only_there() -> None:
    from gitops_poc.vault.stale import find_leftovers_on_mounts

    moved = platform(
        VAULT_PATH_PREFIX="acme",
        NAMESPACE_PREFIX="acme",
        SERVICES="api",
        ENVIRONMENTS="dev prod",
        ENVIRONMENT_CLUSTERS="prod=prod-eu",
    )
    roles, policies = provisioned(ACME)  # all on ArgoCD's mount, as before the move
    prod_roles = {n: r for n, r in roles.items() if n.endswith("-prod")}
    by_mount = {"vault-k8s": roles, "kubernetes-prod-eu": prod_roles}
    found = find_leftovers_on_mounts(moved, by_mount, policies, auth_mount="vault-k8s")
    assert [(f.kind, f.name, f.mount, f.moved) for f in found] == [
        ("role", "acme-api-prod", "vault-k8s", True)
    ]
    assert (
        found[0].reason
        == "environment 'prod' runs in cluster 'prod-eu' now: its roles belong on auth/kubernetes-prod-eu"
    )
    assert found[0].describe().startswith("role acme-api-prod on auth/vault-k8s (")
    # Moved back: the role on the former cluster's mount is the stale one; mounts unknown judge by name only.
    back = find_leftovers_on_mounts(ACME, by_mount, policies, auth_mount="vault-k8s")
    assert [(f.name, f.mount) for f in back] == [("acme-api-prod", "kubernetes-prod-eu")]
    assert find_leftovers(moved, roles, policies) == ()


def test_former_cluster_mounts_are_only_those_named_like_a_cluster_mount() -> None:
    """`kubernetes-<cluster>` of a cluster no longer configured; never `kubernetes` itself (in use by another
    platform when this one uses a custom --auth-mount), nor a mount that merely starts with the word."""
    from gitops_poc.vault.model import Mount
    from gitops_poc.vault.state import former_cluster_mounts

    kube = Mount("kubernetes")
    auths = {
        "kubernetes": kube,
        "kubernetes2": kube,
        "kubernetes-old": kube,
        "k8s": kube,
        "kv-x": Mount("kv"),
    }
    platform = Platform(load_config(None, {}))
    assert former_cluster_mounts(platform, auths, "k8s") == ["kubernetes-old"]
    assert former_cluster_mounts(platform, auths, "kubernetes") == ["kubernetes-old"]
    moved = Platform(load_config(None, {"ENVIRONMENT_CLUSTERS": "prod=old"}))
    assert former_cluster_mounts(moved, auths, "kubernetes") == []
