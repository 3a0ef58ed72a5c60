"""`plan_vault` is pure: table-driven cases over VaultState values, no server."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from gitops_poc.config import load_config
from gitops_poc.errors import UsageError
from gitops_poc.platform import IN_CLUSTER_SERVER, Platform
from gitops_poc.vault.model import (
    Change,
    ConfigureKubernetesAuth,
    EnableKubernetesAuth,
    EnableKv,
    Hidden,
    KubernetesConfig,
    Mount,
    Policy,
    Role,
    RoleState,
    SecretSeed,
    SecretState,
    ValueSource,
    VaultState,
)
from gitops_poc.vault.provision_plan import (
    ProvisionOptions,
    VaultConflict,
    check_kubernetes_host,
    format_duration,
    parse_duration,
    parse_token_ttl,
    plan_vault,
    policy_hcl,
)
from gitops_poc.vault.secrets_file import SecretsFile, build_seeds

PLATFORM = Platform(load_config(None, {}))
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
OPTIONS = ProvisionOptions(kubernetes_ca_cert=CA)
PAIRS = [(s, e) for s in PLATFORM.services for e in PLATFORM.environments]
SEEDS = build_seeds(PLATFORM, generate=lambda: "generated-value")


def complete() -> VaultState:
    """What a finished provision leaves behind."""
    return VaultState(
        secret_engines={"secret": Mount("kv", "2"), "cubbyhole": Mount("cubbyhole")},
        auth_methods={"token": Mount("token"), "kubernetes": Mount("kubernetes")},
        kubernetes_config=KubernetesConfig("https://kubernetes.default.svc", CA),
        policies={PLATFORM.vault_policy(s, e): policy_hcl(PLATFORM, s, e) for s, e in PAIRS},
        roles={
            PLATFORM.vault_role(s, e): RoleState(
                (s,), (PLATFORM.namespace(e),), "", (PLATFORM.vault_policy(s, e),), "vault", 3600
            )
            for s, e in PAIRS
        },
        secrets={PLATFORM.vault_secret_path(s, e): SecretState(1) for s, e in PAIRS},
    )


def kinds(plan: object) -> list[str]:
    return [f"{type(s).__name__}:{getattr(s, 'change', Change.CREATE).value}" for s in plan]  # type: ignore[attr-defined]


def test_empty_vault_plans_everything_in_order() -> None:
    plan = plan_vault(PLATFORM, VaultState(), SEEDS, OPTIONS)
    assert plan.steps[:3] == (
        EnableKv("secret"),
        EnableKubernetesAuth("kubernetes"),
        ConfigureKubernetesAuth("kubernetes", "https://kubernetes.default.svc", CA),
    )
    assert plan.count() == {
        "secrets-engine": 1,
        "auth-method": 1,
        "auth-config": 1,
        "policy": 15,
        "role": 15,
        "secret": 15,
    }
    role = next(s for s in plan if isinstance(s, Role) and s.name == "gitops-poc-auth-adapter-staging")
    assert role == Role(
        "gitops-poc-auth-adapter-staging",
        "auth-adapter",
        "poc-staging",
        ("gitops-poc-auth-adapter-staging",),
        "vault",
        "1h",
        "kubernetes",
    )
    seed = next(
        s for s in plan if isinstance(s, SecretSeed) and s.path == "gitops-poc/api-gateway/dev/config"
    )
    assert seed.keys == ("API_KEY", "AUTH_ADAPTER_HOST", "LOG_LEVEL") and seed.change is Change.CREATE
    assert seed.version == 0  # check-and-set 0: only if absent
    assert seed.values.as_dict()["AUTH_ADAPTER_HOST"] == "auth-adapter-sv"


def test_complete_vault_plans_nothing() -> None:
    plan = plan_vault(PLATFORM, complete(), SEEDS, OPTIONS)
    assert plan.steps == ()
    assert len(plan.kept_secrets) == 15 and plan.notes == ()


def _role(name: str, **changes: object) -> Callable[[VaultState], VaultState]:
    def edit(state: VaultState) -> VaultState:
        return replace(state, roles={**state.roles, name: replace(state.roles[name], **changes)})  # type: ignore[arg-type]

    return edit


def _drop(field: str, key: str) -> Callable[[VaultState], VaultState]:
    def edit(state: VaultState) -> VaultState:
        return replace(state, **{field: {k: v for k, v in getattr(state, field).items() if k != key}})

    return edit


DRIFT = [
    (
        "role also binds default",
        _role("gitops-poc-web-http-prod", service_accounts=("web-http", "default")),
        ["Role:update"],
    ),
    (
        "role in another namespace",
        _role("gitops-poc-web-http-prod", namespaces=("poc-dev",)),
        ["Role:update"],
    ),
    (
        "role with a namespace selector",
        _role("gitops-poc-web-http-prod", namespace_selector="{}"),
        ["Role:update"],
    ),
    ("role without audience", _role("gitops-poc-web-grpc-dev", audience=""), ["Role:update"]),
    ("role with another ttl", _role("gitops-poc-web-grpc-dev", ttl=60), ["Role:update"]),
    (
        "role without default policy",
        _role("gitops-poc-web-grpc-dev", no_default_policy=True),
        ["Role:update"],
    ),
    (
        "role grants more policies",
        _role("gitops-poc-web-grpc-dev", policies=("gitops-poc-web-grpc-dev", "admin")),
        ["Role:update"],
    ),
    ("role missing", _drop("roles", "gitops-poc-health-demo-prod"), ["Role:create"]),
    ("policy missing", _drop("policies", "gitops-poc-health-demo-prod"), ["Policy:create"]),
    (
        "policy edited",
        lambda s: replace(s, policies={**s.policies, "gitops-poc-web-http-dev": 'path "*" {}'}),
        ["Policy:update"],
    ),
    ("secret missing", _drop("secrets", "gitops-poc/web-http/dev/config"), ["SecretSeed:create"]),
    (
        "auth method missing",
        lambda s: replace(s, auth_methods={}, kubernetes_config=None, roles={}),
        ["EnableKubernetesAuth:create", "ConfigureKubernetesAuth:create"] + ["Role:create"] * 15,
    ),
    (
        "host set earlier is kept",
        lambda s: replace(s, kubernetes_config=KubernetesConfig("https://10.0.0.1:6443", CA)),
        [],
    ),
    (
        "CA changed",
        lambda s: replace(s, kubernetes_config=KubernetesConfig("https://kubernetes.default.svc", "other")),
        ["ConfigureKubernetesAuth:update"],
    ),
    (
        "CA differs only in whitespace",
        lambda s: replace(
            s, kubernetes_config=KubernetesConfig("https://kubernetes.default.svc", "\n" + CA + "\n")
        ),
        [],
    ),
]


@pytest.mark.parametrize(("edit", "expected"), [(e, x) for _, e, x in DRIFT], ids=[n for n, _, _ in DRIFT])
def test_only_differences_become_steps(edit: Callable[[VaultState], VaultState], expected: list[str]) -> None:
    assert kinds(plan_vault(PLATFORM, edit(complete()), SEEDS, OPTIONS)) == expected


def test_the_ca_vault_has_is_kept_when_none_is_given() -> None:
    assert plan_vault(PLATFORM, complete(), SEEDS, ProvisionOptions()).steps == ()
    with pytest.raises(UsageError, match="--kubernetes-ca-file"):
        plan_vault(PLATFORM, VaultState(), SEEDS, ProvisionOptions())


def test_a_dry_run_previews_the_auth_config_without_a_ca() -> None:
    preview = ProvisionOptions(dry_run=True)
    (config,) = [
        s
        for s in plan_vault(PLATFORM, VaultState(), SEEDS, preview)
        if isinstance(s, ConfigureKubernetesAuth)
    ]
    assert config == ConfigureKubernetesAuth("kubernetes", IN_CLUSTER_SERVER, None)
    assert config.describe().startswith(
        "configure kubernetes auth (CA required at apply: pass --kubernetes-ca-file)"
    )
    # A config without a CA in Vault: the dry run shows that the apply will need one.
    no_ca = replace(complete(), kubernetes_config=KubernetesConfig(IN_CLUSTER_SERVER, ""))
    assert plan_vault(PLATFORM, no_ca, SEEDS, preview).steps == (
        ConfigureKubernetesAuth("kubernetes", IN_CLUSTER_SERVER, None, Change.UPDATE),
    )
    with pytest.raises(UsageError, match="--kubernetes-ca-file"):
        plan_vault(PLATFORM, no_ca, SEEDS, ProvisionOptions())
    # With a CA at hand a dry run plans exactly what the apply does.
    assert plan_vault(PLATFORM, VaultState(), SEEDS, replace(OPTIONS, dry_run=True)) == plan_vault(
        PLATFORM, VaultState(), SEEDS, OPTIONS
    )


def test_a_previewed_plan_cannot_be_applied() -> None:
    from gitops_poc.vault.apply import apply_vault

    plan = plan_vault(PLATFORM, VaultState(), SEEDS, ProvisionOptions(dry_run=True))

    class NoVault:  # any request would fail the test: the refusal comes first
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"Vault was called ({name})")

    with pytest.raises(UsageError, match="no CA for the kubernetes auth method .* nothing was changed"):
        apply_vault(plan, NoVault())


@pytest.mark.parametrize(
    "host", ["https://kubernetes.default.svc", "https://10.0.0.1:6443", "http://127.0.0.1:8080/"]
)
def test_good_kubernetes_hosts(host: str) -> None:
    assert check_kubernetes_host(host) == host


@pytest.mark.parametrize(
    "host", ["notaurl", "kubernetes.default.svc", "ftp://x", "https://", "https://a:b", "https://a b"]
)
def test_bad_kubernetes_hosts(host: str) -> None:
    with pytest.raises(UsageError, match="is not an http"):
        check_kubernetes_host(host)


@pytest.mark.parametrize(
    ("text", "message"),
    [("0", "is not a positive duration"), ("0s", "is not a positive duration"), ("1d", "is not a duration")],
)
def test_token_ttl_is_a_positive_duration(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=f"^--token-ttl '{text}' {message}"):
        parse_token_ttl(text)
    assert parse_token_ttl("30m") == 1800


def test_host_and_ca_behave_alike_omitted_keeps_what_vault_has() -> None:
    elsewhere = replace(complete(), kubernetes_config=KubernetesConfig("https://10.0.0.1:6443", "other CA"))
    assert plan_vault(PLATFORM, elsewhere, SEEDS, ProvisionOptions()).steps == ()  # neither given: both kept
    (host_only,) = plan_vault(
        PLATFORM, elsewhere, SEEDS, ProvisionOptions(kubernetes_host=IN_CLUSTER_SERVER)
    ).steps
    assert host_only == ConfigureKubernetesAuth("kubernetes", IN_CLUSTER_SERVER, "other CA", Change.UPDATE)
    (ca_only,) = plan_vault(PLATFORM, elsewhere, SEEDS, OPTIONS).steps
    assert ca_only == ConfigureKubernetesAuth("kubernetes", "https://10.0.0.1:6443", CA, Change.UPDATE)
    # Nothing configured yet: the in-cluster API server, and a CA is required.
    empty = plan_vault(PLATFORM, VaultState(), SEEDS, OPTIONS)
    assert ConfigureKubernetesAuth("kubernetes", IN_CLUSTER_SERVER, CA) in empty.steps


@pytest.mark.parametrize(
    ("engines", "auths", "message"),
    [
        ({"secret": Mount("kv", "1")}, {}, "secret/ is mounted as KV version 1"),
        ({"secret": Mount("kv", "")}, {}, "secret/ is mounted as KV version 1"),
        ({"secret": Mount("transit")}, {}, "secret/ is mounted as a transit secrets engine"),
        (
            {"secret": Mount("kv", "2")},
            {"kubernetes": Mount("approle")},
            "auth/kubernetes/ is a approle auth method",
        ),
    ],
)
def test_conflicting_mounts_stop_the_plan(
    engines: dict[str, Mount], auths: dict[str, Mount], message: str
) -> None:
    with pytest.raises(VaultConflict, match=message):
        plan_vault(PLATFORM, VaultState(secret_engines=engines, auth_methods=auths), SEEDS, OPTIONS)


def file_with(entries: dict[tuple[str, str], dict[str, str | None]]) -> SecretsFile:
    from pathlib import Path

    return SecretsFile(Path("s.yaml"), entries)


def test_existing_secrets_are_kept_and_the_file_values_are_only_noted() -> None:
    seeds = build_seeds(PLATFORM, file_with({("api-gateway", "prod"): {"API_KEY": "new"}}))
    plan = plan_vault(PLATFORM, complete(), seeds, OPTIONS)
    assert plan.steps == ()
    assert plan.notes == (
        (
            "1 secret(s) named in the secrets file already exist and were kept; "
            "pass --overwrite-secrets to write the file's values over them"
        ),
    )


def test_overwrite_lays_the_file_keys_over_the_current_values() -> None:
    path = "gitops-poc/api-gateway/prod/config"
    current = Hidden.of({"API_KEY": "old", "HAND_MADE": "kept", "TOKEN": "exists"})
    state = replace(complete(), secrets={**complete().secrets, path: SecretState(4, data=current)})
    seeds = build_seeds(
        PLATFORM,
        file_with({("api-gateway", "prod"): {"API_KEY": "new", "TOKEN": None, "FRESH": None}}),
        generate=lambda: "generated",
    )
    options = replace(OPTIONS, overwrite_secrets=True)
    (step,) = plan_vault(PLATFORM, state, seeds, options).steps
    assert isinstance(step, SecretSeed)
    assert step.change is Change.UPDATE and step.version == 4  # check-and-set on the version that was read
    assert step.keys == ("API_KEY", "FRESH")  # TOKEN exists, so it is not regenerated
    assert step.values.as_dict() == {
        "API_KEY": "new",
        "HAND_MADE": "kept",
        "TOKEN": "exists",
        "FRESH": "generated",
    }

    same = replace(
        state, secrets={**state.secrets, path: SecretState(5, data=Hidden.of(step.values.as_dict()))}
    )
    assert plan_vault(PLATFORM, same, seeds, options).steps == ()


def test_a_deleted_secret_is_left_alone_with_a_note() -> None:
    path = "gitops-poc/web-grpc/staging/config"
    state = replace(complete(), secrets={**complete().secrets, path: SecretState(3, deleted=True)})
    plan = plan_vault(PLATFORM, state, SEEDS, replace(OPTIONS, overwrite_secrets=True))
    assert plan.steps == ()
    assert plan.notes == (f"secret/{path}: its latest version is deleted; left as it is",)


def test_policy_reads_only_its_own_folder() -> None:
    hcl = policy_hcl(PLATFORM, "web-http", "staging")
    paths = [line.split('"')[1] for line in hcl.splitlines() if line.startswith("path")]
    assert paths == [
        "secret/data/gitops-poc/web-http/staging/*",
        "secret/metadata/gitops-poc/web-http/staging/*",
    ]
    assert '["read"]' in hcl and "create" not in hcl and "update" not in hcl
    # The globs are the Platform's own KV v2 paths: they cover this pair's secret and no other pair's.
    for service, env in PAIRS:
        own = (service, env) == ("web-http", "staging")
        for path, glob in zip(
            (PLATFORM.vault_data_path(service, env), PLATFORM.vault_metadata_path(service, env)),
            paths,
            strict=True,
        ):
            assert path.startswith(glob.removesuffix("*")) is own, (service, env, glob)


def test_plan_output_never_contains_values() -> None:
    seeds = build_seeds(
        PLATFORM, file_with({("web-http", "dev"): {"PASSWORD": "hunter2"}}), generate=lambda: "rnd-42"
    )
    plan = plan_vault(PLATFORM, VaultState(), seeds, OPTIONS)
    seed = next(s for s in plan if isinstance(s, SecretSeed) and s.path == "gitops-poc/web-http/dev/config")
    assert seed.values.as_dict()["PASSWORD"] == "hunter2"
    assert seed.sources == (ValueSource.DEFAULT.value, ValueSource.FILE.value)
    for text in (repr(plan), str(plan), json.dumps(plan.as_json()), "\n".join(s.describe() for s in plan)):
        assert "hunter2" not in text and "rnd-42" not in text and "demo-api-key" not in text
    assert repr(seeds[("web-http", "dev")]) == "SeedValues(keys=['ENVIRONMENT', 'PASSWORD', 'SERVICE_NAME'])"


@pytest.mark.parametrize(
    ("text", "seconds"), [("1h", 3600), ("90m", 5400), ("1h30m", 5400), ("45s", 45), ("600", 600)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "1d", "h", "-5", "1h 30m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError, match="is not a duration"):
        parse_duration(text)


def test_prefix_with_slashes_names_policies_and_paths_from_the_platform() -> None:
    platform = Platform(load_config(None, {"VAULT_PATH_PREFIX": "team/gitops", "SERVICES": "api"}))
    plan = plan_vault(platform, VaultState(), build_seeds(platform), OPTIONS)
    policies = [s for s in plan if isinstance(s, Policy)]
    assert [p.name for p in policies] == [
        "team-gitops-api-dev",
        "team-gitops-api-staging",
        "team-gitops-api-prod",
    ]
    assert 'path "secret/data/team/gitops/api/dev/*"' in policies[0].hcl
    assert next(s.path for s in plan if isinstance(s, SecretSeed)) == "team/gitops/api/dev/config"
