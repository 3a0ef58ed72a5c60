"""The original POC's defects (seed-behaviour.md sections 6 and 9), each reported at its file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.lint import Severity
from gitops_poc.platform import Platform

from .helpers import SEED, SEED_TEMPLATE_SERVICE, line_of, lint, of_rule, where

AG = "services/api-gateway/.cicd"


def at(relative: str, marker: str, root: Path = SEED) -> tuple[str, int]:
    return relative, line_of((root / relative).read_text(), marker)


@pytest.fixture(scope="module")
def findings() -> list:
    from gitops_poc.config import load_config

    return lint(Platform(load_config(None, {})), SEED)


@pytest.mark.parametrize(
    "rule_id, file, marker",
    [
        # bug 8: labels/annotations (every sync wave) silently ignored
        ("labels-unsupported", f"{AG}/default.yaml", "labels:"),
        ("labels-unsupported", f"{AG}/default.yaml", "annotations:"),
        ("labels-unsupported", f"{AG}/prod.yaml", "labels:"),
        ("labels-unsupported", f"{AG}/prod.yaml", "annotations:"),
        ("labels-unsupported", "services/web-grpc/.cicd/default.yaml", "annotations:"),
        # bug 8: HPA keys the chart ignores
        ("hpa-ignored-key", f"{AG}/prod.yaml", "minReplicas: 3"),
        ("hpa-ignored-key", f"{AG}/prod.yaml", "targetCPUUtilizationPercentage"),
        ("hpa-ignored-key", f"{AG}/staging.yaml", "minReplicas: 2"),
        ("hpa-ignored-key", "services/auth-adapter/.cicd/prod.yaml", "targetCPUUtilizationPercentage"),
        # bug 9: minAvailable rendered together with the chart's maxUnavailable: 1
        ("pdb-both-limits", f"{AG}/prod.yaml", "minAvailable: 2"),
        ("pdb-both-limits", "services/health-demo/.cicd/prod.yaml", "minAvailable: 1"),
        ("pdb-both-limits", "services/web-http/.cicd/prod.yaml", "minAvailable: 2"),
        # bug 9 too: the chart's PDB has no selector, so it protects nothing even when valid
        ("chart-pdb-enabled", "services/health-demo/.cicd/prod.yaml", "enabled: true"),
        # bug 6: Services called by the short name instead of <appName>-sv
        ("reference-missing-sv", f"{AG}/default.yaml", "addr: web-grpc:9091"),
        ("reference-missing-sv", "services/web-http/.cicd/default.yaml", "UPSTREAM_URIS"),
        # README principle: no namespace-dependent values in environment files
        ("env-fqdn", f"{AG}/prod.yaml", "svc.cluster.local"),
        # bug 12: nothing pinned, latest tags
        ("argocd-chart-unpinned", "gitops-config/argocd/applicationset.yaml", "targetRevision: '*'"),
        ("image-tag-latest", f"{AG}/prod.yaml", "tag: latest"),
        # bug 13: prod auto-syncs with prune and selfHeal; autoSync is dead
        ("argocd-prod-auto-sync", "gitops-config/argocd/applicationset.yaml", "automated:"),
        # bug 17: ignoreDifferences without RespectIgnoreDifferences
        ("argocd-ignore-differences", "gitops-config/argocd/applicationset.yaml", "ignoreDifferences:"),
    ],
)
def test_seed_defect_is_reported_at_its_line(findings: list, rule_id: str, file: str, marker: str) -> None:
    assert (rule_id, *at(file, marker)) in where(findings)


def test_seed_findings_are_only_the_known_defects(findings: list) -> None:
    expected = {
        "labels-unsupported",
        "hpa-ignored-key",
        "pdb-both-limits",
        "chart-pdb-enabled",
        "reference-missing-sv",
        "env-fqdn",
        "argocd-chart-unpinned",
        "image-tag-latest",
        "argocd-prod-auto-sync",
        "argocd-ignore-differences",
        "env-repeats-default",  # prod repeats default's sync-wave annotation
    }
    assert {f.rule_id for f in findings} == expected
    # The seed's default.yaml reference was right: auth-adapter-sv is not reported.
    assert not [f for f in of_rule(findings, "reference-missing-sv") if "auth-adapter" in f.message]


def test_prod_auto_sync_names_the_dead_flag(findings: list) -> None:
    (finding,) = of_rule(findings, "argocd-prod-auto-sync")
    assert finding.severity is Severity.ERROR
    assert "autoSync: 'false' is read by nothing" in finding.message


def test_seed_service_template(default_platform: Platform) -> None:
    """bug 11: the template's keys belong to another chart and it has no appName."""
    root = SEED_TEMPLATE_SERVICE.parent
    findings = lint(default_platform, root, SEED_TEMPLATE_SERVICE)
    default = "my-service/.cicd/default.yaml"
    for key in (
        "fullnameOverride",
        "replicaCount",
        "serviceAccount:",
        "podAnnotations",
        "securityContext",
        "container:",
        "env:",
        "autoscaling:",
        "podDisruptionBudget:",
        "=port: 80",
        "targetPort",
    ):
        assert ("chart-unknown-key", *at(default, key, root)) in where(findings), key
    assert ("app-name-missing", default, 1) in where(findings)
    assert ("service-no-ports", *at(default, "enabled: true", root)) in where(findings)
    hints = {
        f.message.split(":")[0]: f.hint for f in of_rule(findings, "chart-unknown-key") if f.file == default
    }
    assert hints["replicaCount"] == "use replicas"
    assert hints["service.port"] == "use service.ports.<name>.externalPort"
    assert ("service-unknown", "my-service", None) in where(findings)
