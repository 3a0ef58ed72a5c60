"""Rules on `gitops-config/platform/<env>/`, which ArgoCD syncs beside the chart: its objects validated for
the configured Kubernetes version, and the ServiceAccount and VaultAuth each service's values name found
there."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from gitops_poc import fileio
from gitops_poc.errors import UsageError
from gitops_poc.lint.catalog import rule
from gitops_poc.lint.findings import Finding, Severity
from gitops_poc.lint.model import ServiceFiles, get_in
from gitops_poc.platform import Platform
from gitops_poc.render.checks import check_duplicates
from gitops_poc.render.findings import ManifestFinding, ManifestSeverity
from gitops_poc.render.manifests import Manifest
from gitops_poc.render.references import PlatformObject, parse_platform_file, platform_files, platform_folder
from gitops_poc.render.validate import object_findings, parse_kube_version, schema_version_for

CHART_AUTH_REF = "vault-auth"  # the chart's secretsProvider.vault.authRef default
# Files remembered by content: a review lints both sides of a change, and a chart bump leaves every platform
# file as it was. Bounded above a 1,000-service fleet's three environments.
_REMEMBERED_FILES = 8192


@functools.lru_cache(maxsize=_REMEMBERED_FILES)
def _parsed_file(relative: str, text: str) -> tuple[PlatformObject, ...]:
    """parse_platform_file, once per content (UsageError is not remembered: it is raised again)."""
    return tuple(parse_platform_file(relative, text))


@functools.lru_cache(maxsize=_REMEMBERED_FILES)
def _file_findings(
    relative: str, text: str, wanted: tuple[int, int], version: tuple[int, int]
) -> tuple[ManifestFinding, ...]:
    """What validation finds in each object of a file that parses, object by object (validate_manifests'
    order; duplicates are judged over the folder)."""
    return tuple(
        finding
        for item in _parsed_file(relative, text)
        for finding in object_findings(item.manifest, wanted, version)[0]
    )


class PlatformFolders:
    """`gitops-config/platform/<env>/` objects per environment, each file parsed at most once; unreadable YAML
    is a finding. A lookup by name parses only the files whose text holds that name, so linting one service
    of a large fleet does not parse every other service's objects."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, list[Path] | None] = {}
        self._texts: dict[Path, str] = {}
        self._parsed: dict[Path, Sequence[PlatformObject] | None] = {}  # None: does not parse (a finding)
        self._objects: dict[str, list[PlatformObject] | None] = {}
        self.findings: list[Finding] = []

    def exists(self, env: str) -> bool:
        return self._paths(env) is not None

    def _paths(self, env: str) -> list[Path] | None:
        if env not in self._files:
            self._files[env] = platform_files(self.root, env)
        return self._files[env]

    def _text(self, path: Path) -> str | None:
        if path not in self._texts:
            try:
                self._texts[path] = fileio.read_text(path, fileio.YAML_FILE)
            except UsageError as exc:
                self._broken(path, exc)
                return None
        return self._texts[path]

    def _broken(self, path: Path, exc: UsageError) -> None:
        self._parsed[path] = None
        folder = path.parent.relative_to(self.root).as_posix()
        self.findings.append(rule("platform-object-invalid").at(folder, None, str(exc)))

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _parse(self, path: Path) -> Sequence[PlatformObject] | None:
        if path not in self._parsed:
            text = self._text(path)
            if text is None:
                return None
            try:
                self._parsed[path] = _parsed_file(self._relative(path), text)
            except UsageError as exc:
                self._broken(path, exc)
        return self._parsed[path]

    def objects(self, env: str) -> list[PlatformObject] | None:
        """Every object of the folder; None when there is none or a file does not parse (a finding)."""
        if env not in self._objects:
            found: list[PlatformObject] | None = []
            for path in self._paths(env) or ():
                parsed = self._parse(path)
                if parsed is None or found is None:
                    found = None
                    continue
                found += parsed
            self._objects[env] = found if self._paths(env) is not None else None
        return self._objects[env]

    def object_findings(
        self, env: str, wanted: tuple[int, int], version: tuple[int, int]
    ) -> list[ManifestFinding]:
        """validate_manifests' findings for each object of the folder, file by file (none when a file does
        not parse: its own finding says so)."""
        if self.objects(env) is None:
            return []
        return [
            finding
            for path in self._paths(env) or ()
            for finding in _file_findings(self._relative(path), self._texts[path], wanted, version)
        ]

    def find(self, env: str, kind: str, name: str) -> Manifest | None:
        """The first object of that kind and name, in file order. A file that cannot hold it is not parsed:
        an object's name is in its file's text, unless written with escapes (a backslash: parsed too).
        Raises Unreadable when a file that may hold it does not parse (its finding is recorded)."""
        for path in self._paths(env) or ():
            text = self._text(path)
            if text is None:
                raise Unreadable(path)
            if name not in text and "\\" not in text:
                continue
            parsed = self._parse(path)
            if parsed is None:
                raise Unreadable(path)
            for item in parsed:
                if item.manifest.kind == kind and item.manifest.name == name:
                    return item.manifest
        return None


