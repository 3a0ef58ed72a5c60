"""Custom resources in gitops-config/ (the ApplicationSet, AppProject and Applications in argocd/, the
VaultAuths in platform/<env>/) against the CRDs of the pinned Argo CD and Vault Secrets Operator charts
(render/crds.py): each schema error at the line of the field it names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from gitops_poc.layout import APPLICATIONSET_FILE, GITOPS_CONFIG_DIR, PLATFORM_DIR
from gitops_poc.lint.catalog import rule
from gitops_poc.lint.documents import YamlDocument, read_documents
from gitops_poc.lint.findings import Finding
from gitops_poc.lint.model import display_path
from gitops_poc.render.crdschema import CrdSchemas
from gitops_poc.render.findings import ManifestSeverity
from gitops_poc.render.manifests import Manifest
from gitops_poc.render.validate import (
    BUILTIN_GROUPS,
    MAX_SCHEMA_ERRORS,
    api_group,
    custom_resource_findings,
    error_keys,
)
from gitops_poc.yamlio import YamlSyntaxError


def _files(root: Path) -> list[Path]:
    argocd = root / APPLICATIONSET_FILE.parent
    platform = root / GITOPS_CONFIG_DIR / PLATFORM_DIR
    return [
        *(sorted(argocd.glob("*.yaml")) if argocd.is_dir() else []),
        *(sorted(platform.glob("*/*.yaml")) if platform.is_dir() else []),
    ]


def _custom_resources(root: Path) -> Iterator[YamlDocument]:
    for path in _files(root):
        try:
            docs = read_documents(path, display_path(root, path), root)
        except YamlSyntaxError:
            continue  # the argocd and platform rules report it
        for doc in docs:
            data = doc.data
            if (
                isinstance(data, dict)
                and isinstance(data.get("apiVersion"), str)
                and data.get("kind")
                and api_group(data["apiVersion"]) not in BUILTIN_GROUPS
            ):
                yield doc


def _findings(doc: YamlDocument, crds: CrdSchemas) -> Iterator[Finding]:
    manifest = Manifest(doc.display, doc.text, doc.data)
    schema = crds.find(manifest.api_version, manifest.kind)
    if schema is None:
        for finding in custom_resource_findings(manifest, crds)[0]:
            if finding.severity is ManifestSeverity.ERROR:
                yield rule("crd-invalid").at(
                    doc.display, doc.line(("apiVersion",)), f"{manifest.key}: {finding.message}"
                )
        return
    errors = sorted(crds.validator(schema).iter_errors(doc.data), key=lambda e: list(map(str, error_keys(e))))
    for error in errors[:MAX_SCHEMA_ERRORS]:
        keys = error_keys(error)
        field = ".".join(map(str, keys)) or "(object)"
        yield rule("crd-invalid").at(
            doc.display,
            doc.line(keys),
            f"{manifest.key}: {field}: {error.message} (CRD of {schema.chart})",
        )
    if len(errors) > MAX_SCHEMA_ERRORS:
        yield rule("crd-invalid").at(
            doc.display, doc.line(()), f"{manifest.key}: ... and {len(errors) - MAX_SCHEMA_ERRORS} more"
        )


def check_custom_resources(root: Path, crds: CrdSchemas) -> Iterator[Finding]:
    """Every custom resource under gitops-config/ against the pinned charts' CRDs; a chart whose CRDs could
    not be had is one warning (its resources stay unchecked), not silence."""
    unchecked: list[str] = []
    for doc in _custom_resources(root):
        yield from _findings(doc, crds)
        if crds.unavailable and crds.find(str(doc.data["apiVersion"]), str(doc.data["kind"])) is None:
            unchecked.append(doc.display)
    if unchecked:
        yield rule("crd-schema-unavailable").at(
            unchecked[0],
            None,
            f"{len(unchecked)} custom resource(s) not checked against a CRD: {'; '.join(crds.unavailable)}",
        )
