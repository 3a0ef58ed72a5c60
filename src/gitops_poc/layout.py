"""Where things live in the platform's repository: the folders and files the generator writes and every
reader (lint, plan, render, diff) looks in. Constants only, so planners and adapters can both import them."""

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
# credentials and secret values (git-ignored by init); .vault-keys.json: `setup infrastructure`
NEVER_COMMITTED = (".env", ".secrets.yaml", ".vault-keys.json")
# state of this machine's runs (git-ignored by init): `up`'s finished stages, what `publish` last pushed
LOCAL_STATE = (".gitops-poc-up.json", ".gitops-poc-published.json")


def service_dir(root: Path, service: str) -> Path:
    return root / SERVICES_DIR / service


def value_files(env: str) -> list[str]:
    """The value files ArgoCD passes for `env`, in order (later wins)."""
    return [f"{VALUES_DIR}/default.yaml", f"{VALUES_DIR}/{env}.yaml"]
