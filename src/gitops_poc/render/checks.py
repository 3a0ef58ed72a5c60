"""Checks the API server enforces but the OpenAPI schemas cannot express (so schema validation passes them).

Each rule cites the API server behaviour it mirrors; `kube_version` is (major, minor).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gitops_poc.dnsnames import DNS1035_LABEL, DNS1123_LABEL, DNS1123_SUBDOMAIN
from gitops_poc.render.findings import ManifestFinding, ManifestSeverity
from gitops_poc.render.manifests import Manifest

KubeVersion = tuple[int, int]

LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# Kinds whose names are DNS-1035 labels (Service) or DNS-1123 labels (Namespace); RBAC kinds only need
# to be a valid path segment; everything else is a DNS-1123 subdomain.
LABEL_NAMED = {"Service": DNS1035_LABEL, "Namespace": DNS1123_LABEL}
PATH_SEGMENT_NAMED = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")


@dataclass(frozen=True)
class RemovedApi:
    api_version: str
    kinds: frozenset[str] | None  # None: every kind of that apiVersion
    removed_in: KubeVersion
    replacement: str


def _removed(api_version: str, minor: int, replacement: str, *kinds: str) -> RemovedApi:
    return RemovedApi(api_version, frozenset(kinds) or None, (1, minor), replacement)


# Kubernetes deprecated-API migration guide (kubernetes.io/docs/reference/using-api/deprecation-guide/).
REMOVED_APIS = (
    _removed("extensions/v1beta1", 16, "apps/v1", "Deployment", "DaemonSet", "ReplicaSet"),
    _removed("extensions/v1beta1", 16, "networking.k8s.io/v1", "NetworkPolicy"),
    _removed("extensions/v1beta1", 22, "networking.k8s.io/v1", "Ingress"),
    _removed("apps/v1beta1", 16, "apps/v1"),
    _removed("apps/v1beta2", 16, "apps/v1"),
    _removed("networking.k8s.io/v1beta1", 22, "networking.k8s.io/v1"),
    _removed("rbac.authorization.k8s.io/v1beta1", 22, "rbac.authorization.k8s.io/v1"),
    _removed("apiextensions.k8s.io/v1beta1", 22, "apiextensions.k8s.io/v1"),
    _removed("admissionregistration.k8s.io/v1beta1", 22, "admissionregistration.k8s.io/v1"),
    _removed("apiregistration.k8s.io/v1beta1", 22, "apiregistration.k8s.io/v1"),
    _removed("certificates.k8s.io/v1beta1", 22, "certificates.k8s.io/v1"),
    _removed("coordination.k8s.io/v1beta1", 22, "coordination.k8s.io/v1"),
    _removed("scheduling.k8s.io/v1beta1", 22, "scheduling.k8s.io/v1"),
    _removed(
        "storage.k8s.io/v1beta1",
        22,
        "storage.k8s.io/v1",
        "CSIDriver",
        "CSINode",
        "StorageClass",
        "VolumeAttachment",
    ),
    _removed("storage.k8s.io/v1beta1", 27, "storage.k8s.io/v1", "CSIStorageCapacity"),
    _removed("policy/v1beta1", 25, "policy/v1", "PodDisruptionBudget"),
    _removed("policy/v1beta1", 25, "Pod Security Admission", "PodSecurityPolicy"),
    _removed("batch/v1beta1", 25, "batch/v1"),
    _removed("autoscaling/v2beta1", 25, "autoscaling/v2"),
    _removed("autoscaling/v2beta2", 26, "autoscaling/v2"),
    _removed("discovery.k8s.io/v1beta1", 25, "discovery.k8s.io/v1"),
    _removed("events.k8s.io/v1beta1", 25, "events.k8s.io/v1"),
    _removed("node.k8s.io/v1beta1", 25, "node.k8s.io/v1"),
    _removed("flowcontrol.apiserver.k8s.io/v1beta1", 26, "flowcontrol.apiserver.k8s.io/v1"),
    _removed("flowcontrol.apiserver.k8s.io/v1beta2", 29, "flowcontrol.apiserver.k8s.io/v1"),
    _removed("flowcontrol.apiserver.k8s.io/v1beta3", 32, "flowcontrol.apiserver.k8s.io/v1"),
)


def removed_api(manifest: Manifest, kube_version: KubeVersion) -> ManifestFinding | None:
    """An error when `manifest`'s apiVersion is no longer served by `kube_version`."""
    for api in REMOVED_APIS:
        applies = api.api_version == manifest.api_version and (
            api.kinds is None or manifest.kind in api.kinds
        )
        if applies and kube_version >= api.removed_in:
            major, minor = api.removed_in
            return error(
                manifest,
                f"apiVersion {api.api_version} was removed in Kubernetes {major}.{minor} "
                f"(target {kube_version[0]}.{kube_version[1]}); use {api.replacement}",
            )
    return None


def error(manifest: Manifest, message: str) -> ManifestFinding:
    return ManifestFinding(ManifestSeverity.ERROR, manifest.key, manifest.source, message)


def warning(manifest: Manifest, message: str) -> ManifestFinding:
    return ManifestFinding(ManifestSeverity.WARNING, manifest.key, manifest.source, message)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _name_problem(kind: str, name: str) -> str | None:
    if kind in PATH_SEGMENT_NAMED:
        bad = name in {".", ".."} or "/" in name or "%" in name
        return "may not be '.' or '..' or contain '/' or '%'" if bad else None
    return LABEL_NAMED.get(kind, DNS1123_SUBDOMAIN).problem(name)


