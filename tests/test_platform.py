from __future__ import annotations

from gitops_poc.config import parse_config
from gitops_poc.platform import Platform, Tier


def platform(text: str = "") -> Platform:
    return Platform(parse_config(text, ".env", {}))


def test_names_for_the_default_platform() -> None:
    p = platform()
    assert p.namespace("dev") == "poc-dev"
    assert p.application_name("api-gateway", "prod") == "api-gateway-prod"
    assert p.release_name("api-gateway") == "api-gateway"
    assert p.service_host("auth-adapter") == "auth-adapter-sv"
    assert p.repo_url("web-grpc") == "https://gitlab.com/gitops-poc/web-grpc.git"
    assert p.image_repository("health-demo") == "registry.gitlab.com/gitops-poc/health-demo"
    assert p.agent_context == "gitops-poc/gitops-config:minikube-agent"
    assert p.vault_secret_path("api-gateway", "dev") == "gitops-poc/api-gateway/dev/config"
    assert p.vault_data_path("api-gateway", "dev") == "secret/data/gitops-poc/api-gateway/dev/config"
    assert p.vault_metadata_path("api-gateway", "dev") == "secret/metadata/gitops-poc/api-gateway/dev/config"
    assert p.vault_metadata_root == "secret/metadata/gitops-poc"
    assert p.vault_policy("api-gateway", "dev") == "gitops-poc-api-gateway-dev"
    assert p.vault_role("api-gateway", "dev") == "gitops-poc-api-gateway-dev"
    assert p.service_account("api-gateway") == "api-gateway"


def test_empty_prefix_uses_the_environment_as_namespace() -> None:
    assert platform("NAMESPACE_PREFIX=\n").namespace("staging") == "staging"


def test_subgroup_paths_become_valid_kubernetes_names() -> None:
    p = platform("GITLAB_GROUP=Org/Team.Apps\nVAULT_PATH_PREFIX=org/team\n")
    assert p.project_name == "org-team-apps"
    assert p.repo_url("x") == "https://gitlab.com/Org/Team.Apps/x.git"
    assert p.image_repository("x") == "registry.gitlab.com/org/team.apps/x"
    assert p.vault_policy("x", "dev") == "org-team-x-dev"


def test_tiers_and_sync() -> None:
    p = platform('ENVIRONMENTS="dev qa stage prod"\nPRODUCTION_ENVIRONMENTS=prod\n')
    assert [p.tier(e) for e in p.environments] == [
        Tier.DEVELOPMENT,
        Tier.STAGING,
        Tier.STAGING,
        Tier.PRODUCTION,
    ]
    assert [p.auto_sync(e) for e in p.environments] == [True, True, True, False]
    assert not p.allows_scaling("dev") and p.allows_scaling("qa")
