"""Load `.env` (plus process environment) into one validated `Config`.

Precedence for every key: process environment, then the `.env` file, then the built-in default.
`${VAR}` / `${VAR:-default}` references are expanded as in the original shell scripts, but a key that is
present and empty stays empty (so `NAMESPACE_PREFIX=` really means "no prefix").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dotenv.variables import Literal as TextAtom
from dotenv.variables import Variable, parse_variables
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator, model_validator

from gitops_poc import fileio
from gitops_poc.dnsnames import DNS1035_LABEL, DNS1123_LABEL, NameRule
from gitops_poc.envfile import MAX_LINE, bindings
from gitops_poc.errors import ConfigError
from gitops_poc.imageref import domain_problem, pinned_reference_problem, registry_problem, repository_problem
from gitops_poc.redact import remember, remember_url_passwords
from gitops_poc.refname import branch_problem
from gitops_poc.yamlio import reads_as_text

DEFAULTS: dict[str, str] = {
    "GITLAB_GROUP": "gitops-poc",
    "GITLAB_HOST": "gitlab.com",
    "DOCKER_REGISTRY": "registry.${GITLAB_HOST}",
    "KUBE_CONTEXT": "minikube",
    "VAULT_PATH_PREFIX": "gitops-poc",
    "SERVICES": "api-gateway auth-adapter web-grpc web-http health-demo",
    "ENVIRONMENTS": "dev staging prod",
    "NAMESPACE_PREFIX": "poc",
    "PRODUCTION_ENVIRONMENTS": "prod",
    "AUTO_SYNC_ENVIRONMENTS": "",
    "PDB_MAX_UNAVAILABLE": "1",
    "GITOPS_MODE": "pull",
    "CHART_REPO": "https://d7561985.github.io/k8app",
    "CHART_NAME": "app",
    "CHART_VERSION": "3.13.0",
    # An environment on another chart version than CHART_VERSION: ENV=VERSION pairs (`rollout chart` stages
    # a new version through the environments; the environments not named use CHART_VERSION).
    "CHART_VERSIONS": "",
    "GITLAB_AGENT_NAME": "minikube-agent",
    "ARGOCD_NAMESPACE": "argocd",
    "GIT_BRANCH": "main",
    # Empty: <DOCKER_REGISTRY>/<group>/gitops-poc:<this tool's version> (Platform.ci_tool_image).
    "CI_TOOL_IMAGE": "",
    # More than one cluster: ENV=CLUSTER pairs; environments not named run in ArgoCD's own cluster. A
    # cluster is reached through the kube context of its name unless CLUSTER_CONTEXTS says CLUSTER=CONTEXT.
    "ENVIRONMENT_CLUSTERS": "",
    "CLUSTER_CONTEXTS": "",
    # The platform's single Vault as the Vault Secrets Operator of another cluster reaches it (the in-cluster
    # address only works in ArgoCD's cluster); required by `setup infrastructure` with ENVIRONMENT_CLUSTERS.
    "VAULT_EXTERNAL_ADDR": "",
    # Cluster bootstrap (`setup infrastructure`): minikube sizes, the Kubernetes version manifests are
    # validated for, and the pinned infrastructure charts.
    "KUBERNETES_VERSION": "1.34.0",
    "MINIKUBE_CPUS": "4",
    "MINIKUBE_MEMORY": "8192",
    "MINIKUBE_DISK_SIZE": "40g",
    "ARGO_HELM_REPO": "https://argoproj.github.io/argo-helm",
    "ARGOCD_CHART_VERSION": "10.1.1",
    "HASHICORP_HELM_REPO": "https://helm.releases.hashicorp.com",
    "VAULT_CHART_VERSION": "0.34.1",
    "VSO_CHART_VERSION": "1.4.1",
    "VAULT_DEV_MODE": "false",
    "GITLAB_HELM_REPO": "https://charts.gitlab.io",
    "GITLAB_AGENT_CHART_VERSION": "2.12.2",
    "GITLAB_KAS_ADDRESS": "wss://kas.${GITLAB_HOST}",
    "GITLAB_DEPLOY_TOKEN_USER": "",
    "GITLAB_DEPLOY_TOKEN": "",
    "GITLAB_AGENT_TOKEN": "",
}
SECRET_KEYS = frozenset({"GITLAB_DEPLOY_TOKEN", "GITLAB_AGENT_TOKEN"})
# The agent token of each cluster of ENVIRONMENT_CLUSTERS (one agent per cluster, push mode): the key is
# GITLAB_AGENT_TOKEN_ and the cluster name in capitals with '_' for '-' (prod-eu: GITLAB_AGENT_TOKEN_PROD_EU).
# GITLAB_AGENT_TOKEN stays the token of the agent in ArgoCD's own cluster.
CLUSTER_AGENT_TOKEN_PREFIX = "GITLAB_AGENT_TOKEN_"
# Keys of the original .env.example that no command reads; accepted so old files keep loading.
IGNORED_KEYS = frozenset({"PROJECT_PREFIX"})
# Read from the process environment by the Vault and Kubernetes clients; a token must not sit in a file
# that gets copied around, so these are refused in .env with the reason instead of "unknown key".
_VAULT_ONLY = "Vault is reached through the process environment (VAULT_ADDR/VAULT_TOKEN), not .env"
PROCESS_ONLY_KEYS = {
    "VAULT_ADDR": _VAULT_ONLY,
    "VAULT_TOKEN": _VAULT_ONLY,
    "KUBECONFIG": "the cluster is reached through the process environment (KUBECONFIG), not .env",
}
# Names that pass the Kubernetes rules but collide with something the platform itself owns.
RESERVED_SERVICES = {
    "default": (
        "it would run as the namespace's shared 'default' ServiceAccount, which least privilege forbids"
    ),
    "gitops-config": (
        "that is the platform's own repository (<group>/gitops-config)"
    ),  # platform.GITOPS_CONFIG_REPO
    # Platform.platform_application_name: the Application syncing gitops-config/platform/<env>.
    "platform": "its Applications <service>-<env> would be the platform-<env> Applications of gitops-config",
}
RESERVED_ENVIRONMENTS = {
    "default": "its values file would be .cicd/default.yaml, the file every environment shares",
}

GITLAB_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$")
HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$")
VAULT_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
VAULT_URL = re.compile(r"^https?://(?P<host>[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?/?$")
SEMVER = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
MAX_NAME = DNS1123_LABEL.max_length
SERVICE_SUFFIX = "-sv"  # the k8app chart names the Service <appName>-sv
IN_CLUSTER_NAME = "in-cluster"  # ArgoCD's name for the cluster it runs in


def agent_token_key(cluster: str | None) -> str:
    """The .env key of the agent token of `cluster` (None: ArgoCD's own cluster, GITLAB_AGENT_TOKEN)."""
    if cluster is None:
        return "GITLAB_AGENT_TOKEN"
    return CLUSTER_AGENT_TOKEN_PREFIX + cluster.upper().replace("-", "_")


def _dot_segment(path: str) -> bool:
    """Does `path` have a '.' or '..' part (that moves up or stays put instead of naming a folder)?"""
    return any(part in (".", "..") for part in path.split("/"))


def _words(raw: str) -> tuple[str, ...]:
    return tuple(w for w in re.split(r"[\s,]+", raw.strip()) if w)


def _label_error(kind: str, value: str, rule: NameRule) -> str | None:
    if not value:
        return f"{kind} must not be empty"
    if len(value) > rule.max_length:
        return f"{kind} {value!r} is {len(value)} characters long; Kubernetes allows {rule.max_length}"
    if not rule.matches(value):
        return (
            f"{kind} {value!r} is not a valid Kubernetes name: use lowercase letters, digits and '-', "
            f"starting with {rule.starts_with} and ending with a letter or digit"
        )
    if not reads_as_text(value):
        # Names land unquoted in YAML that people and tools edit: `on` would become true, `0755` 493.
        return (
            f"{kind} {value!r} is a valid Kubernetes name, but YAML 1.1 readers (Helm, kubectl, ArgoCD) read "
            "it as a boolean, number or null, not as text: choose another name"
        )
    return None


def service_name_error(name: str) -> str | None:
    """Why `name` cannot be a service (None when it can): the rules for one SERVICES entry."""
    # A Service name is a DNS-1035 label and the chart appends "-sv".
    if err := _label_error("service name", name, DNS1035_LABEL):
        return err
    if len(name) + len(SERVICE_SUFFIX) > MAX_NAME:
        return (
            f"service name {name!r} is too long: the chart's Service {name}{SERVICE_SUFFIX!r} "
            f"would exceed {MAX_NAME} characters"
        )
    if name in RESERVED_SERVICES:
        return f"service name {name!r} is reserved: {RESERVED_SERVICES[name]}"
    return None


def context_error(context: str) -> str | None:
    """A kube context reaches kubectl's and helm's argv: never something they could read as an option."""
    if not context.strip():
        return "the kube context is empty"
    if context.startswith("-") or not context.isprintable():
        return f"kube context {context!r} starts with '-' or holds a control character"
    return None


def _unique(kind: str, values: tuple[str, ...]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{kind} {value!r} is listed twice")
        seen.add(value)


def _environment_names(names: tuple[str, ...]) -> tuple[str, ...]:
    if not names:
        raise ValueError("the list is empty; name at least one environment")
    for name in names:
        if err := _label_error("environment name", name, DNS1123_LABEL):
            raise ValueError(err)
        if name in RESERVED_ENVIRONMENTS:
            raise ValueError(f"environment name {name!r} is reserved: {RESERVED_ENVIRONMENTS[name]}")
    _unique("environment", names)
    return names


def environments_of(raw: str, source: str = "ENVIRONMENTS") -> tuple[str, ...]:
    """An ENVIRONMENTS list given on its own (a pipeline variable, `--environments`), checked as .env's."""
    try:
        return _environment_names(_words(raw))
    except ValueError as exc:
        raise ConfigError(f"{raw.strip()!r}: {exc}", source=source, key="ENVIRONMENTS") from None


def environment_error(name: str, environments: tuple[str, ...]) -> str | None:
    """Why `name` is not an environment of the platform (None: it is one). Every command that takes an
    environment asks this, so a values file left over from a removed environment is never written."""
    if name in environments:
        return None
    return f"unknown environment {name!r}; ENVIRONMENTS has: {' '.join(environments)}"


class Config(BaseModel):
    """The validated platform configuration. Field aliases are the `.env` keys."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    gitlab_group: str
    gitlab_host: str
    docker_registry: str
    kube_context: str
    vault_path_prefix: str
    services: tuple[str, ...]
    environments: tuple[str, ...]
    namespace_prefix: str
    production_environments: tuple[str, ...]
    auto_sync_environments: tuple[str, ...]
    pdb_max_unavailable: str
    gitops_mode: Literal["pull", "push"]
    chart_repo: str
    chart_name: str
    chart_version: str
    gitlab_agent_name: str
    argocd_namespace: str
    git_branch: str
    environment_clusters: tuple[tuple[str, str], ...] = ()
    chart_versions: tuple[tuple[str, str], ...] = ()
    cluster_contexts: tuple[tuple[str, str], ...] = ()
    vault_external_addr: str = ""
    ci_tool_image: str = ""
    kubernetes_version: str = "1.34.0"
    minikube_cpus: int = 4
    minikube_memory: int = 8192
    minikube_disk_size: str = "40g"
    argo_helm_repo: str = "https://argoproj.github.io/argo-helm"
    argocd_chart_version: str = "10.1.1"
    hashicorp_helm_repo: str = "https://helm.releases.hashicorp.com"
    vault_chart_version: str = "0.34.1"
    vso_chart_version: str = "1.4.1"
    vault_dev_mode: bool = False
    gitlab_helm_repo: str = "https://charts.gitlab.io"
    gitlab_agent_chart_version: str = "2.12.2"
    gitlab_kas_address: str = "wss://kas.gitlab.com"
    gitlab_deploy_token_user: str = ""
    gitlab_deploy_token: SecretStr = SecretStr("")
    gitlab_agent_token: SecretStr = SecretStr("")
    # (cluster, token) from GITLAB_AGENT_TOKEN_<CLUSTER> keys (agent_token_key).
    cluster_agent_tokens: tuple[tuple[str, SecretStr], ...] = ()

    def chart_version_of(self, env: str) -> str:
        """The chart version `env` deploys: its CHART_VERSIONS entry, else CHART_VERSION."""
        return dict(self.chart_versions).get(env, self.chart_version)

    def agent_token(self, cluster: str | None) -> str:
        """The agent token of `cluster` (None: ArgoCD's own), "" when not given."""
        if cluster is None:
            return self.gitlab_agent_token.get_secret_value()
        return dict(self.cluster_agent_tokens).get(cluster, SecretStr("")).get_secret_value()

    @field_validator("gitlab_group")
    @classmethod
    def _group(cls, v: str) -> str:
        if not GITLAB_PATH.match(v) or v.endswith((".git", ".atom")):
            raise ValueError(
                f"{v!r} is not a GitLab group path (letters, digits, '_', '.', '-', '/' between subgroups)"
            )
        return v

    @field_validator("gitlab_host")
    @classmethod
    def _host(cls, v: str) -> str:
        if not HOST.match(v) or domain_problem(v):
            raise ValueError(
                f"{v!r} is not a host name (no scheme, no path; an optional :port from 1 to 65535)"
            )
        return v

    @field_validator("docker_registry")
    @classmethod
    def _registry(cls, v: str) -> str:
        if problem := registry_problem(v):
            raise ValueError(
                f"{v!r} is not a registry host (e.g. registry.gitlab.com or registry.example.com:5000, no "
                f"scheme): {problem}"
            )
        return v

    @field_validator("vault_path_prefix")
    @classmethod
    def _vault_prefix(cls, v: str) -> str:
        if not VAULT_PATH.match(v) or _dot_segment(v):
            raise ValueError(
                f"{v!r} is not a Vault path prefix (letters, digits, '_', '.', '-', '/' between parts; "
                "no '.' or '..' part: it names policies, roles and secret paths)"
            )
        return v

    @field_validator("services")
    @classmethod
    def _services(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("the list is empty; name at least one service")
        for name in v:
            if err := service_name_error(name):
                raise ValueError(err)
        _unique("service", v)
        return v

    @field_validator("environments")
    @classmethod
    def _environments(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _environment_names(v)

    @field_validator("namespace_prefix")
    @classmethod
    def _ns_prefix(cls, v: str) -> str:
        if v and (err := _label_error("namespace prefix", v, DNS1123_LABEL)):
            raise ValueError(err)
        return v

    @field_validator("gitlab_agent_name", "argocd_namespace")
    @classmethod
    def _label(cls, v: str) -> str:
        if err := _label_error("name", v, DNS1123_LABEL):
            raise ValueError(err)
        return v

    @field_validator("chart_repo")
    @classmethod
    def _chart_repo(cls, v: str) -> str:
        if not re.match(r"^(https?|oci)://[^\s]+$", v):
            raise ValueError(f"{v!r} is not a Helm repository URL (https://... or oci://...)")
        return v.rstrip("/")

    @field_validator("chart_name", "kube_context", "git_branch")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        if not v.strip() or re.search(r"\s", v):
            raise ValueError(f"{v!r} must be one non-empty word")
        return v

    @field_validator("chart_name")
    @classmethod
    def _chart_name(cls, v: str) -> str:
        # An operand of `helm pull` and `helm upgrade`: a name, never something helm reads as an option.
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", v):
            raise ValueError(
                f"{v!r} is not a chart name (letters, digits, '.', '_', '-'; a letter or digit first)"
            )
        return v

    @field_validator("git_branch")
    @classmethod
    def _branch(cls, v: str) -> str:
        if problem := branch_problem(v):
            raise ValueError(f"{v!r} is not a branch name git accepts: {problem}")
        return v

    @field_validator("kube_context")
    @classmethod
    def _context(cls, v: str) -> str:
        if err := context_error(v):
            raise ValueError(err)
        return v

    @field_validator("cluster_contexts")
    @classmethod
    def _contexts(cls, v: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        for _cluster, context in v:
            if err := context_error(context):
                raise ValueError(err)
        return v

    @field_validator("environment_clusters", "cluster_contexts", "chart_versions", mode="before")
    @classmethod
    def _pairs(cls, v: object) -> object:
        if not isinstance(v, str):
            return v
        pairs = []
        for word in _words(v):
            left, sep, right = word.partition("=")
            if not sep or not left or not right:
                raise ValueError(f"{word!r} is not NAME=VALUE (e.g. prod=prod-eu)")
            pairs.append((left, right))
        return tuple(pairs)

    @field_validator("ci_tool_image")
    @classmethod
    def _tool_image(cls, v: str) -> str:
        if v and (problem := pinned_reference_problem(v)):
            raise ValueError(
                f"{v!r} is not an image reference (<registry>/<path>:<tag> or "
                f"<registry>/<path>@sha256:<digest>): {problem}"
            )
        return v

    @field_validator("pdb_max_unavailable")
    @classmethod
    def _pdb_budget(cls, v: str) -> str:
        # 0 or 0% would block every eviction (node drains, cluster upgrades) in production.
        match = re.fullmatch(r"([0-9]+)(%?)", v)
        if not match or int(match[1]) < 1 or (match[2] and int(match[1]) > 100):
            raise ValueError(
                f"{v!r} is not a disruption budget: give the pods that may be down at once, a number of at "
                "least 1 or a percentage from 1% to 100%"
            )
        return v

    @field_validator("vault_external_addr")
    @classmethod
    def _vault_external_addr(cls, v: str) -> str:
        if not v:
            return v
        match = VAULT_URL.match(v)
        if not match or domain_problem(v.split("://", 1)[1].rstrip("/")):
            raise ValueError(
                f"{v!r} is not a Vault address (http(s)://HOST[:PORT], e.g. https://vault.example.com)"
            )
        host = match.group("host").lower()
        if host.endswith((".svc", ".svc.cluster.local")) or host in {"localhost", "127.0.0.1", "::1"}:
            raise ValueError(
                f"{v!r} only answers inside one cluster or on this machine; give the address other clusters "
                "reach Vault at (a LoadBalancer, an ingress or a DNS name)"
            )
        return v.rstrip("/")

    @field_validator("kubernetes_version")
    @classmethod
    def _kubernetes_version(cls, v: str) -> str:
        if not re.match(r"^v?1\.[0-9]+\.[0-9]+$", v):
            raise ValueError(f"{v!r} is not a Kubernetes version such as 1.34.0")
        return v.removeprefix("v")

    @field_validator("minikube_cpus", "minikube_memory")
    @classmethod
    def _positive(cls, v: int) -> int:
        if v <= 0:
            raise ValueError(f"{v} must be a positive whole number (CPUs, or memory in MiB)")
        return v

    @field_validator("minikube_disk_size")
    @classmethod
    def _disk_size(cls, v: str) -> str:
        if not re.match(r"^[1-9][0-9]*[mg]$", v):
            raise ValueError(f"{v!r} is not a disk size such as 40g or 20480m")
        return v

    @field_validator("vault_dev_mode", mode="before")
    @classmethod
    def _flag(cls, v: object) -> object:
        if isinstance(v, str):
            if v.lower() not in ("true", "false"):
                raise ValueError(f"{v!r} is not true or false")
            return v.lower() == "true"
        return v

    @field_validator("argo_helm_repo", "hashicorp_helm_repo", "gitlab_helm_repo")
    @classmethod
    def _helm_repo(cls, v: str) -> str:
        if not re.match(r"^(https?|oci)://[^\s]+$", v):
            raise ValueError(f"{v!r} is not a Helm repository URL (https://... or oci://...)")
        return v.rstrip("/")

    @field_validator("gitlab_kas_address")
    @classmethod
    def _kas(cls, v: str) -> str:
        if not re.match(r"^(wss?|grpcs?)://[^\s]+$", v):
            raise ValueError(
                f"{v!r} is not a KAS address (wss://kas.gitlab.com or wss://HOST/-/kubernetes-agent/)"
            )
        return v

    @field_validator(
        "argocd_chart_version", "vault_chart_version", "vso_chart_version", "gitlab_agent_chart_version"
    )
    @classmethod
    def _pinned(cls, v: str) -> str:
        if not SEMVER.match(v):
            raise ValueError(f"{v!r} is not an exact chart version (pin one such as 1.4.1)")
        return v

    @field_validator("chart_version")
    @classmethod
    def _chart_version(cls, v: str) -> str:
        if not SEMVER.match(v):
            raise ValueError(
                f"{v!r} is not an exact chart version; pin one such as 3.13.0 (ranges and '*' make deploys"
                " drift)"
            )
        return v

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        envs = set(self.environments)
        shown_versions = " ".join(f"{e}={v}" for e, v in self.chart_versions)
        for env, version in self.chart_versions:
            if env not in envs:
                raise _CrossError(
                    "CHART_VERSIONS",
                    shown_versions,
                    f"environment {env!r} is not in ENVIRONMENTS ({' '.join(self.environments)})",
                )
            if not SEMVER.match(version):
                raise _CrossError(
                    "CHART_VERSIONS",
                    shown_versions,
                    f"{env}: {version!r} is not an exact chart version; pin one such as 3.13.0",
                )
        if len(dict(self.chart_versions)) != len(self.chart_versions):
            raise _CrossError("CHART_VERSIONS", shown_versions, "an environment is given two versions")
        for key, listed in (
            ("PRODUCTION_ENVIRONMENTS", self.production_environments),
            ("AUTO_SYNC_ENVIRONMENTS", self.auto_sync_environments),
        ):
            for env in listed:
                if env not in envs:
                    raise _CrossError(
                        key,
                        env,
                        f"environment {env!r} is not in ENVIRONMENTS ({' '.join(self.environments)})",
                    )
        clusters: set[str] = set()
        shown = " ".join(f"{e}={c}" for e, c in self.environment_clusters)
        for env, cluster in self.environment_clusters:
            if env not in envs:
                env_list = " ".join(self.environments)
                raise _CrossError(
                    "ENVIRONMENT_CLUSTERS", shown, f"environment {env!r} is not in ENVIRONMENTS ({env_list})"
                )
            if err := _label_error("cluster name", cluster, DNS1123_LABEL):
                raise _CrossError("ENVIRONMENT_CLUSTERS", shown, err)
            if cluster == IN_CLUSTER_NAME:
                raise _CrossError(
                    "ENVIRONMENT_CLUSTERS",
                    shown,
                    f"{IN_CLUSTER_NAME!r} is ArgoCD's own cluster: leave {env} out instead",
                )
            if cluster == self.gitlab_agent_name:
                # The cluster's GitLab agent is named after it (Platform.agent_name_of_cluster).
                raise _CrossError(
                    "ENVIRONMENT_CLUSTERS",
                    shown,
                    f"cluster {cluster!r} is named like GITLAB_AGENT_NAME, the agent of ArgoCD's own "
                    "cluster; the agent of another cluster takes the cluster's name: rename one of them",
                )
            clusters.add(cluster)
        if len({e for e, _ in self.environment_clusters}) != len(self.environment_clusters):
            raise _CrossError("ENVIRONMENT_CLUSTERS", shown, "an environment is mapped twice")
        for cluster, _context in self.cluster_contexts:
            if cluster not in clusters:
                raise _CrossError(
                    "CLUSTER_CONTEXTS", cluster, f"cluster {cluster!r} is not in ENVIRONMENT_CLUSTERS"
                )
        for env in self.auto_sync_environments:
            if env in self.production_environments:
                raise _CrossError(
                    "AUTO_SYNC_ENVIRONMENTS",
                    env,
                    f"{env!r} is a production environment; production never syncs automatically",
                )
        for env in self.environments:
            namespace = f"{self.namespace_prefix}-{env}" if self.namespace_prefix else env
            if len(namespace) > MAX_NAME:
                # An environment name alone fits (checked above), so only a prefix can make it too long.
                raise _CrossError(
                    "NAMESPACE_PREFIX",
                    self.namespace_prefix,
                    f"namespace {namespace!r} for environment {env!r} would exceed {MAX_NAME} characters",
                )
        for service in self.services:
            repository = f"{self.docker_registry}/{self.gitlab_group.lower()}/{service}"  # image_repository
            if problem := repository_problem(repository):
                raise _CrossError(
                    "GITLAB_GROUP",
                    self.gitlab_group,
                    f"the image repository <DOCKER_REGISTRY>/<group>/<service> {repository!r} is not valid: "
                    f"{problem}",
                )
        # `<service>-<env>` names the Application and (after the Vault prefix) the Vault policy and role
        # (Platform.application_name / vault_policy); two different pairs must never make the same one.
        made: dict[str, tuple[str, str]] = {}
        services = " ".join(self.services)
        for service in self.services:
            for env in self.environments:
                app = f"{service}-{env}"
                if len(app) > MAX_NAME:
                    raise _CrossError(
                        "SERVICES", services, f"Application name {app!r} would exceed {MAX_NAME} characters"
                    )
                first_service, first_env = made.setdefault(app, (service, env))
                if (first_service, first_env) != (service, env):
                    raise _CrossError(
                        "SERVICES",
                        services,
                        f"service {first_service!r} in environment {first_env!r} and service {service!r} in "
                        f"environment {env!r} both make {app!r} (Application, Vault policy and role names "
                        "must differ); rename one of them",
                    )
        return self


class _CrossError(ValueError):
    def __init__(self, key: str, value: str, message: str) -> None:
        self.key, self.value = key, value
        super().__init__(message)


@dataclass(frozen=True)
class _Origin:
    """Where a key's value came from, for error messages."""

    label: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.label}:{self.line}" if self.line else self.label


FIELD_BY_KEY = {key: key.lower() for key in DEFAULTS}


def _shown(key: str, value: str) -> str:
    """A value as error messages may show it: never a secret, nor anything under a key we do not know."""
    if key not in DEFAULTS or key in SECRET_KEYS:
        return "'***'"
    return repr(value) if len(value) <= 80 else f"{value[:77]!r}... ({len(value)} characters)"


_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE_KEY|API_KEY", re.IGNORECASE)


def _is_secret_name(name: str) -> bool:
    return name in SECRET_KEYS or _SECRET_NAME.search(name) is not None


def _value_error(key: str, value: str, message: str, origin: object) -> ConfigError:
    return ConfigError(f"{key}={_shown(key, value)}: {message}", source=str(origin), key=key)


def _known_key(word: str) -> bool:
    word = word.upper()
    return word in DEFAULTS or word in PROCESS_ONLY_KEYS or word.startswith(CLUSTER_AGENT_TOKEN_PREFIX)


def _shown_line(line: str) -> str:
    """An unparsable line when it starts with a key this tool knows and names no credential; anything else
    may be a pasted token (alone, or `TOKEN value`) and is never repeated."""
    first = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)", line)
    if (
        first is None
        or not _known_key(first[1])
        or re.search(r"token|secret|password|glagent|glpat|hvs\.", line, re.IGNORECASE)
    ):
        return "(not shown: it may hold a credential)"
    return repr(line if len(line) <= 80 else line[:77] + "...")


def _unknown_key(key: str) -> str:
    if key.upper() in PROCESS_ONLY_KEYS:
        return f"unknown key {key}: {PROCESS_ONLY_KEYS[key.upper()]}"
    if key.upper() in DEFAULTS:
        return f"unknown key {key}; did you mean {key.upper()}?"
    hint = difflib.get_close_matches(key.upper(), list(DEFAULTS), n=1)
    return f"unknown key {key}" + (
        f"; did you mean {hint[0]}?" if hint else f"; known keys: {', '.join(DEFAULTS)}"
    )


def _read_assignments(text: str, source: str) -> dict[str, tuple[str, int]]:
    """KEY -> (value, line) of a .env text; anything but blank lines, comments and KEY=value is an error."""
    found: dict[str, tuple[str, int]] = {}
    for binding, number in bindings(text, source):
        where = f"{source}:{number}"
        key = binding.key
        if binding.error:
            first = next(iter(binding.original.string.strip().splitlines()), "")
            raise ConfigError(
                f"cannot parse {_shown_line(first)}: expected KEY=value, a # comment or a blank line",
                source=where,
            )
        if key is None:
            continue
        if binding.value is None:
            if not _known_key(key):  # a word alone on a line: maybe a token pasted without its key
                raise ConfigError(
                    "the line has no '=' and is not a known key (not shown: it may hold a credential); "
                    "expected KEY=value, a # comment or a blank line",
                    source=where,
                )
            raise ConfigError(f"{key} has no '=': write {key}= for an empty value", source=where, key=key)
        if _is_secret_name(key):
            remember([binding.value])  # known before anything else can go wrong with this file
        if key in found:
            value, line = found[key]
            raise ConfigError(
                f"{key}={_shown(key, binding.value)} is set again; line {line} already sets "
                f"{key}={_shown(key, value)} (keep one: the last would win)",
                source=where,
                key=key,
            )
        found[key] = (binding.value, number)
    return found


def _check_one_line(key: str, value: str, origin: object) -> None:
    """Every value is one line of text: a line break (a quoted value over two lines, "\\n" in double quotes,
    a variable set by a script) would reach generated files, git and kubectl arguments as two lines."""
    if len(value) > MAX_LINE:
        raise ConfigError(
            f"{key}: the value is {len(value)} characters long; a value holds at most {MAX_LINE}",
            source=str(origin),
            key=key,
        )
    if any(c in value.strip() for c in "\n\r\0"):
        raise _value_error(key, value, "the value holds a line break (or NUL): write it on one line", origin)


def _expand(
    key: str,
    raw: Mapping[str, str],
    environ: Mapping[str, str],
    origins: Mapping[str, _Origin],
    seen: tuple[str, ...] = (),
) -> str:
    """Expand ${VAR} and ${VAR:-default} like the original scripts, resolving config keys first."""
    value = raw[key]
    if key in environ:
        return value  # the shell that set it already expanded it
    if key in seen:
        start = seen[seen.index(key) :]
        raise _value_error(
            key, value, f"${{...}} references form a cycle: {' -> '.join(start + (key,))}", origins[key]
        )
    atoms = list(parse_variables(value))
    if any(isinstance(atom, TextAtom) and "${" in atom.value for atom in atoms):
        raise _value_error(key, value, "a '${' reference has no closing '}'", origins[key])
    env: dict[str, str | None] = dict(environ)
    for atom in atoms:
        if isinstance(atom, Variable) and key not in SECRET_KEYS and _is_secret_name(atom.name):
            # The value would be printed, written into generated files and committed.
            raise _value_error(
                key,
                value,
                f"references ${{{atom.name}}}, a credential: only credential keys may hold one",
                origins[key],
            )
        if isinstance(atom, Variable) and atom.name in raw:
            env[atom.name] = _expand(atom.name, raw, environ, origins, seen + (key,))
    return "".join(atom.resolve(env) for atom in atoms)


def environment_of(config: Config) -> dict[str, str]:
    """Every non-secret key as the process environment gives it: `parse_config(None, ..., environment_of(c))`
    is `c` without its secrets (a pipeline that has no .env carries these as its variables)."""
    found: dict[str, str] = {}
    for key in DEFAULTS:
        if key in SECRET_KEYS:
            continue
        value = getattr(config, FIELD_BY_KEY[key])
        if isinstance(value, bool):
            found[key] = str(value).lower()
        elif isinstance(value, tuple):
            found[key] = " ".join(v if isinstance(v, str) else "=".join(v) for v in value)
        else:
            found[key] = str(value)
    return found


def load_config(path: Path | None, environ: Mapping[str, str] | None = None) -> Config:
    """Read `path` (None = built-in defaults; a path that does not exist is an error), apply `environ`
    overrides, validate once. Whether a missing default file means the defaults is the caller's call."""
    text = None
    if path is not None:
        try:
            text = fileio.read_text(path, fileio.ENV_FILE)
        except fileio.FileRefused as exc:
            raise ConfigError(str(exc)) from None  # the message names the file
    return parse_config(text, str(path) if path else "defaults", environ)


def parse_config(text: str | None, source: str, environ: Mapping[str, str] | None = None) -> Config:
    """Validate the text of a .env file (None = no file) with `environ` overrides."""
    environ = {} if environ is None else environ
    file_values: dict[str, str] = {}
    lines: dict[str, int] = {}
    cluster_tokens: dict[str, tuple[str, _Origin]] = {}
    if text is not None:
        for key, (value, line) in _read_assignments(text, source).items():
            if key in IGNORED_KEYS:
                continue
            if key.startswith(CLUSTER_AGENT_TOKEN_PREFIX):
                cluster_tokens[key] = (value, _Origin(source, line))
                continue
            if key not in DEFAULTS:
                raise ConfigError(_unknown_key(key), source=f"{source}:{line}", key=key)
            file_values[key], lines[key] = value, line

    raw: dict[str, str] = {}
    origins: dict[str, _Origin] = {}
    for key, default in DEFAULTS.items():
        if key in environ:
            raw[key], origins[key] = environ[key], _Origin(f"environment variable {key}")
        elif key in file_values:
            raw[key], origins[key] = file_values[key], _Origin(source, lines.get(key))
        else:
            raw[key], origins[key] = default, _Origin("built-in default")

    for key, value in raw.items():
        _check_one_line(key, value, origins[key])
    text_values = {key: _expand(key, raw, environ, origins).strip() for key in DEFAULTS}
    for key, value in text_values.items():
        _check_one_line(key, value, origins[key])
    values: dict[str, object] = {FIELD_BY_KEY[key]: value for key, value in text_values.items()}
    environments = _words(text_values["ENVIRONMENTS"])
    production = _words(text_values["PRODUCTION_ENVIRONMENTS"])
    if "PRODUCTION_ENVIRONMENTS" not in environ and "PRODUCTION_ENVIRONMENTS" not in file_values:
        production = tuple(
            e for e in production if e in environments
        )  # the default names "prod" only if present
    auto_sync = _words(text_values["AUTO_SYNC_ENVIRONMENTS"]) or tuple(
        e for e in environments if e not in production
    )
    values.update(
        services=_words(text_values["SERVICES"]),
        environments=environments,
        production_environments=production,
        auto_sync_environments=auto_sync,
    )

    for key, value in environ.items():
        if key.startswith(CLUSTER_AGENT_TOKEN_PREFIX):
            cluster_tokens[key] = (value, _Origin(f"environment variable {key}"))
    for key, (value, origin) in cluster_tokens.items():
        _check_one_line(key, value, origin)

    # Known from here on: error messages and crash logs take them out, whatever carries them.
    remember(text_values[key] for key in SECRET_KEYS)
    remember(value.strip() for value, _ in cluster_tokens.values())
    remember_url_passwords(text_values.values())
    try:
        config = Config.model_validate(values)
    except ValidationError as exc:
        # A key may reference a secret (GITLAB_GROUP=${GITLAB_DEPLOY_TOKEN}): validators quote the value they
        # got, so every secret value is taken out of the message, whichever key it reached.
        hidden = {text_values[key] for key in SECRET_KEYS if text_values[key]}
        raise _to_config_error(exc, raw, origins, hidden) from None
    return _with_cluster_tokens(config, cluster_tokens)


def _with_cluster_tokens(config: Config, found: Mapping[str, tuple[str, _Origin]]) -> Config:
    """The GITLAB_AGENT_TOKEN_<CLUSTER> keys, each checked against ENVIRONMENT_CLUSTERS (values never
    shown)."""
    by_key = {agent_token_key(cluster): cluster for _, cluster in config.environment_clusters}
    tokens: dict[str, SecretStr] = {}
    for key, (value, origin) in sorted(found.items()):
        cluster = by_key.get(key)
        if cluster is None:
            expected = ", ".join(sorted(by_key)) or "none: ENVIRONMENT_CLUSTERS names no cluster"
            raise ConfigError(
                f"{key}='***': no cluster of ENVIRONMENT_CLUSTERS has this agent token key (expected: "
                f"{expected})",
                source=str(origin),
                key=key,
            )
        if value.strip():
            tokens[cluster] = SecretStr(value.strip())
    if not tokens:
        return config
    return config.model_copy(update={"cluster_agent_tokens": tuple(sorted(tokens.items()))})


def _to_config_error(
    exc: ValidationError,
    raw: Mapping[str, str],
    origins: Mapping[str, _Origin],
    hidden: Set[str] = frozenset(),
) -> ConfigError:
    error = exc.errors()[0]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, _CrossError):
        key, value = cause.key, cause.value
    else:
        field = str(error["loc"][0]) if error["loc"] else ""
        key = field.upper()
        value = raw.get(key, "")
    message = str(cause) if cause is not None else error["msg"]
    for secret in sorted(hidden, key=len, reverse=True):
        message, value = message.replace(secret, "***"), value.replace(secret, "***")
    return _value_error(key, value, message, origins.get(key, "configuration"))
