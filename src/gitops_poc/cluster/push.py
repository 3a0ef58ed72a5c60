"""`setup push` as a plan: one GitLab agent per cluster (token through a private values file, never --set),
each agent's rights (`edit` in the namespaces of the environments its cluster runs, not cluster-admin), and
the platform objects of those environments (gitops-config/platform/<env>/: ServiceAccounts, VaultAuths,
PDBs), which ArgoCD's `platform-<env>` Application applies in pull mode and nothing else would apply in push
mode. They are applied here, by the platform engineer, not by the deploy jobs: the agent's `edit` role may
not create VaultAuths (a CRD), and a service's deploy should not own objects the platform team generates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitops_poc.cluster import applyset
from gitops_poc.cluster.applyset import LiveSet
from gitops_poc.cluster.infrastructure import values_file
from gitops_poc.cluster.model import ApplyObject, ClusterPlan, DeleteObject, HelmRelease, Hidden, Step
from gitops_poc.cluster.registry import MANAGED_BY, namespace_object
from gitops_poc.errors import GitopsError
from gitops_poc.platform import GITOPS_CONFIG_REPO, Platform


class PruneGuardTripped(GitopsError):
    """More platform objects would be pruned than --max-prune allows: nothing is changed (exit 1)."""

    exit_code = 1


AGENT_NAMESPACE = "gitlab-agent"
AGENT_RELEASE = "gitlab-agent"
AGENT_SERVICE_ACCOUNT = "gitlab-agent"


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
        context=platform.cluster_context(cluster),
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


def agent_own_rights() -> list[dict[str, object]]:
    """What agentk needs in its own namespace, which the chart grants only through the cluster-admin binding
    that `rbac.create: false` turns off (its templates have no Role for the agent itself): Leases for the
    leader election of its two replicas (`replicas: 2` in the chart) and Events it records. Sources:
    third-party analyses of agentk's sources and RBAC (Ro-Fo/Gitlab-agent-helm docs/03-rechte-und-rbac.md:
    "Leader Election: CRUD on coordination.k8s.io/leases in the agent namespace", "Events: create/patch";
    cubesystems/charts gitlab-agent-rbac values: leases create/update/get, events create)."""
    rbac = "rbac.authorization.k8s.io"
    name = f"{AGENT_SERVICE_ACCOUNT}-own"
    return [
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "Role",
            "metadata": {"name": name, "namespace": AGENT_NAMESPACE, "labels": dict(MANAGED_BY)},
            "rules": [
                {
                    "apiGroups": ["coordination.k8s.io"],
                    "resources": ["leases"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
                },
                {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
            ],
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": AGENT_NAMESPACE, "labels": dict(MANAGED_BY)},
            "roleRef": {"apiGroup": rbac, "kind": "Role", "name": name},
            "subjects": [
                {"kind": "ServiceAccount", "name": AGENT_SERVICE_ACCOUNT, "namespace": AGENT_NAMESPACE}
            ],
        },
    ]


def platform_object_steps(
    platform: Platform,
    env: str,
    wanted: Sequence[Mapping[str, Any]],
    live: LiveSet | None,
    context: str,
) -> tuple[list[Step], str | None]:
    """The environment's platform objects as members of its ApplySet: the parent naming every group-kind
    it may hold (the live ones too, so an interrupted run still finds them), the objects labelled part of
    it, the deletion of the members no longer wanted, then the parent with only the kinds wanted now.
    `live` None: not known (a dry run without the cluster); nothing is pruned and the note says so."""
    namespace = platform.namespace(env)
    set_id = applyset.applyset_id(namespace)
    kinds = applyset.wanted_group_kinds(wanted)
    before = sorted({*kinds, *(live.group_kinds if live else ())})
    steps: list[Step] = [ApplyObject.of(applyset.parent(namespace, env, before), context=context)]
    steps += [ApplyObject.of(applyset.member(body, set_id), context=context) for body in wanted]
    if live is None:
        note = f"{namespace}: what `setup push` applied before could not be read: what it prunes is not known"
        return steps, note
    for gone in applyset.prune_candidates(wanted, live):
        why = f"no longer in gitops-config/platform/{env}/ (pruned: part of ApplySet {applyset.PARENT_NAME})"
        steps.append(DeleteObject(gone.api_version, gone.kind, namespace, gone.name, why, context))
    if before != kinds:
        steps.append(ApplyObject.of(applyset.parent(namespace, env, kinds), context=context))
    return steps, None


def prunes(plan: ClusterPlan) -> list[DeleteObject]:
    return [s for s in plan.steps if isinstance(s, DeleteObject)]


def check_prune_guard(plan: ClusterPlan, max_prune: int) -> None:
    """PruneGuardTripped when the plan deletes more than `max_prune` objects (the deletion guard of push)."""
    deleted = prunes(plan)
    if len(deleted) > max_prune:
        listed = ", ".join(f"{d.kind} {d.namespace}/{d.name}" for d in deleted[:5])
        more = f" and {len(deleted) - 5} more" if len(deleted) > 5 else ""
        raise PruneGuardTripped(
            f"setup push would prune {len(deleted)} platform object(s), more than --max-prune {max_prune}:"
            f" {listed}{more}; nothing was changed. Check gitops-config/platform/<env>/ (a folder emptied by"
            f" mistake?), then re-run with --max-prune {len(deleted)} if this is intended"
        )


def plan_push(
    platform: Platform,
    tokens: Mapping[str | None, str],
    objects: Mapping[str, Sequence[Mapping[str, Any]]],
    live: Mapping[str, LiveSet | None] | None = None,
) -> ClusterPlan:
    """Per cluster with an agent (`platform.agent_clusters`): for each of its environments the namespace, the
    agent's RoleBinding and the platform objects (`objects[env]`, from gitops-config/platform/<env>/, in
    their order) as the environment's ApplySet, pruning its members no longer there (`live[env]`: what the
    cluster holds of it; None or missing: not known), then the agent's namespace and its rights there
    (`agent_own_rights`), then its agent release; all in that cluster's kube context. The objects come
    before the agent so that the first deploy through it finds its ServiceAccount and VaultAuth. `tokens`:
    the agent token of each cluster."""
    steps: list[Step] = []
    notes: list[str] = []
    unknown: list[str] = []
    for cluster in platform.agent_clusters:
        context = platform.cluster_context(cluster)
        envs = platform.environments_of_cluster(cluster)
        for env in envs:
            steps.append(ApplyObject.of(namespace_object(platform.namespace(env), env), context=context))
            steps.append(ApplyObject.of(agent_binding(platform, env), context=context))
            found = (live or {}).get(env)
            env_steps, note = platform_object_steps(platform, env, objects.get(env, ()), found, context)
            steps += env_steps
            if note:
                unknown.append(note)
        steps.append(ApplyObject.of(namespace_object(AGENT_NAMESPACE), context=context))
        steps.extend(ApplyObject.of(body, context=context) for body in agent_own_rights())
        steps.append(agent_release(platform, tokens[cluster], cluster))
        agent = f"{platform.repo_path(GITOPS_CONFIG_REPO)}:{platform.agent_name_of_cluster(cluster)}"
        if platform.multi_cluster:
            where = f"kube context {context}" if context else f"KUBE_CONTEXT {platform.config.kube_context}"
            notes.append(f"CI deploys {' '.join(envs)} through the kube context {agent} (agent in {where})")
        else:
            notes.append(f"CI deploys through the kube context {agent}")
    notes.append(
        "the platform objects come from gitops-config/platform/<env>/ (as ArgoCD's platform-<env> would "
        "sync them); nothing syncs them in push mode: re-run `setup push` after `init` changes them"
    )
    plan = ClusterPlan(tuple(steps), tuple(notes))
    pruned = prunes(plan)
    notes.append(
        f"prune: {len(pruned)} platform object(s) no longer generated would be deleted"
        if pruned
        else "prune: no platform object to delete (only objects labelled part of an environment's ApplySet"
        f" {applyset.PARENT_NAME} are ever pruned)"
    )
    notes += unknown
    return ClusterPlan(tuple(steps), tuple(notes))
