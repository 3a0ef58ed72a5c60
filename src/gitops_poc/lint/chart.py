"""What the k8app `app` chart 3.13 reads, ignores and defaults (shared spec k8app-contract.md, sections
2-8); tests/lint/test_chart_contract.py checks it against the published chart."""

from __future__ import annotations

from typing import Any

from gitops_poc.lint.documents import KeyPath

# Top-level keys 3.13 reads: its values.yaml and the keys its templates read without a default there.
KNOWN_TOP_LEVEL = frozenset(
    [
        "environment",
        "appName",
        "branch",
        "version",
        "nodeSelector",
        "tolerations",
        "jaegerEnabled",
        "commands",
        "args",
        "replicas",
        "buildId",
        "serviceAccountName",
        "deployment",
        "rbac",
        "service",
        "serviceExternal",
        "serviceInternal",
        "serviceHeadless",
        "serviceExternalName",
        "image",
        "lifecycle",
        "strategy",
        "prometheus",
        "resources",
        "ingress",
        "job",
        "cloudflare",
        "cronjob",
        "worker",
        "livenessProbe",
        "readinessProbe",
        "secrets",
        "secretsProvider",
        "configmap",
        "vaultProjectName",
        "vaultNamespace",
        "imagePullSecrets",
        "alerting",
        "volume",
        "hpa",
        "pdb",
        "configfiles",
        "extensions",
        "deploySecretHarbor",
        "deploySecretNexus",
        "initContainers",
        "nameOverride",
        "fqdn",
        "vaultCert",
        "serviceMonitor",
        "gateway",
        "cache",
        "sharedVolumes",
    ]
)

PROBES = ("livenessProbe", "readinessProbe")
PROBE_MODES = ("httpGet", "tcpSocket", "execCommand", "grpc")

# Sub-keys of the blocks whose every key the contract documents; others are not checked below the top.
KNOWN_SUBKEYS: dict[str, frozenset[str]] = {
    "image": frozenset({"repository", "tag", "pullPolicy"}),
    "service": frozenset({"enabled", "type", "ports", "annotations"}),
    "hpa": frozenset(
        {
            "enabled",
            "maxReplicas",
            "cpu",
            "memory",
            "behavior",
            "annotations",
            "customMetric",
            "customResource",
            "customTarget",
        }
    ),
    "pdb": frozenset({"enabled", "minAvailable", "maxUnavailable", "apiVersion", "annotations"}),
    "configfiles": frozenset({"mountPath", "data", "files"}),
    **{
        probe: frozenset(
            {
                *PROBE_MODES,
                "enabled",
                "mode",
                "failureThreshold",
                "initialDelaySeconds",
                "periodSeconds",
                "successThreshold",
                "timeoutSeconds",
            }
        )
        for probe in PROBES
    },
}
SERVICE_PORT_KEYS = frozenset({"externalPort", "internalPort", "protocol"})

# Keys the templates use as text (names, labels, the image line, a path): `tag: yes` is the boolean true for
# Helm and renders "true" (or fails a template that needs text), `version: 1.10` renders 1.1.
TEXT_KEYS: tuple[KeyPath, ...] = (
    ("appName",),
    ("environment",),
    ("branch",),
    ("version",),
    ("serviceAccountName",),
    ("image", "repository"),
    ("image", "tag"),
    ("image", "pullPolicy"),
    ("service", "type"),
    ("configfiles", "mountPath"),
    ("pdb", "apiVersion"),
    *((probe, "mode") for probe in PROBES),
)

# Known keys that render nothing.
DEAD_KEYS: dict[KeyPath, str] = {
    ("nodeSelector",): "deployment.yaml never reads nodeSelector",
}

# Keys the seed used that the chart silently ignores, with what to write instead.
IGNORED_HPA_KEYS = {
    "minReplicas": "the HPA minimum is `replicas`; set replicas instead",
    "targetCPUUtilizationPercentage": (
        "use hpa.cpu (the chart also adds hpa.memory: 70 unless you set it to null)"
    ),
}
UNSUPPORTED_TOP_LEVEL = ("labels", "annotations")

# Keys of other charts (the seed's service template) and what the k8app chart reads instead.
FOREIGN_KEY_HINTS = {
    "fullnameOverride": "objects are named after appName: set appName",
    "replicaCount": "use replicas",
    "autoscaling": "use hpa: {enabled, maxReplicas, cpu, memory}",
    "podDisruptionBudget": "use pdb: {enabled, minAvailable, maxUnavailable: null, apiVersion: policy/v1}",
    "env": "environment variables come from configmap (a flat map)",
    "podAnnotations": "the chart has no pod annotations setting",
    "podLabels": "the chart has no pod labels setting",
    "securityContext": "the chart renders no securityContext",
    "serviceAccount": "use serviceAccountName (the chart never creates a ServiceAccount)",
    "container": "set ports under service.ports.<name>.internalPort",
    "valult": "rendering fails on purpose: use secretsProvider.provider: vault with the secrets map",
    "terminationGracePeriodSeconds": "the chart renders none: pods get Kubernetes' 30 s; keep the service's "
    "SHUTDOWN_DRAIN + SHUTDOWN_GRACE within it (lint checks them)",
}
SERVICE_KEY_HINTS = {
    "port": "use service.ports.<name>.externalPort",
    "targetPort": "use service.ports.<name>.internalPort",
}

# Chart defaults that change the meaning of what a values file says (merged under default.yaml).
DEFAULTS: dict[str, Any] = {
    "replicas": 1,
    "service": {"enabled": False},
    "hpa": {"enabled": False, "maxReplicas": 6, "cpu": 70, "memory": 70},
    "pdb": {"enabled": False, "apiVersion": "policy/v1", "maxUnavailable": 1},
    "livenessProbe": {"enabled": False, "mode": "httpGet"},
    "readinessProbe": {"enabled": False, "mode": "httpGet"},
}
DEFAULT_SERVICE_PORT = 80
REMOVED_PDB_API = "policy/v1beta1"
