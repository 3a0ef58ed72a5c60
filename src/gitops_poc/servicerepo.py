"""A service repository's Helm values, from the working tree or from a git revision, read as Helm reads them
(YAML 1.1: `enabled: off` is false, `0755` is 493; every key a string)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops_poc import gitrepo
from gitops_poc.layout import value_files
from gitops_poc.values import ValuesFile, merge_files, parse_values
from gitops_poc.yamlio import read_text


def read_values_file(
    path: Path,
    rev: str | None = None,
    *,
    reader: gitrepo.RevisionReader | None = None,
    within: Path | None = None,
) -> ValuesFile:
    """A values file from the working tree (never through a symlink leading outside `within`), or at git
    revision `rev` (or `reader`'s revision: many files, one git process)."""
    rev = reader.rev if reader is not None else rev
    if rev is None:
        text = read_text(path, within)
    else:
        text = reader.read(path.absolute()) if reader is not None else gitrepo.read_at(path, rev)
    return ValuesFile(path, text, parse_values(text, str(path) if rev is None else f"{path}@{rev}"))


def read_values(directory: Path, env: str, rev: str | None = None) -> tuple[list[ValuesFile], dict[str, Any]]:
    """The value files of `env` in a service repository, merged as `helm -f default -f env` does."""
    if rev is None:
        files = [read_values_file(directory / name, within=directory) for name in value_files(env)]
    else:
        with gitrepo.RevisionReader(directory, rev) as reader:
            files = [read_values_file(directory / name, reader=reader) for name in value_files(env)]
    return files, merge_files(f.data for f in files)
