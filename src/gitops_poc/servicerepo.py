"""A service repository's Helm values, from the working tree or from a git revision."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_poc import gitrepo
from gitops_poc.errors import UsageError
from gitops_poc.generate.services import SERVICES_DIR
from gitops_poc.values import merge_files
from gitops_poc.yamlio import load_plain, read_text

VALUES_DIR = ".cicd"


def service_dir(root: Path, service: str) -> Path:
    return root / SERVICES_DIR / service


def value_files(env: str) -> list[str]:
    """The value files ArgoCD passes for `env`, in order (later wins)."""
    return [f"{VALUES_DIR}/default.yaml", f"{VALUES_DIR}/{env}.yaml"]


@dataclass(frozen=True)
class ValuesFile:
    path: Path
    text: str | None  # None: the file does not exist
    data: dict[str, Any]


def read_values_file(path: Path, rev: str | None = None) -> ValuesFile:
    text = read_text(path) if rev is None else gitrepo.read_at(path, rev)
    where = str(path) if rev is None else f"{path}@{rev}"
    data = load_plain(text, where) if text else None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a mapping of Helm values at the top level, found {type(data).__name__}")
    return ValuesFile(path, text, data)


def read_values(directory: Path, env: str, rev: str | None = None) -> tuple[list[ValuesFile], dict[str, Any]]:
    """The value files of `env` in a service repository, merged as `helm -f default -f env` does."""
    files = [read_values_file(directory / name, rev) for name in value_files(env)]
    return files, merge_files(f.data for f in files)
