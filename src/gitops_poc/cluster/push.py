"""`setup push` as a plan: one GitLab agent per cluster (token through a private values file, never --set)
and each agent's rights: `edit` in the namespaces of the environments its cluster runs, not cluster-admin."""

from __future__ import annotations

from collections.abc import Mapping

from gitops_poc.cluster.infrastructure import values_file
from gitops_poc.cluster.model import ApplyObject, ClusterPlan, HelmRelease, Hidden, Step
from gitops_poc.cluster.registry import MANAGED_BY, namespace_object
from gitops_poc.platform import GITOPS_CONFIG_REPO, Platform

AGENT_NAMESPACE = "gitlab-agent"
AGENT_RELEASE = "gitlab-agent"
AGENT_SERVICE_ACCOUNT = "gitlab-agent"


def cluster_kube_context(platform: Platform, cluster: str | None) -> str:
    """Where a cluster's steps go: "" (KUBE_CONTEXT) for ArgoCD's own, else the cluster's kube context."""
    return platform.cluster_context(cluster) if cluster else ""


def agent_release(platform: Platform, token: str, cluster: str | None = None) -> HelmRelease:
    """The agent of `cluster` (None: ArgoCD's own); each cluster runs its own release with its own token."""
    cfg = platform.config
    return HelmRelease(
        AGENT_RELEASE,
        AGENT_NAMESPACE,
        "gitlab-agent",
        cfg.gitlab_helm_repo,
        cfg.gitlab_agent_chart_version,
        (values_file("gitlab-agent.yaml"),),
        set_strings=(("config.kasAddress", cfg.gitlab_kas_address),),
        private_values=Hidden.of({"config.token": token}),
        context=cluster_kube_context(platform, cluster),
    )


def agent_binding(platform: Platform, env: str) -> dict[str, object]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {
            "name": "gitlab-agent-edit",
            "namespace": platform.namespace(env),
            "labels": dict(MANAGED_BY),
        },
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
        "subjects": [{"kind": "ServiceAccount", "name": AGENT_SERVICE_ACCOUNT, "namespace": AGENT_NAMESPACE}],
    }


def plan_push(platform: Platform, tokens: Mapping[str | None, str]) -> ClusterPlan:
    """Per cluster with an agent (`platform.agent_clusters`): its environments' namespaces and RoleBindings,
    then its agent release, all in that cluster's kube context. `tokens`: the agent token of each cluster."""
    steps: list[Step] = []
    notes: list[str] = []
    for cluster in platform.agent_clusters:
        context = cluster_kube_context(platform, cluster)
        envs = platform.environments_of_cluster(cluster)
        for env in envs:
            steps.append(ApplyObject.of(namespace_object(platform.namespace(env), env), context=context))
            steps.append(ApplyObject.of(agent_binding(platform, env), context=context))
        steps.append(agent_release(platform, tokens[cluster], cluster))
        agent = f"{platform.repo_path(GITOPS_CONFIG_REPO)}:{platform.agent_name_of_cluster(cluster)}"
        if platform.multi_cluster:
            where = f"kube context {context}" if context else f"KUBE_CONTEXT {platform.config.kube_context}"
            notes.append(f"CI deploys {' '.join(envs)} through the kube context {agent} (agent in {where})")
        else:
            notes.append(f"CI deploys through the kube context {agent}")
    return ClusterPlan(tuple(steps), tuple(notes))
