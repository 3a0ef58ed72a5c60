"""Rules on `gitops-config/platform/<env>/`, which ArgoCD syncs beside the chart: its objects validated for
the configured Kubernetes version, and the ServiceAccount and VaultAuth each service's values name found
there."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from gitops_poc.errors import UsageError
from gitops_poc.lint.catalog import rule
from gitops_poc.lint.findings import Finding, Severity
from gitops_poc.lint.model import ServiceFiles, get_in
from gitops_poc.platform import Platform
from gitops_poc.render.findings import ManifestSeverity
from gitops_poc.render.manifests import Manifest
from gitops_poc.render.references import PlatformObject, load_platform_objects, platform_folder
from gitops_poc.render.validate import validate_manifests

CHART_AUTH_REF = "vault-auth"  # the chart's secretsProvider.vault.authRef default


class PlatformFolders:
    """`gitops-config/platform/<env>/` objects per environment, read once; unreadable YAML is a finding."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._objects: dict[str, list[PlatformObject] | None] = {}
        self._by_kind_name: dict[str, dict[tuple[str, str], Manifest]] = {}
        self.findings: list[Finding] = []

    def objects(self, env: str) -> list[PlatformObject] | None:
        if env not in self._objects:
            try:
                self._objects[env] = load_platform_objects(self.root, env)
            except UsageError as exc:
                self._objects[env] = None
                self.findings.append(
                    rule("platform-object-invalid").at(platform_folder(env).as_posix(), None, str(exc))
                )
        return self._objects[env]

    def find(self, env: str, kind: str, name: str) -> Manifest | None:
        """The first object of that kind and name (an index per environment: one lookup per service)."""
        if env not in self._by_kind_name:
            index: dict[tuple[str, str], Manifest] = {}
            for item in self.objects(env) or ():
                index.setdefault((item.manifest.kind, item.manifest.name), item.manifest)
            self._by_kind_name[env] = index
        return self._by_kind_name[env].get((kind, name))


def check_objects(platform: Platform, folders: PlatformFolders) -> Iterator[Finding]:
    """Every object validated for KUBERNETES_VERSION: schema and the API server's own rules."""
    version = platform.config.kubernetes_version
    for env in platform.environments:
        objects = folders.objects(env) or []
        lines = {(o.manifest.source, o.manifest.key): o.line for o in objects}
        report = validate_manifests([o.manifest for o in objects], version)
        for finding in report.findings:
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
            if folders.objects(env) is None:
                continue
            yield from _service_references(files, env, _values(files, env), folders)


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
