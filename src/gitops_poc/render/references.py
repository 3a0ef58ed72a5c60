"""What a service's rendered objects need from `gitops-config/platform/<env>/`, which ArgoCD syncs beside the
chart: the ServiceAccount each Deployment runs as, the VaultAuth each VaultStaticSecret names (logging in as
that ServiceAccount), and in production exactly one PodDisruptionBudget selecting each Deployment's pods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_poc import fileio
from gitops_poc.layout import GITOPS_CONFIG_DIR, PLATFORM_DIR
from gitops_poc.render.findings import ManifestFinding, ManifestSeverity
from gitops_poc.render.manifests import DOCUMENT_SEPARATOR, Manifest, parse_manifests
from gitops_poc.render.model import Rendered
from gitops_poc.render.validate import ValidationReport, validate_manifests

if TYPE_CHECKING:
    from gitops_poc.render.crdschema import CrdSchemas

WORKLOADS = ("Deployment",)


@dataclass(frozen=True)
class PlatformObject:
    manifest: Manifest
    line: int  # where the document starts in its file


def platform_folder(env: str) -> Path:
    """`gitops-config/platform/<env>`, relative to the platform root."""
    return GITOPS_CONFIG_DIR / PLATFORM_DIR / env


def platform_files(root: Path, env: str) -> list[Path] | None:
    """The files of `gitops-config/platform/<env>/`, in the order they are read (None: no such folder)."""
    folder = root / platform_folder(env)
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else None


def parse_platform_file(relative: str, text: str) -> list[PlatformObject]:
    """The objects of one platform file, each with the line its document starts on. YAML errors raise."""
    objects = []
    line = 1
    for chunk in DOCUMENT_SEPARATOR.split(text):
        start = line + next(
            (i for i, t in enumerate(chunk.splitlines()) if t.strip() and not t.startswith("#")), 0
        )
        objects += [PlatformObject(m, start) for m in parse_manifests(chunk, relative)]
        line += chunk.count("\n")
    return objects


def load_platform_objects(root: Path, env: str) -> list[PlatformObject] | None:
    """Every object of `gitops-config/platform/<env>/*.yaml` (None: no such folder). YAML errors raise."""
    files = platform_files(root, env)
    if files is None:
        return None
    return [
        item
        for path in files
        for item in parse_platform_file(
            path.relative_to(root).as_posix(), fileio.read_text(path, fileio.YAML_FILE)
        )
    ]


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _named(objects: Sequence[Manifest], kind: str, name: str, namespace: str | None) -> Manifest | None:
    for manifest in objects:
        if manifest.kind == kind and manifest.name == name and manifest.namespace in (None, namespace):
            return manifest
    return None


def selects(pdb: Manifest, labels: dict[str, Any]) -> bool:
    """Does the PDB's matchLabels selector pick pods with `labels`? (An empty selector is not counted.)"""
    match = _map(_map(_map(pdb.body.get("spec")).get("selector")).get("matchLabels"))
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def _error(manifest: Manifest, message: str) -> ManifestFinding:
    return ManifestFinding(ManifestSeverity.ERROR, manifest.key, manifest.source, message)


def check_references(
    service: Sequence[Manifest], platform: Sequence[Manifest], env: str, namespace: str, production: bool
) -> list[ManifestFinding]:
    """Findings on the service's objects for what they expect from `gitops-config/platform/<env>/`."""
    folder = platform_folder(env).as_posix()
    findings: list[ManifestFinding] = []
    accounts: set[str] = set()
    pdbs = [m for m in (*service, *platform) if m.kind == "PodDisruptionBudget"]
    for workload in (m for m in service if m.kind in WORKLOADS):
        template = _map(_map(workload.body.get("spec")).get("template"))
        account = _map(template.get("spec")).get("serviceAccountName")
        if not account:
            findings.append(
                _error(workload, "runs as the namespace's default ServiceAccount (no serviceAccountName)")
            )
        elif _named(platform, "ServiceAccount", str(account), namespace) is None:
            findings.append(
                _error(workload, f"runs as ServiceAccount {account}, which {folder}/ does not create")
            )
        else:
            accounts.add(str(account))
        if production:
            labels = _map(_map(template.get("metadata")).get("labels"))
            chosen = [p.name for p in pdbs if p.namespace in (None, namespace) and selects(p, labels)]
            if len(chosen) != 1:
                what = (
                    "no PodDisruptionBudget selects its pods"
                    if not chosen
                    else (
                        f"{len(chosen)} PodDisruptionBudgets select its pods ({', '.join(chosen)});"
                        " evictions fail"
                    )
                )
                findings.append(_error(workload, f"{what} (production; {folder}/ holds the platform's)"))
    for secret in (m for m in service if m.kind == "VaultStaticSecret"):
        ref = str(_map(secret.body.get("spec")).get("vaultAuthRef") or "")
        auth = _named(platform, "VaultAuth", ref, namespace) if ref else None
        if auth is None:
            findings.append(
                _error(secret, f"vaultAuthRef {ref or '(none)'}: {folder}/ has no such VaultAuth")
            )
            continue
        login = _map(_map(auth.body.get("spec")).get("kubernetes")).get("serviceAccount")
        if accounts and login not in accounts:
            findings.append(
                _error(
                    secret,
                    f"VaultAuth {ref} logs in as {login}, but the Deployment runs as"
                    f" {', '.join(sorted(accounts))}: Vault's role accepts only the service's own"
                    " ServiceAccount",
                )
            )
    return findings


def with_platform_objects(
    report: ValidationReport,
    rendered: Rendered,
    root: Path,
    kube_version: str,
    production: bool,
    crds: CrdSchemas | None = None,
) -> ValidationReport:
    """The report plus what ArgoCD syncs beside the chart: the service's gitops-config/platform/<env>/ objects
    validated for the same Kubernetes version, and the objects its manifests name found there."""
    env = rendered.env
    objects = load_platform_objects(root, env)
    if objects is None:
        note = ManifestFinding(
            ManifestSeverity.WARNING,
            platform_folder(env).as_posix(),
            str(root),
            "not found: the ServiceAccount, VaultAuth and PodDisruptionBudget the service needs are not"
            " checked",
        )
        return replace(report, findings=(*report.findings, note))
    manifests = [o.manifest for o in objects]
    # The service's own file is validated here; `lint` validates the whole folder.
    own_file = (platform_folder(env) / f"{rendered.service}.yaml").as_posix()
    own = validate_manifests([m for m in manifests if m.source == own_file], kube_version, crds)
    references = check_references(rendered.manifests or (), manifests, env, rendered.namespace, production)
    return replace(
        report,
        findings=(*report.findings, *own.findings, *references),
        validated=report.validated + own.validated,
    )
