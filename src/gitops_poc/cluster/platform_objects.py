"""The platform objects of each environment, read from the files ArgoCD's `platform-<env>` Application syncs
in pull mode: `gitops-config/platform/<env>/` (each service's ServiceAccount and VaultAuth, in production its
PodDisruptionBudget, and whatever else the platform team keeps there). Push mode has no ArgoCD to sync them,
so `setup push` applies these same objects itself; reading the committed files (not regenerating them) keeps
both modes applying exactly one thing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops_poc import fileio
from gitops_poc.errors import UsageError
from gitops_poc.layout import GITOPS_CONFIG_DIR, PLATFORM_DIR
from gitops_poc.platform import Platform
from gitops_poc.yamlio import load_all_k8s

# What an ArgoCD directory source reads (not recursive by default).
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def platform_folder(root: Path, env: str) -> Path:
    return root / GITOPS_CONFIG_DIR / PLATFORM_DIR / env


def _checked(doc: Any, where: str, namespace: str) -> dict[str, Any]:
    """One document as it will be applied: an object with apiVersion, kind and name, in `namespace` (filled
    in when absent, as ArgoCD does with the Application's destination namespace)."""
    if not isinstance(doc, dict):
        raise UsageError(f"{where}: expected a Kubernetes object (a mapping), got {type(doc).__name__}")
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        raise UsageError(f"{where}: metadata is missing or not a mapping ({meta!r})")
    for key, value in (
        ("apiVersion", doc.get("apiVersion")),
        ("kind", doc.get("kind")),
        ("metadata.name", meta.get("name")),
    ):
        if not isinstance(value, str) or not value:
            raise UsageError(f"{where}: {key} is missing or not a string ({value!r})")
    found = meta.get("namespace", namespace)
    if found != namespace:
        raise UsageError(
            f"{where}: metadata.namespace is {found!r}; the objects of this folder belong in {namespace!r} "
            "(ArgoCD's AppProject allows no other)"
        )
    return {**doc, "metadata": {**meta, "namespace": namespace}}


def read_platform_objects(root: Path, platform: Platform) -> dict[str, tuple[dict[str, Any], ...]]:
    """env -> its objects, files in name order and documents in file order (ServiceAccount before the
    VaultAuth that logs in as it). A missing folder is bad input: `init` generates them."""
    result: dict[str, tuple[dict[str, Any], ...]] = {}
    for env in platform.environments:
        folder = platform_folder(root, env)
        if not folder.is_dir():
            raise UsageError(
                f"{folder}: no such folder; run `gitops-poc init` first (it generates each environment's "
                "ServiceAccounts and VaultAuths there)"
            )
        objects: list[dict[str, Any]] = []
        for path in sorted(p for p in folder.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file()):
            docs = load_all_k8s(fileio.read_text(path, fileio.YAML_FILE), str(path))
            objects += [
                _checked(doc, f"{path} (document {number})", platform.namespace(env))
                for number, doc in enumerate(docs, start=1)
            ]
        result[env] = tuple(objects)
    return result
