"""Where things live in the platform's repository: the folders and files the generator writes and every
reader (lint, plan, render, diff) looks in. Constants (and the one test telling a platform folder from a
published gitops-config clone), so planners and adapters can both import them."""

from __future__ import annotations

from pathlib import Path

GITOPS_CONFIG_DIR = Path("gitops-config")
PROJECT_FILE = GITOPS_CONFIG_DIR / "argocd" / "project.yaml"
APPLICATIONSET_FILE = GITOPS_CONFIG_DIR / "argocd" / "applicationset.yaml"
# Hand-written (never generated): freeze windows and promotion gates, read by init, lint and the pipeline.
RELEASE_FILE = GITOPS_CONFIG_DIR / "release.yaml"
PLATFORM_APPS_FILE = GITOPS_CONFIG_DIR / "argocd" / "platform.yaml"
PLATFORM_DIR = Path("platform")  # inside the gitops-config repository
SERVICES_DIR = "services"
LIBS_DIR = Path("libs")  # the shared libraries of the platform's own services (the one source of truth)
VENDOR_DIR = "vendor"  # inside a service repository: the generator's copies of the libraries it uses
VALUES_DIR = ".cicd"  # inside a service repository
SHARED_PIPELINE = Path("ci") / "service.gitlab-ci.yml"  # inside the gitops-config repository
SHARED_PIPELINE_FILE = GITOPS_CONFIG_DIR / SHARED_PIPELINE
SERVICE_PIPELINE = ".gitlab-ci.yml"  # inside a service repository
GITOPS_CONFIG_PIPELINE = GITOPS_CONFIG_DIR / ".gitlab-ci.yml"  # gitops-config's own pipeline
# credentials and secret values (git-ignored by init); .vault-keys.json: `setup infrastructure`
NEVER_COMMITTED = (".env", ".secrets.yaml", ".vault-keys.json")
# state of this machine's runs (git-ignored by init): `up`'s finished stages, what `publish` last pushed
LOCAL_STATE = (".gitops-poc-up.json", ".gitops-poc-published.json")


def is_published_gitops_config(root: Path) -> bool:
    """`root` is a clone of the published gitops-config repository (its ApplicationSet at argocd/), not the
    platform folder that holds gitops-config/ (the one place that tells the two layouts apart)."""
    inner = APPLICATIONSET_FILE.relative_to(GITOPS_CONFIG_DIR)
    return not (root / GITOPS_CONFIG_DIR).exists() and (root / inner).is_file()


def service_dir(root: Path, service: str) -> Path:
    return root / SERVICES_DIR / service


def value_files(env: str) -> list[str]:
    """The value files ArgoCD passes for `env`, in order (later wins)."""
    return [f"{VALUES_DIR}/default.yaml", f"{VALUES_DIR}/{env}.yaml"]
