"""`setup pull` as a plan: ArgoCD's repository credentials as a labelled Secret (no argocd CLI, nothing
printed), then the AppProject, the platform Applications and the ApplicationSet, by server-side apply."""

from __future__ import annotations

from gitops_poc.cluster.model import ApplyObject, ClusterPlan, Hidden, RegisterCluster, Step
from gitops_poc.cluster.registry import MANAGED_BY, RegistryCredentials
from gitops_poc.generate.delivery import platform_application
from gitops_poc.generate.gitops_config import applicationset, project
from gitops_poc.platform import Platform
from gitops_poc.release.windows import SyncWindow

REPO_CREDS_LABEL = {"argocd.argoproj.io/secret-type": "repo-creds"}


def repo_creds_name(platform: Platform) -> str:
    return f"{platform.project_name}-repo-creds"


def repo_creds_url(platform: Platform) -> str:
    """A credential template: ArgoCD uses it for every repository whose URL starts with it."""
    return f"https://{platform.config.gitlab_host}/{platform.config.gitlab_group}"


def plan_pull(
    platform: Platform,
    credentials: RegistryCredentials | None,
    extra: tuple[Step, ...] = (),
    windows: tuple[SyncWindow, ...] = (),
) -> ClusterPlan:
    """Credentials first (the first sync needs them), then the project before what refers to it."""
    cfg = platform.config
    steps: list[Step] = []
    notes: list[str] = []
    if credentials is None:
        notes.append(
            "no repository credentials (GITLAB_DEPLOY_TOKEN_USER/GITLAB_DEPLOY_TOKEN): "
            "ArgoCD reads the repositories anonymously (public projects only)"
        )
    else:
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": repo_creds_name(platform),
                "namespace": cfg.argocd_namespace,
                "labels": {**REPO_CREDS_LABEL, **MANAGED_BY},
            },
            "stringData": {"type": "git", "url": repo_creds_url(platform), "username": credentials.username},
        }
        steps.append(ApplyObject.of(secret, Hidden.of({"password": credentials.token})))
    steps.extend(extra)
    registered = {s.name for s in extra if isinstance(s, RegisterCluster)}
    unregistered = [c for c in platform.remote_clusters if c not in registered]
    if unregistered:
        notes.append(
            f"cluster(s) {', '.join(unregistered)} must be registered with ArgoCD once: "
            "`setup pull --cluster NAME=CONTEXT`"
        )
    steps.append(ApplyObject.of(project(platform, windows)))
    steps.extend(ApplyObject.of(platform_application(platform, env)) for env in platform.environments)
    steps.append(ApplyObject.of(applicationset(platform)))
    return ClusterPlan(tuple(steps), tuple(notes))