def check_names(manifest: Manifest) -> Iterator[ManifestFinding]:
    name = manifest.metadata.get("name")
    if not name:
        yield error(manifest, "metadata.name is missing or empty")
    elif isinstance(name, str) and (problem := _name_problem(manifest.kind, name)):
        yield error(manifest, f"metadata.name {name!r} {problem}")
    namespace = manifest.metadata.get("namespace")
    if isinstance(namespace, str) and namespace and not DNS1123_LABEL.matches(namespace):
        yield error(manifest, f"metadata.namespace {namespace!r} is not a valid DNS-1123 label")


def _label_problem(key: str, value: Any) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and not DNS1123_SUBDOMAIN.matches(prefix):
        return f"label key {key!r}: the prefix must be a DNS-1123 subdomain"
    if not name or len(name) > 63 or not LABEL_VALUE.match(name):
        return f"label key {key!r} is not a valid label name"
    if isinstance(value, str) and (len(value) > 63 or not LABEL_VALUE.match(value)):
        return (
            f"label {key}={value!r}: values are at most 63 characters of letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit"
        )
    return None


def _label_maps(manifest: Manifest) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "metadata.labels", _mapping(manifest.metadata.get("labels"))
    spec = _mapping(manifest.body.get("spec"))
    template = _mapping(spec.get("template"))
    yield "spec.template.metadata.labels", _mapping(_mapping(template.get("metadata")).get("labels"))
    yield "spec.selector.matchLabels", _mapping(_mapping(spec.get("selector")).get("matchLabels"))


def check_labels(manifest: Manifest) -> Iterator[ManifestFinding]:
    for where, labels in _label_maps(manifest):
        for key, value in labels.items():
            if problem := _label_problem(str(key), value):
                yield error(manifest, f"{where}: {problem}")


def check_workload(manifest: Manifest) -> Iterator[ManifestFinding]:
    """Selector must match the pod template; every probe needs exactly one handler."""
    spec = _mapping(manifest.body.get("spec"))
    template = _mapping(spec.get("template"))
    labels = _mapping(_mapping(template.get("metadata")).get("labels"))
    selector = _mapping(_mapping(spec.get("selector")).get("matchLabels"))
    mismatched = {k: v for k, v in selector.items() if labels.get(k) != v}
    if mismatched:
        yield error(manifest, f"spec.selector does not match the pod template labels: {mismatched}")
    pod = _mapping(template.get("spec"))
    for group in ("initContainers", "containers"):
        for container in pod.get(group) or []:
            for probe_name in PROBES:
                probe = _mapping(container).get(probe_name)
                if not isinstance(probe, dict):
                    continue
                handlers = [h for h in PROBE_HANDLERS if probe.get(h) is not None]
                if len(handlers) != 1:
                    found = ", ".join(handlers) or "none"
                    yield error(
                        manifest,
                        f"container {_mapping(container).get('name')!r} {probe_name} must have exactly one"
                        f" handler ({', '.join(PROBE_HANDLERS)}); found {found}",
                    )


def check_pdb(manifest: Manifest) -> Iterator[ManifestFinding]:
    spec = _mapping(manifest.body.get("spec"))
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        yield error(
            manifest,
            "spec: minAvailable and maxUnavailable cannot be both set (the API server rejects it); "
            "with k8app set pdb.maxUnavailable: null next to pdb.minAvailable",
        )
    if spec.get("selector") is None:
        yield warning(
            manifest, "spec.selector is missing: a PodDisruptionBudget without a selector protects no pods"
        )


def check_service(manifest: Manifest) -> Iterator[ManifestFinding]:
    spec = _mapping(manifest.body.get("spec"))
    headless = spec.get("clusterIP") == "None"
    if spec.get("type") != "ExternalName" and not headless and not spec.get("ports"):
        yield error(
            manifest, "spec.ports is empty: a Service needs at least one port (the API server rejects it)"
        )


def check_hpa(manifest: Manifest) -> Iterator[ManifestFinding]:
    spec = _mapping(manifest.body.get("spec"))
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        yield error(manifest, f"spec.minReplicas {low} is greater than spec.maxReplicas {high}")


KIND_CHECKS = {
    "PodDisruptionBudget": check_pdb,
    "Service": check_service,
    "HorizontalPodAutoscaler": check_hpa,
    **{kind: check_workload for kind in WORKLOADS},
}


def check_manifest(manifest: Manifest) -> list[ManifestFinding]:
    """Names, labels and the kind's own rules."""
    findings = [*check_names(manifest), *check_labels(manifest)]
    if kind_check := KIND_CHECKS.get(manifest.kind):
        findings.extend(kind_check(manifest))
    return findings


def check_duplicates(manifests: Sequence[Manifest]) -> list[ManifestFinding]:
    """Two objects with the same kind and name in one release: only one can exist."""
    identity = [(m.key, m.namespace) for m in manifests]
    counts = Counter(identity)
    seen: set[tuple[str, str | None]] = set()
    findings = []
    for manifest, ident in zip(manifests, identity, strict=True):
        if counts[ident] > 1 and ident not in seen:
            seen.add(ident)
            findings.append(error(manifest, f"rendered {counts[ident]} times; object names must be unique"))
    return findings
