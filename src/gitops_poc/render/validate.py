"""Offline validation of rendered manifests for one Kubernetes version.

Schemas are the strict OpenAPI-derived JSON schemas shipped in the `kubernetes-validate` package. Its own
`validate()` re-reads the 1.2 MB definitions file for every object (~18 ms each); here each version's
definitions and each kind's validator are loaded once per process. On top of the schemas come the
API-server rules of `checks.py`. Custom resources (VaultStaticSecret, Application, ...) are validated against
the CRDs of the pinned charts (crds.py) when the caller passes them; a custom resource with no schema (no
CRDs given, a chart that could not be pulled, a group no pinned chart defines) is reported as not validated
rather than passed or failed.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_poc.errors import UsageError
from gitops_poc.render import checks
from gitops_poc.render.findings import ManifestFinding, ManifestSeverity
from gitops_poc.render.manifests import Manifest

if TYPE_CHECKING:
    from gitops_poc.render.crdschema import CrdSchemas

if TYPE_CHECKING:  # jsonschema costs ~55 ms to import: only commands that validate pay for it
    from jsonschema import Draft202012Validator
    from referencing import Registry

DEFAULT_KUBE_VERSION = "1.30"
SCHEMA_PACKAGE = "kubernetes_validate"
SCHEMA_FOLDER = "kubernetes-json-schema"
BASE_URI = "https://kubernetes.io/api/"  # the definitions file's own $id lives here
MAX_SCHEMA_ERRORS = 5
# API groups served by Kubernetes itself; any other group belongs to a CustomResourceDefinition.
BUILTIN_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "extensions",
        "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "storagemigration.k8s.io",
    }
)
VERSION_TEXT = re.compile(r"v?([0-9]+)\.([0-9]+)(\.[0-9]+)?\Z")
SCHEMA_DIR = re.compile(r"v([0-9]+)\.([0-9]+)\.[0-9]+-local-strict\Z")


@dataclass(frozen=True)
class ValidationReport:
    kube_version: str  # as asked, e.g. 1.30
    schema_version: str  # the schema set used (the newest not newer than asked)
    findings: tuple[ManifestFinding, ...]
    validated: int  # objects checked against a schema

    @property
    def errors(self) -> list[ManifestFinding]:
        return [f for f in self.findings if f.severity is ManifestSeverity.ERROR]

    @property
    def warnings(self) -> list[ManifestFinding]:
        return [f for f in self.findings if f.severity is ManifestSeverity.WARNING]

    @property
    def skipped(self) -> list[ManifestFinding]:
        return [f for f in self.findings if f.severity is ManifestSeverity.SKIPPED]

    @property
    def ok(self) -> bool:
        return not self.errors


def _schema_root() -> Path:
    """The schema folder inside the installed package, found without importing it: its `__init__` loads
    jsonschema, PyYAML and packaging for its own validate(), ~0.1 s this tool does not need."""
    spec = importlib.util.find_spec(SCHEMA_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise UsageError(f"the {SCHEMA_PACKAGE} package is not installed (pip install kubernetes-validate)")
    return Path(locations[0]) / SCHEMA_FOLDER


@lru_cache(maxsize=1)
def schema_versions() -> tuple[tuple[int, int], ...]:
    """The Kubernetes minor versions the installed kubernetes-validate has schemas for."""
    found = (SCHEMA_DIR.match(entry.name) for entry in _schema_root().iterdir())
    return tuple(sorted((int(m.group(1)), int(m.group(2))) for m in found if m))


def parse_kube_version(text: str, *, for_validation: bool = True) -> tuple[int, int]:
    """`1.30`, `v1.30` or `1.30.2` -> (1, 30); UsageError for anything else, and (when validating) for a
    version older than the offline schemas."""
    match = VERSION_TEXT.match(text.strip())
    if not match:
        raise UsageError(f"--kube-version {text!r} is not a Kubernetes version such as 1.30")
    wanted = (int(match.group(1)), int(match.group(2)))
    known = schema_versions()
    if for_validation and (not known or wanted < known[0]):
        oldest = f"{known[0][0]}.{known[0][1]}" if known else "none"
        raise UsageError(
            f"--kube-version {text}: offline schemas start at Kubernetes {oldest} (--no-validate renders"
            " anyway)"
        )
    return wanted


def schema_version_for(wanted: tuple[int, int]) -> tuple[int, int]:
    """The newest schema set not newer than `wanted` (a newer cluster than the schemas gets the newest)."""
    return max(v for v in schema_versions() if v <= wanted)


@lru_cache(maxsize=4)
def _registry(folder: str) -> Registry[Any]:
    from referencing import Registry, Resource

    text = _schema_root().joinpath(folder, "_definitions.json").read_text(encoding="utf-8")
    definitions = Resource.from_contents(json.loads(text))
    registry: Registry[Any] = definitions @ Registry()
    return registry


@lru_cache(maxsize=512)
def _validator(folder: str, filename: str) -> Draft202012Validator | None:
    path = _schema_root().joinpath(folder, filename)
    if not path.is_file():
        return None
    from jsonschema import Draft202012Validator

    schema = json.loads(path.read_text(encoding="utf-8"))
    # Give the kind's schema an id so its "/api/_definitions.json#..." references resolve to the definitions.
    schema["$id"] = BASE_URI + filename
    return Draft202012Validator(schema, registry=_registry(folder))


def api_group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def schema_filename(kind: str, api_version: str) -> str:
    """kubernetes-validate's naming: Deployment apps/v1 -> deployment-apps-v1.json,
    rbac.authorization.k8s.io/v1 -> rbac-v1."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


