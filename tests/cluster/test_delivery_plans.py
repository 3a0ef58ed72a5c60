"""The plans of `setup registry`, `setup pull` and `setup push` as data."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from gitops_poc.argv import render
from gitops_poc.cluster.applyset import applyset_id
from gitops_poc.cluster.model import ApplyObject, HelmRelease, PatchObject
from gitops_poc.cluster.pull import plan_pull
from gitops_poc.cluster.push import plan_push
from gitops_poc.cluster.registry import RegistryCredentials, RegistryState, plan_registry
from gitops_poc.config import load_config
from gitops_poc.generate.delivery import platform_objects
from gitops_poc.platform import Platform

CREDS = RegistryCredentials("gitlab+deploy-token-1", "gldt-SECRET-value")


def _platform(**env: str) -> Platform:
    return Platform(
        load_config(None, {"SERVICES": "api-gateway health-demo", "ENVIRONMENTS": "dev prod", **env})
    )


def _objects(platform: Platform) -> dict[str, list[dict[str, object]]]:
    """What `init` writes in gitops-config/platform/<env>/, as the generator makes it."""
    return {
        env: [doc for service in platform.services for doc in platform_objects(platform, service, env)]
        for env in platform.environments
    }


def test_registry_applies_namespace_and_secret_in_place_and_merges_pull_secrets() -> None:
    platform = _platform(DOCKER_REGISTRY="registry.example.com/team")
    state = RegistryState(
        {
            ("poc-dev", "default"): ("other-secret",),
            ("poc-dev", "api-gateway"): ("regsecret",),
            ("poc-dev", "health-demo"): (),
            ("poc-prod", "default"): ("regsecret",),
        }
    )
    plan = plan_registry(platform, CREDS, state)
    described = [s.describe() for s in plan.steps]
    assert described == [
        "apply Namespace poc-dev",
        "apply Secret poc-dev/regsecret (1 secret value(s), not shown)",
        "patch ServiceAccount poc-dev/default: "
        '{"imagePullSecrets": [{"name": "other-secret"}, {"name": "regsecret"}]}  '
        "(add regsecret, keep other-secret)",
        'patch ServiceAccount poc-dev/health-demo: {"imagePullSecrets": [{"name": "regsecret"}]}  '
        "(add regsecret, keep nothing else)",
        "apply Namespace poc-prod",
        "apply Secret poc-prod/regsecret (1 secret value(s), not shown)",
    ]
    secret = plan.steps[1]
    assert isinstance(secret, ApplyObject)
    body = secret.full_body()
    assert body["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(body["stringData"][".dockerconfigjson"])
    entry = config["auths"]["registry.example.com"]
    assert base64.b64decode(entry["auth"]).decode() == "gitlab+deploy-token-1:gldt-SECRET-value"
    assert "gldt-SECRET-value" not in repr(plan) + json.dumps(plan.as_json()) + "".join(described)
    assert "2 service ServiceAccount(s) do not exist yet" in plan.notes[0]


def test_registry_creates_a_missing_default_account_with_the_secret() -> None:
    plan = plan_registry(_platform(ENVIRONMENTS="dev"), CREDS, RegistryState())
    account = plan.steps[2]
    assert isinstance(account, ApplyObject)
    assert account.body == {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": "poc-dev"},
        "imagePullSecrets": [{"name": "regsecret"}],
    }


def test_registry_second_run_only_refreshes_the_secret() -> None:
    platform = _platform()
    state = RegistryState(
        {
            (ns, sa): ("regsecret",)
            for ns in ("poc-dev", "poc-prod")
            for sa in ("default", "api-gateway", "health-demo")
        }
    )
    plan = plan_registry(platform, CREDS, state)
    assert not any(isinstance(s, PatchObject) for s in plan.steps) and not plan.notes


def test_pull_plan_order_and_labelled_repo_credentials() -> None:
    platform = _platform()
    plan = plan_pull(platform, CREDS)
    bodies = [s.body for s in plan.steps if isinstance(s, ApplyObject)]
    assert [(b["kind"], b["metadata"]["name"]) for b in bodies] == [
        ("Secret", "gitops-poc-repo-creds"),
        ("AppProject", "gitops-poc"),
        ("Application", "platform-dev"),
        ("Application", "platform-prod"),
        ("ApplicationSet", "gitops-poc-services"),
    ]
    secret = plan.steps[0]
    assert isinstance(secret, ApplyObject)
    assert secret.body["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repo-creds"
    assert secret.full_body()["stringData"] == {
        "type": "git",
        "url": "https://gitlab.com/gitops-poc",
        "username": "gitlab+deploy-token-1",
        "password": "gldt-SECRET-value",
    }
    assert "gldt-SECRET-value" not in json.dumps(plan.as_json())
    assert all(b["metadata"].get("namespace") == "argocd" for b in bodies)


def test_pull_without_credentials_notes_anonymous_access() -> None:
    plan = plan_pull(_platform(), None)
    assert [s.body["kind"] for s in plan.steps if isinstance(s, ApplyObject)][0] == "AppProject"
    assert "anonymously" in plan.notes[0]


def test_push_binds_the_agent_per_namespace_and_passes_the_token_privately() -> None:
    platform = _platform(GITLAB_HOST="gitlab.example.com")
    plan = plan_push(platform, {None: "glagent-SECRET"}, _objects(platform))
    bindings = [s.body for s in plan.steps if isinstance(s, ApplyObject) and s.body["kind"] == "RoleBinding"]
    assert [(b["metadata"]["namespace"], b["roleRef"]["name"]) for b in bindings] == [
        ("poc-dev", "edit"),
        ("poc-prod", "edit"),
        ("gitlab-agent", "gitlab-agent-own"),  # its own namespace: leader election and events only
    ]
    assert bindings[0]["subjects"] == [
        {"kind": "ServiceAccount", "name": "gitlab-agent", "namespace": "gitlab-agent"}
    ]
    release = plan.steps[-1]
    assert isinstance(release, HelmRelease)
    assert (release.chart, release.version, release.repo) == (
        "gitlab-agent",
        "2.12.2",
        "https://charts.gitlab.io",
    )
    assert release.private_values.as_dict() == {"config.token": "glagent-SECRET"}
    args = render(release.helm_args("minikube", "/tmp/x/private-values.yaml"))
    assert "--set-string=config.kasAddress=wss://kas.gitlab.example.com" in args
    assert "glagent-SECRET" not in " ".join(args) + json.dumps(plan.as_json()) + repr(plan)
    assert [Path(f).name for f in release.values_files] == ["gitlab-agent.yaml"]
    assert "rbac:\n  # Not cluster-admin" in Path(release.values_files[0]).read_text()


def test_registry_goes_to_each_environments_cluster() -> None:
    platform = _platform(ENVIRONMENT_CLUSTERS="prod=prod-eu", CLUSTER_CONTEXTS="prod-eu=gke-prod")
    plan = plan_registry(platform, CREDS, RegistryState({("poc-prod", "default"): ("team",)}))
    where = {
        (s.describe().split()[2] if isinstance(s, ApplyObject) else s.namespace): s.context
        for s in plan.steps
        if isinstance(s, (ApplyObject, PatchObject))
    }
    assert where["poc-dev"] == "" and where["poc-prod"] == "gke-prod"
    patch = next(s for s in plan.steps if isinstance(s, PatchObject))
    assert (patch.namespace, patch.context) == ("poc-prod", "gke-prod")


def test_push_plans_one_agent_per_cluster_with_rights_only_where_its_environments_run() -> None:
    platform = _platform(
        ENVIRONMENTS="dev staging prod",
        ENVIRONMENT_CLUSTERS="prod=prod-eu",
        CLUSTER_CONTEXTS="prod-eu=gke-prod",
    )
    plan = plan_push(platform, {None: "glagent-OWN", "prod-eu": "glagent-PROD"}, _objects(platform))

    def platform_steps(namespace: str, context: str = "") -> list[str]:
        where = f" [context {context}]" if context else ""
        pdb = namespace == "poc-prod"
        return [f"apply ConfigMap {namespace}/gitops-poc-platform{where}"] + [
            f"apply {kind} {namespace}/{name}{where}"
            for service in ("api-gateway", "health-demo")
            for kind, name in (
                ("ServiceAccount", service),
                ("VaultAuth", f"{service}-vault-auth"),
                *((("PodDisruptionBudget", f"{service}-pdb"),) if pdb else ()),
            )
        ]

    assert [s.describe() for s in plan.steps] == [
        "apply Namespace poc-dev",
        "apply RoleBinding poc-dev/gitlab-agent-edit",
        *platform_steps("poc-dev"),
        "apply Namespace poc-staging",
        "apply RoleBinding poc-staging/gitlab-agent-edit",
        *platform_steps("poc-staging"),
        "apply Namespace gitlab-agent",
        "apply Role gitlab-agent/gitlab-agent-own",
        "apply RoleBinding gitlab-agent/gitlab-agent-own",
        "helm release gitlab-agent in gitlab-agent: gitlab-agent 2.12.2 from https://charts.gitlab.io "
        "(1 values file(s), config.kasAddress=wss://kas.gitlab.com, 1 private value(s), wait)",
        "apply Namespace poc-prod [context gke-prod]",
        "apply RoleBinding poc-prod/gitlab-agent-edit [context gke-prod]",
        *platform_steps("poc-prod", "gke-prod"),
        "apply Namespace gitlab-agent [context gke-prod]",
        "apply Role gitlab-agent/gitlab-agent-own [context gke-prod]",
        "apply RoleBinding gitlab-agent/gitlab-agent-own [context gke-prod]",
        "helm release gitlab-agent in gitlab-agent: gitlab-agent 2.12.2 from https://charts.gitlab.io "
        "(1 values file(s), config.kasAddress=wss://kas.gitlab.com, 1 private value(s), wait) "
        "[context gke-prod]",
    ]
    # The objects go as generated: prod's VaultAuth logs in through prod-eu's own auth mount.
    prod_auth = next(
        s.body
        for s in plan.steps
        if isinstance(s, ApplyObject) and s.describe().startswith("apply VaultAuth poc-prod")
    )
    assert prod_auth["spec"]["mount"] == "kubernetes-prod-eu"
    # As generated, plus the label that makes it a member of prod's ApplySet (what push may prune).
    labels = prod_auth["metadata"]["labels"]
    assert labels.pop("applyset.kubernetes.io/part-of") == applyset_id("poc-prod")
    assert prod_auth == _objects(platform)["prod"][1]
    own, remote = (s for s in plan.steps if isinstance(s, HelmRelease))
    assert own.private_values.as_dict() == {"config.token": "glagent-OWN"}
    assert remote.private_values.as_dict() == {"config.token": "glagent-PROD"}
    assert "--kube-context=gke-prod" in render(remote.helm_args("minikube"))
    assert "glagent" not in json.dumps(plan.as_json()) + repr(plan)


def test_push_with_every_environment_elsewhere_installs_no_agent_in_argocds_cluster() -> None:
    platform = _platform(ENVIRONMENT_CLUSTERS="dev=edge prod=edge")
    plan = plan_push(platform, {"edge": "glagent-EDGE"}, _objects(platform))
    assert {s.context for s in plan.steps if isinstance(s, (ApplyObject, HelmRelease))} == {"edge"}
    assert platform.agent_clusters == ("edge",)


def test_the_agent_gets_leases_and_events_in_its_own_namespace_and_nothing_more() -> None:
    """`rbac.create: false` drops the chart's cluster-admin binding, the only grant its templates make for
    the agent itself; its two replicas still elect a leader through Leases in their own namespace."""
    platform = _platform()
    plan = plan_push(platform, {None: "glagent-x"}, _objects(platform))
    own = {
        s.body["kind"]: s.body
        for s in plan.steps
        if isinstance(s, ApplyObject) and s.body["metadata"].get("namespace") == "gitlab-agent"
    }
    assert own["Role"]["rules"] == [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
        },
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
    ]
    assert own["RoleBinding"]["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "gitlab-agent-own",
    }
    assert own["RoleBinding"]["subjects"] == [
        {"kind": "ServiceAccount", "name": "gitlab-agent", "namespace": "gitlab-agent"}
    ]
    kinds = [s.body["kind"] for s in plan.steps if isinstance(s, ApplyObject)]
    assert "ClusterRole" not in kinds and "ClusterRoleBinding" not in kinds
    # The namespace exists before the Role in it, and both before the release that starts the agent.
    describe = [s.describe() for s in plan.steps]
    assert describe.index("apply Namespace gitlab-agent") < describe.index(
        "apply Role gitlab-agent/gitlab-agent-own"
    )
    assert isinstance(plan.steps[-1], HelmRelease)
