"""`lint_platform`: which files to look at, and every rule run over them."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitops_poc.errors import UsageError
from gitops_poc.layout import GITOPS_CONFIG_DIR, SERVICES_DIR, VALUES_DIR
from gitops_poc.lint import (
    argocd_rules,
    chart_rules,
    crd_rules,
    delivery_rules,
    env_rules,
    platform_rules,
    reference_rules,
    release_rules,
)
from gitops_poc.lint.catalog import rule
from gitops_poc.lint.findings import Finding, sort_findings
from gitops_poc.lint.model import ServiceFiles, ServiceIndex, display_path, read_service
from gitops_poc.platform import Platform
from gitops_poc.render.crdschema import CrdSchemas


@dataclass
class Selection:
    """What to lint: service folders by name, the ArgoCD files, and the paths findings must lie under."""

    services: dict[str, Path] = field(default_factory=dict)
    argocd: bool = False
    missing: list[str] = field(default_factory=list)  # configured services without a folder
    filters: list[Path] = field(default_factory=list)  # empty: keep every finding


def _service_dir_of(path: Path) -> Path | None:
    """The service folder that `path` is, or lies in (a folder holding .cicd/)."""
    for candidate in (path, *path.parents):
        if (candidate / VALUES_DIR).is_dir() or candidate.name == VALUES_DIR:
            return candidate.parent if candidate.name == VALUES_DIR else candidate
    return None


def select(platform: Platform, root: Path, paths: Sequence[Path]) -> Selection:
    services_root = root / SERVICES_DIR
    if not paths:
        if not services_root.is_dir() and not (root / GITOPS_CONFIG_DIR).is_dir():
            raise UsageError(
                f"{root} is not a platform root: it has neither {SERVICES_DIR}/ nor {GITOPS_CONFIG_DIR}/ (see"
                " --root)"
            )
        selection = Selection(argocd=True)
        for name in platform.services:
            if (services_root / name).is_dir():
                selection.services[name] = services_root / name
            else:
                selection.missing.append(name)
        if services_root.is_dir():
            for directory in sorted(
                p for p in services_root.iterdir() if p.is_dir() and not p.name.startswith(".")
            ):
                selection.services.setdefault(directory.name, directory)
        return selection

    selection = Selection()
    for given in paths:
        path = given.resolve()
        if not path.exists():
            raise UsageError(f"{given}: no such file or folder")
        selection.filters.append(path)
        if path == root:
            return select(platform, root, [])
        if path == root / GITOPS_CONFIG_DIR or root / GITOPS_CONFIG_DIR in path.parents:
            selection.argocd = True
        elif path == services_root:
            whole = select(platform, root, [])
            selection.services.update(whole.services)
            selection.missing.extend(whole.missing)
        elif (service_dir := _service_dir_of(path)) is not None:
            selection.services[service_dir.name] = service_dir
        else:
            raise UsageError(
                f"{given}: neither a service folder (with {VALUES_DIR}/), a values file, nor part of"
                f" {GITOPS_CONFIG_DIR}/"
            )
    return selection


def _lint_service(files: ServiceFiles, platform: Platform, scope: reference_rules.Scope) -> list[Finding]:
    findings = list(files.findings)
    if files.name not in platform.services:
        findings.append(
            rule("service-unknown").at(
                files.display, None, f"{files.name} is not in SERVICES ({' '.join(platform.services)})"
            )
        )
    if files.default is not None:
        findings += chart_rules.check_file(files.default)
        findings += reference_rules.check_file(files.default, files, None, scope)
    for env, doc in (*files.envs.items(), *files.extra.items()):
        findings += chart_rules.check_file(doc)
        findings += reference_rules.check_file(doc, files, env, scope)
        findings += env_rules.check_env_file(files, env, doc, platform)
    if files.default is not None:
        for env in platform.environments:
            findings += chart_rules.check_environment(files, env, platform)
    return findings


def _inside(root: Path, finding: Finding, filters: list[Path]) -> bool:
    path = Path(finding.file)
    path = path if path.is_absolute() else root / path
    return any(path == f or f in path.parents for f in filters)


def lint_platform(
    platform: Platform,
    root: Path,
    paths: Sequence[Path] = (),
    crds: Callable[[], CrdSchemas] | None = None,
) -> list[Finding]:
    """Every finding for the platform under `root` (or only under `paths`), sorted by file and line. With
    `crds` (loads the pinned charts' CRDs; called only when gitops-config/ is linted), the custom resources
    under gitops-config/ are checked against them.

    Raises UsageError when `root` is not a platform folder or a path does not exist; problems inside the
    files (YAML syntax included) are findings.
    """
    root = root.resolve()
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder (see --root)")
    selection = select(platform, root, paths)

    def load(name: str) -> ServiceFiles | None:
        directory = selection.services.get(name, root / SERVICES_DIR / name)
        return read_service(directory, name, platform, root) if directory.is_dir() else None

    index = ServiceIndex(load, tuple(dict.fromkeys((*platform.services, *selection.services))))
    scope = reference_rules.Scope.of(platform, index)
    findings: list[Finding] = []
    for name in selection.missing:
        is_file = os.path.lexists(root / SERVICES_DIR / name)
        findings.append(
            rule("service-missing").at(
                display_path(root, root / SERVICES_DIR / name),
                None,
                f"service {name} is in SERVICES but "
                + ("its path is a file, not a folder" if is_file else "has no folder"),
            )
        )
    for name in selection.services:
        findings += _lint_service(index[name], platform, scope)
    folders = platform_rules.PlatformFolders(root)
    findings += platform_rules.check_references(platform, folders, (index[n] for n in selection.services))
    if selection.argocd:
        findings += argocd_rules.check_argocd(platform, root)
        findings += delivery_rules.check_delivery(platform, root)
        findings += delivery_rules.check_agents(platform, root)
        findings += release_rules.check_release(root, platform.config.production_environments)
        findings += platform_rules.check_objects(platform, folders)
        if crds is not None:
            findings += crd_rules.check_custom_resources(root, crds())
    findings += folders.findings
    if selection.filters:
        findings = [f for f in findings if _inside(root, f, selection.filters)]
    return sort_findings(findings)