class Unreadable(Exception):
    """A platform file that may hold the object looked for does not parse: nothing can be said about it."""


def check_objects(platform: Platform, folders: PlatformFolders) -> Iterator[Finding]:
    """Every object validated for KUBERNETES_VERSION: schema and the API server's own rules."""
    version = platform.config.kubernetes_version
    for env in platform.environments:
        objects = folders.objects(env) or []
        lines = {(o.manifest.source, o.manifest.key): o.line for o in objects}
        # validate_manifests over the folder, with each file's own findings remembered by content.
        wanted = parse_kube_version(version)
        found = folders.object_findings(env, wanted, schema_version_for(wanted))
        for finding in [*found, *check_duplicates([o.manifest for o in objects])]:
            if finding.severity is ManifestSeverity.SKIPPED:
                continue
            severity = Severity.ERROR if finding.severity is ManifestSeverity.ERROR else Severity.WARNING
            yield rule("platform-object-invalid").at(
                finding.source,
                lines.get((finding.source, finding.manifest)),
                f"{finding.manifest}: {finding.message} (Kubernetes {version})",
                severity=severity,
            )


def _values(files: ServiceFiles, env: str) -> dict[str, Any]:
    return files.merged(env)


def check_references(
    platform: Platform, folders: PlatformFolders, services: Iterable[ServiceFiles]
) -> Iterator[Finding]:
    """The ServiceAccount a service runs as, and the VaultAuth its secrets use, exist in platform/<env>/."""
    for files in services:
        if files.default is None or files.name not in platform.services:
            continue
        for env in platform.environments:
            if not folders.exists(env):
                continue
            try:
                found = list(_service_references(files, env, _values(files, env), folders))
            except Unreadable:
                continue  # the file's own finding says why; no reference into that folder is judged
            yield from found


def _service_references(
    files: ServiceFiles, env: str, values: dict[str, Any], folders: PlatformFolders
) -> Iterator[Finding]:
    folder = platform_folder(env).as_posix()
    if get_in(values, ("deployment", "enabled")) is False:
        return
    account = values.get("serviceAccountName")
    file, line = files.locate(env, ("serviceAccountName",))
    if not account:
        yield rule("platform-service-account-missing").at(
            file,
            line,
            f"serviceAccountName is not set in {env}: the Deployment runs as the namespace's default"
            " ServiceAccount",
            f"set serviceAccountName: {files.name} (gitops-poc init does)",
        )
    elif folders.find(env, "ServiceAccount", str(account)) is None:
        yield rule("platform-service-account-missing").at(
            file, line, f"serviceAccountName {account} in {env}: {folder}/ creates no such ServiceAccount"
        )
    provider = get_in(values, ("secretsProvider", "provider"))
    if not values.get("secrets") or provider != "vault":
        return
    ref = get_in(values, ("secretsProvider", "vault", "authRef")) or CHART_AUTH_REF
    file, line = files.locate(env, ("secretsProvider", "vault", "authRef"))
    auth = folders.find(env, "VaultAuth", str(ref))
    if auth is None:
        yield rule("platform-vault-auth-missing").at(
            file,
            line,
            f"secretsProvider.vault.authRef {ref} in {env}: {folder}/ has no such VaultAuth, so the"
            " Vault Secrets Operator cannot log in for the service's VaultStaticSecrets",
        )
        return
    login = get_in(auth.body, ("spec", "kubernetes", "serviceAccount"))
    if account and login != account:
        yield rule("platform-vault-auth-missing").at(
            file,
            line,
            f"VaultAuth {ref} in {folder}/ logs in as {login}, but the service runs as {account}",
            f"name the VaultAuth of {account} (gitops-poc init keeps them in line)",
        )
