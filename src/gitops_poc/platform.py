"""The platform model: services x environments, and every name derived from the configuration.

No other module builds these strings by hand, so a rename happens in exactly one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from gitops_poc.config import IN_CLUSTER_NAME, SERVICE_SUFFIX, Config

GITOPS_CONFIG_REPO = "gitops-config"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
VAULT_KV_MOUNT = "secret"
VAULT_KUBERNETES_AUTH_MOUNT = "kubernetes"
# The `aud` a ServiceAccount token must carry to log in to Vault; VaultAuth objects and roles both use it.
VAULT_AUDIENCE = "vault"
# The image pull secret in every environment namespace (`setup registry`); ServiceAccounts list it.
PULL_SECRET = "regsecret"


class Tier(StrEnum):
    """How an environment is sized: the first one is for development, production ones are protected."""

    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


def slug(value: str) -> str:
    """A DNS-1123 label made from a free-form path such as a GitLab group `org/team`."""
    return re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")[:63].rstrip("-")


@dataclass(frozen=True)
class Platform:
    config: Config

    @property
    def services(self) -> tuple[str, ...]:
        return self.config.services

    @property
    def environments(self) -> tuple[str, ...]:
        return self.config.environments

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Every (service, environment), services first: the platform's deployments and Vault identities."""
        return [(s, e) for s in self.services for e in self.environments]

    # --- Kubernetes -------------------------------------------------------------------------------------
    def namespace(self, env: str) -> str:
        prefix = self.config.namespace_prefix
        return f"{prefix}-{env}" if prefix else env

    def environment_of_namespace(self, namespace: str) -> str | None:
        """The environment `namespace(env)` would name `namespace` for, configured or not (None: not this
        platform's naming), e.g. to recognise what a removed environment left behind."""
        prefix = self.config.namespace_prefix
        env = namespace.removeprefix(f"{prefix}-") if prefix else namespace
        return env if env and self.namespace(env) == namespace else None

    def app_name(self, service: str) -> str:
        """The chart's `appName`: names the Deployment, ConfigMaps, HPA and PDB."""
        return service

    def service_host(self, service: str) -> str:
        """The Service the k8app chart creates (`<appName>-sv`); other services must call this name."""
        return f"{self.app_name(service)}{SERVICE_SUFFIX}"

    def service_account(self, service: str) -> str:
        return self.app_name(service)

    def release_name(self, service: str) -> str:
        """One Helm release name for push (CI) and pull (ArgoCD) deploys, so both own the same objects."""
        return service

    # --- ArgoCD -------------------------------------------------------------------------------------------
    @cached_property
    def project_name(self) -> str:
        return slug(self.config.gitlab_group)

    @property
    def applicationset_name(self) -> str:
        return f"{self.project_name}-services"

    def application_name(self, service: str, env: str) -> str:
        return f"{service}-{env}"

    def platform_application_name(self, env: str) -> str:
        """The Application that syncs gitops-config/platform/<env> (ServiceAccounts, VaultAuths)."""
        return f"platform-{env}"

    # --- clusters -------------------------------------------------------------------------------------------
    def cluster_of(self, env: str) -> str | None:
        """The cluster an environment runs in; None: ArgoCD's own cluster (the default)."""
        return dict(self.config.environment_clusters).get(env)

    @property
    def remote_clusters(self) -> tuple[str, ...]:
        """Clusters other than ArgoCD's own, in the order ENVIRONMENT_CLUSTERS names them."""
        return tuple(dict.fromkeys(cluster for _, cluster in self.config.environment_clusters))

    @property
    def multi_cluster(self) -> bool:
        return bool(self.config.environment_clusters)

    def cluster_name(self, env: str) -> str:
        """ArgoCD's name of the environment's cluster (`in-cluster` for its own)."""
        return self.cluster_of(env) or IN_CLUSTER_NAME

    def cluster_context(self, cluster: str | None) -> str:
        """The kube context of a remote cluster: its name, unless CLUSTER_CONTEXTS says otherwise; "" for
        ArgoCD's own (None), which the commands reach through KUBE_CONTEXT."""
        if cluster is None:
            return ""
        return dict(self.config.cluster_contexts).get(cluster, cluster)

    def destination(self, env: str) -> dict[str, str]:
        """An Application's destination: the in-cluster server with one cluster, else the cluster's name."""
        # With more than one cluster, every destination is by name (ArgoCD calls its own `in-cluster`).
        where = {"name": self.cluster_name(env)} if self.multi_cluster else {"server": IN_CLUSTER_SERVER}
        return {**where, "namespace": self.namespace(env)}

    def vault_auth_mount_of_cluster(self, cluster: str | None) -> str:
        return f"{VAULT_KUBERNETES_AUTH_MOUNT}-{cluster}" if cluster else VAULT_KUBERNETES_AUTH_MOUNT

    def vault_auth_mount(self, env: str) -> str:
        """One kubernetes auth mount per cluster (own API server and CA); ArgoCD's keeps `kubernetes`."""
        return self.vault_auth_mount_of_cluster(self.cluster_of(env))

    def agent_context_of(self, env: str) -> str:
        """The kube context push-mode CI deploys `env` through: one agent per cluster."""
        return f"{self.repo_path(GITOPS_CONFIG_REPO)}:{self.agent_name_of_cluster(self.cluster_of(env))}"

    def agent_name_of_cluster(self, cluster: str | None) -> str:
        """The GitLab agent of a cluster: GITLAB_AGENT_NAME in ArgoCD's (None), the cluster's name in another
        (config refuses a cluster named like GITLAB_AGENT_NAME, so no two agents share a name)."""
        return cluster or self.agent_name

    def environments_of_cluster(self, cluster: str | None) -> tuple[str, ...]:
        """The environments a cluster runs (None: ArgoCD's own), in ENVIRONMENTS order."""
        return tuple(env for env in self.environments if self.cluster_of(env) == cluster)

    @property
    def agent_clusters(self) -> tuple[str | None, ...]:
        """The clusters push mode needs an agent in: ArgoCD's own (None) when an environment runs there,
        then every remote cluster."""
        own: tuple[str | None, ...] = (None,) if self.environments_of_cluster(None) else ()
        return own + self.remote_clusters

    def auto_sync(self, env: str) -> bool:
        return env in self.config.auto_sync_environments

    def tier(self, env: str) -> Tier:
        if env in self.config.production_environments:
            return Tier.PRODUCTION
        if env == self.environments[0]:
            return Tier.DEVELOPMENT
        return Tier.STAGING

    def owns_disruption_budget(self, env: str) -> bool:
        """Production PDBs are the platform's (gitops-config/platform/<env>): the chart's selects no pods."""
        return self.tier(env) is Tier.PRODUCTION

    def disruption_budget_name(self, service: str) -> str:
        """Not the chart's PDB name (`appName`), so switching from one to the other never collides."""
        return f"{self.app_name(service)}-pdb"

    def default_disruption_budget(self) -> dict[str, int | str]:
        """PDB_MAX_UNAVAILABLE as a PodDisruptionBudget limit: a number of pods, or a percentage."""
        raw = self.config.pdb_max_unavailable
        return {"maxUnavailable": raw if raw.endswith("%") else int(raw)}

    def allows_scaling(self, env: str) -> bool:
        """HPA and PDB belong to staging and production tiers only (seed README principle)."""
        return self.tier(env) is not Tier.DEVELOPMENT

    # --- GitLab -------------------------------------------------------------------------------------------
    def repo_path(self, repo: str) -> str:
        return f"{self.config.gitlab_group}/{repo}"

    def repo_url(self, repo: str) -> str:
        return f"https://{self.config.gitlab_host}/{self.repo_path(repo)}.git"

    @property
    def gitops_config_repo_url(self) -> str:
        return self.repo_url(GITOPS_CONFIG_REPO)

    @property
    def group_repos_pattern(self) -> str:
        return f"https://{self.config.gitlab_host}/{self.config.gitlab_group}/*"

    def image_repository(self, service: str) -> str:
        return f"{self.config.docker_registry}/{self.config.gitlab_group.lower()}/{service}"

    @property
    def ci_tool_image(self) -> str:
        """The gitops-poc image pipelines run: CI_TOOL_IMAGE, else the group's registry and this version."""
        from gitops_poc import __version__

        return self.config.ci_tool_image or (
            f"{self.config.docker_registry}/{self.config.gitlab_group.lower()}/gitops-poc:{__version__}"
        )

    @property
    def agent_name(self) -> str:
        return self.config.gitlab_agent_name

    @property
    def agent_context(self) -> str:
        """The kube context GitLab CI gets from the agent: `<group>/gitops-config:<agent>`."""
        return f"{self.repo_path(GITOPS_CONFIG_REPO)}:{self.agent_name}"

    # --- Vault --------------------------------------------------------------------------------------------
    def vault_secret_path(self, service: str, env: str) -> str:
        """KV v2 path relative to the `secret/` mount."""
        return f"{self.config.vault_path_prefix}/{service}/{env}/config"

    def vault_data_path(self, service: str, env: str) -> str:
        return f"{VAULT_KV_MOUNT}/data/{self.vault_secret_path(service, env)}"

    def vault_metadata_path(self, service: str, env: str) -> str:
        """KV v2 metadata of the secret: its versions, and whether the latest one is deleted."""
        return f"{VAULT_KV_MOUNT}/metadata/{self.vault_secret_path(service, env)}"

    @property
    def vault_metadata_root(self) -> str:
        """KV v2 metadata of the platform's folder: a LIST of it shows every service that has secrets."""
        return f"{VAULT_KV_MOUNT}/metadata/{self.config.vault_path_prefix}"

    @property
    def vault_data_root(self) -> str:
        """KV v2 data of the platform's folder: every secret's data path starts with it."""
        return f"{VAULT_KV_MOUNT}/data/{self.config.vault_path_prefix}"

    @property
    def vault_name_stem(self) -> str:
        """What every policy and role name of the platform starts with (followed by '-')."""
        return self.config.vault_path_prefix.replace("/", "-")

    def vault_policy(self, service: str, env: str) -> str:
        return f"{self.vault_name_stem}-{service}-{env}"

    def vault_role(self, service: str, env: str) -> str:
        """Carries VAULT_PATH_PREFIX like the policy (same name), so platforms sharing one Vault keep
        apart."""
        return self.vault_policy(service, env)

    def vault_secret_folder(self, service: str, env: str) -> str:
        """Everything under this KV v2 folder belongs to one service in one environment (its policy's
        scope)."""
        return self.vault_secret_path(service, env).rsplit("/", 1)[0]

    def vault_secret_path_template(self, service: str) -> str:
        """`vault_secret_path` with `{env}` left for the chart to fill in from the values' `environment`."""
        return self.vault_secret_path(service, "{env}")

    def vault_auth_name(self, service: str) -> str:
        """The VSO VaultAuth in each namespace that logs in as the service's own ServiceAccount."""
        return f"{self.app_name(service)}-vault-auth"