def error_keys(error: Any) -> tuple[str | int, ...]:
    """Where a schema error is: its path, plus the first unknown field for an additionalProperties error
    (jsonschema reports those at the object holding them)."""
    keys = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set((error.schema or {}).get("properties") or ())
        extra = sorted(str(k) for k in error.instance if k not in known)
        if extra:
            keys += (extra[0],)
    return keys


def _path(error: Any) -> str:
    return ".".join(str(p) for p in error_keys(error)) or "(object)"


def _schema_errors(manifest: Manifest, errors: list[Any], prefix: str = "") -> list[ManifestFinding]:
    errors = sorted(errors, key=lambda e: list(map(str, error_keys(e))))
    findings = [
        checks.error(manifest, f"{prefix}{_path(e)}: {e.message}") for e in errors[:MAX_SCHEMA_ERRORS]
    ]
    if len(errors) > MAX_SCHEMA_ERRORS:
        findings.append(
            checks.error(manifest, f"... and {len(errors) - MAX_SCHEMA_ERRORS} more schema errors")
        )
    return findings


def custom_resource_findings(
    manifest: Manifest, crds: CrdSchemas | None
) -> tuple[list[ManifestFinding], bool]:
    """A custom resource against its CRD from the pinned charts; not validated when there is none."""
    group, kind = api_group(manifest.api_version), manifest.kind
    schema = None if crds is None else crds.find(manifest.api_version, kind)
    if crds is not None and schema is not None:
        found = list(crds.validator(schema).iter_errors(manifest.body))
        return _schema_errors(manifest, found, f"(CRD of {schema.chart}) "), True
    if crds is not None and group in crds.groups:
        served = crds.served(group, kind)
        chart = crds.groups[group]
        message = (
            f"{chart} serves {kind} only as {', '.join(f'{group}/{v}' for v in served)}"
            if served
            else f"{chart} defines no {kind} in {group}"
        )
        return [checks.error(manifest, f"{manifest.api_version}: {message}")], False
    if crds is None:
        why = "no CRD schemas given"
    elif crds.unavailable:
        why = "CRDs unavailable: " + "; ".join(crds.unavailable)
    else:
        why = f"no pinned chart defines {group} ({', '.join(crds.charts)})"
    note = f"not validated (custom resource {manifest.api_version}; {why})"
    return [ManifestFinding(ManifestSeverity.SKIPPED, manifest.key, manifest.source, note)], False


def schema_findings(
    manifest: Manifest,
    wanted: tuple[int, int],
    version: tuple[int, int],
    crds: CrdSchemas | None = None,
) -> tuple[list[ManifestFinding], bool]:
    """Findings from the `version` schemas for a cluster at `wanted` (custom resources: from `crds`), and
    whether a schema was applied."""
    if not manifest.api_version or manifest.kind == "?":
        return [checks.error(manifest, "apiVersion and kind are required")], False
    if api_group(manifest.api_version) not in BUILTIN_GROUPS:
        return custom_resource_findings(manifest, crds)
    if removed := checks.removed_api(manifest, wanted):
        return [removed], False
    folder = f"v{version[0]}.{version[1]}.0-local-strict"
    validator = _validator(folder, schema_filename(manifest.kind, manifest.api_version))
    if validator is None:
        message = f"Kubernetes {version[0]}.{version[1]} serves no {manifest.kind} in {manifest.api_version}"
        return [checks.error(manifest, message)], False
    return _schema_errors(manifest, list(validator.iter_errors(manifest.body))), True


def object_findings(
    manifest: Manifest,
    wanted: tuple[int, int],
    version: tuple[int, int],
    crds: CrdSchemas | None = None,
) -> tuple[list[ManifestFinding], bool]:
    """What `validate_manifests` finds in one object alone (schema, then the API server's rules), and
    whether a schema was applied; the objects' duplicates are judged over the whole set."""
    found, applied = schema_findings(manifest, wanted, version, crds)
    return [*found, *checks.check_manifest(manifest)], applied


def validate_manifests(
    manifests: Sequence[Manifest],
    kube_version: str = DEFAULT_KUBE_VERSION,
    crds: CrdSchemas | None = None,
) -> ValidationReport:
    """Schema plus API-server checks for every object, as the given Kubernetes version would see them;
    custom resources against `crds` (the pinned charts' CRDs, crds.load_crd_schemas)."""
    wanted = parse_kube_version(kube_version)
    version = schema_version_for(wanted)
    findings: list[ManifestFinding] = []
    validated = 0
    for manifest in manifests:
        found, applied = object_findings(manifest, wanted, version, crds)
        validated += int(applied)
        findings.extend(found)
    findings.extend(checks.check_duplicates(manifests))
    return ValidationReport(kube_version, f"{version[0]}.{version[1]}", tuple(findings), validated)
