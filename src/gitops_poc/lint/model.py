"""A service's values files as lint reads them, and the per-environment Helm merge the chart sees."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from gitops_poc.digits import natural
from gitops_poc.layout import VALUES_DIR
from gitops_poc.lint import chart
from gitops_poc.lint.catalog import rule
from gitops_poc.lint.documents import KeyPath, YamlDocument, read_document
from gitops_poc.lint.findings import Finding
from gitops_poc.platform import Platform
from gitops_poc.values import coalesce, merge_files
from gitops_poc.yamlio import YamlSyntaxError

DEFAULT_FILE = "default.yaml"


def display_path(root: Path, path: Path) -> str:
    """How findings name a file: relative to the platform root when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def load_values(
    path: Path, display: str, findings: list[Finding], within: Path | None = None
) -> YamlDocument | None:
    """A values file, or None (with a finding) when it does not parse or holds no mapping. A symlink leading
    outside `within` is an error (OutsideRoot), not a finding: its target is not the platform's to read."""
    try:
        doc = read_document(path, display, within)
    except YamlSyntaxError as exc:
        findings.append(rule("yaml-syntax").at(display, exc.line, f"invalid YAML: {exc.problem}"))
        return None
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        findings.append(
            rule("values-not-mapping").at(
                display, 1, f"the top level is a {type(doc.data).__name__}, not a mapping"
            )
        )
        return None
    return doc


_MISSING = object()


def _lookup(data: Any, keys: KeyPath) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return _MISSING
        data = data[key]
    return data


def get_in(data: Any, keys: KeyPath) -> Any:
    """The value at `keys` in nested mappings; None when any key is missing."""
    value = _lookup(data, keys)
    return None if value is _MISSING else value


def has_path(data: Any, keys: KeyPath) -> bool:
    """Is `keys` present (even with a null value, which in Helm deletes the key)?"""
    return _lookup(data, keys) is not _MISSING


@dataclass(eq=False)
class ServiceFiles:
    """`services/<name>/.cicd/*.yaml`, parsed; `envs` holds configured environments, `extra` the others."""

    name: str
    directory: Path
    display: str
    default: YamlDocument | None
    envs: dict[str, YamlDocument] = field(default_factory=dict)
    extra: dict[str, YamlDocument] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)  # problems found while reading
    _merged: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def documents(self) -> Iterator[YamlDocument]:
        if self.default is not None:
            yield self.default
        yield from self.envs.values()
        yield from self.extra.values()

    @property
    def default_data(self) -> dict[str, Any]:
        return self.default.data if self.default is not None else {}

    def merged(self, env: str) -> dict[str, Any]:
        """What the chart sees in `env`: its defaults, then default.yaml, then <env>.yaml (Helm's rules).

        Computed once per environment; callers must not modify it."""
        if env not in self._merged:
            layers = [self.default_data]
            if env in self.envs:
                layers.append(self.envs[env].data)
            self._merged[env] = coalesce(chart.DEFAULTS, merge_files(layers))
        return self._merged[env]

    def written(self, env: str, key: str) -> Any:
        """A top-level value as the team's files set it in `env` (no chart default; null deletes)."""
        env_doc = self.envs.get(env)
        if env_doc is not None and key in env_doc.data:
            return env_doc.data[key]
        return self.default_data.get(key)

    def locate(self, env: str, keys: KeyPath) -> tuple[str, int]:
        """file:line that decides `keys` in `env`: the environment file if it sets it, else default.yaml."""
        env_doc = self.envs.get(env)
        if env_doc is not None and has_path(env_doc.data, keys):
            return env_doc.display, env_doc.line(keys)
        if self.default is not None and has_path(self.default.data, keys):
            return self.default.display, self.default.line(keys)
        # Set by nothing the team wrote (a chart default): point at the closest key that exists.
        doc = env_doc if env_doc is not None and has_path(env_doc.data, keys[:1]) else self.default or env_doc
        if doc is None:
            return f"{self.display}/{VALUES_DIR}/{DEFAULT_FILE}", 1
        return doc.display, doc.line(keys)

    @cached_property
    def service_enabled(self) -> bool:
        return any(bool(get_in(self.merged(env), ("service", "enabled"))) for env in self._all_envs())

    @cached_property
    def ports(self) -> frozenset[int]:
        """Every port the chart's Service exposes in some environment (externalPort, default 80)."""
        found: set[int] = set()
        for env in self._all_envs():
            ports = get_in(self.merged(env), ("service", "ports"))
            if isinstance(ports, dict):
                for spec in ports.values():
                    port = str(spec.get("externalPort") if isinstance(spec, dict) else "")
                    # `default 80` in the template: a missing or empty externalPort means 80.
                    number = natural(port)
                    found.add(chart.DEFAULT_SERVICE_PORT if number is None else number)
        return frozenset(found)

    def _all_envs(self) -> list[str]:
        return list(self.envs) or [""]


def read_service(directory: Path, name: str, platform: Platform, root: Path) -> ServiceFiles:
    findings: list[Finding] = []
    display = display_path(root, directory)
    values_dir = directory / VALUES_DIR
    default_path = values_dir / DEFAULT_FILE
    default = None
    # Anything at a values file's name is read (a FIFO or device is refused there, exit 2), never "missing".
    if os.path.lexists(default_path):
        default = load_values(default_path, display_path(root, default_path), findings, directory)
    else:
        findings.append(
            rule("default-file-missing").at(
                display_path(root, default_path), None, f"{name} has no {VALUES_DIR}/{DEFAULT_FILE}"
            )
        )
    files = ServiceFiles(name, directory, display, default, findings=findings)
    present = {p.stem: p for p in values_dir.glob("*.yaml") if p.name != DEFAULT_FILE}
    for env in platform.environments:
        path = values_dir / f"{env}.yaml"
        if env not in present:
            findings.append(
                rule("env-file-missing").at(
                    display_path(root, path),
                    None,
                    f"{name} has no values file for environment {env}",
                    hint=(
                        f"create {VALUES_DIR}/{env}.yaml (gitops-poc init does); ArgoCD passes it for"
                        f" {name}-{env}"
                    ),
                )
            )
        elif doc := load_values(path, display_path(root, path), findings, directory):
            files.envs[env] = doc
    for stem, path in sorted(present.items()):
        if stem in platform.environments:
            continue
        shown = display_path(root, path)
        findings.append(
            rule("env-file-unknown").at(
                shown,
                None,
                f"environment {stem!r} is not in ENVIRONMENTS ({' '.join(platform.environments)}); nothing"
                " reads this file",
            )
        )
        if doc := load_values(path, shown, findings, directory):
            files.extra[stem] = doc
    return files


class ServiceIndex(Mapping[str, ServiceFiles]):
    """Services by name, read on first use (references need the target's ports, nothing more)."""

    def __init__(self, loader: Callable[[str], ServiceFiles | None], names: tuple[str, ...]) -> None:
        self._loader = loader
        self._names = names
        self._cache: dict[str, ServiceFiles | None] = {}

    def __getitem__(self, name: str) -> ServiceFiles:
        if name not in self._cache:
            self._cache[name] = self._loader(name) if name in self._names else None
        found = self._cache[name]
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)
