"""`setup push` as a plan: the GitLab agent release (token through a private values file, never --set) and
the agent's rights: `edit` in each environment's namespace, not cluster-admin."""

from __future__ import annotations

from gitops_poc.cluster.infrastructure import values_file
from gitops_poc.cluster.model import ApplyObject, ClusterPlan, HelmRelease, Hidden, Step
from gitops_poc.cluster.registry import MANAGED_BY, namespace_object
from gitops_poc.platform import Platform

AGENT_NAMESPACE = "gitlab-agent"
AGENT_RELEASE = "gitlab-agent"
AGENT_SERVICE_ACCOUNT = "gitlab-agent"


def agent_release(platform: Platform, token: str) -> HelmRelease:
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


def plan_push(platform: Platform, token: str) -> ClusterPlan:
    steps: list[Step] = []
    for env in platform.environments:
        steps.append(ApplyObject.of(namespace_object(platform.namespace(env), env)))
        steps.append(ApplyObject.of(agent_binding(platform, env)))
    steps.append(agent_release(platform, token))
    notes = (f"CI deploys through the kube context {platform.agent_context}",)
    return ClusterPlan(tuple(steps), notes)
