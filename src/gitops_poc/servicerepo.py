"""A service repository's Helm values, from the working tree or from a git revision, read as Helm reads them
(YAML 1.1: `enabled: off` is false, `0755` is 493; every key a string)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_poc import gitrepo
from gitops_poc.errors import UsageError
from gitops_poc.generate.services import SERVICES_DIR
from gitops_poc.values import merge_files
from gitops_poc.yamlio import load_k8s, read_text

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


def parse_values(text: str | None, where: str) -> dict[str, Any]:
    """The Helm values in a values file's text ({} for a missing or empty file)."""
    data = load_k8s(text, where) if text else None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(
            f"{where}: expected a mapping of Helm values at the top level, found {type(data).__name__}"
        )
    return data


def read_values_file(
    path: Path, rev: str | None = None, *, reader: gitrepo.RevisionReader | None = None
) -> ValuesFile:
    """A values file from the working tree, or at git revision `rev`.

    With `reader`, at that reader's revision: many files, one git process."""
    rev = reader.rev if reader is not None else rev
    if rev is None:
        text = read_text(path)
    else:
        text = reader.read(path) if reader is not None else gitrepo.read_at(path, rev)
    return ValuesFile(path, text, parse_values(text, str(path) if rev is None else f"{path}@{rev}"))


def read_values(directory: Path, env: str, rev: str | None = None) -> tuple[list[ValuesFile], dict[str, Any]]:
    """The value files of `env` in a service repository, merged as `helm -f default -f env` does."""
    if rev is None:
        files = [read_values_file(directory / name) for name in value_files(env)]
    else:
        with gitrepo.RevisionReader(directory, rev) as reader:
            files = [read_values_file(directory / name, reader=reader) for name in value_files(env)]
    return files, merge_files(f.data for f in files)
