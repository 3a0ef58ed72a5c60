"""Offline validation: real helm renders of the published k8app chart, checked for a Kubernetes version."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform
from gitops_poc.render.findings import ManifestSeverity
from gitops_poc.render.helm import Helm
from gitops_poc.render.manifests import Manifest, parse_manifests
from gitops_poc.render.model import LocalChart
from gitops_poc.render.service import render_service
from gitops_poc.render.validate import (
    ValidationReport,
    parse_kube_version,
    schema_filename,
    schema_version_for,
    schema_versions,
    validate_manifests,
)

EXAMPLES = Path(__file__).resolve().parent / "examples"


def render_example(helm: str, chart: Path, values: Path | str, tmp_path: Path) -> list[Manifest]:
    if isinstance(values, str):
        path = tmp_path / "values.yaml"
        path.write_text(values)
        values = path
    return parse_manifests(Helm(helm).template("demo", chart, "poc-prod", [values], "1.30"))


def messages(report: ValidationReport, severity: ManifestSeverity = ManifestSeverity.ERROR) -> list[str]:
    return [str(f) for f in report.findings if f.severity is severity]


@pytest.mark.helm
def test_every_generated_service_and_environment_validates(
    helm: str, k8app_chart: Path, generated_root: Path, default_platform: Platform
) -> None:
    p = default_platform
    for service in p.services:
        for env in p.environments:
            rendered = render_service(
                p,
                generated_root / "services" / service,
                service,
                env,
                helm=Helm(helm),
                chart=LocalChart(k8app_chart, "t"),
                kube_version="1.30",
            )
            assert rendered.manifests
            report = validate_manifests(rendered.manifests, "1.30")
            assert report.errors == [], f"{service}/{env}: {messages(report)}"
            assert report.validated == len(rendered.manifests) - len(report.skipped)
            keys = {m.key for m in rendered.manifests}
            assert {f"Deployment/{service}", f"Service/{p.service_host(service)}"} <= keys
            for manifest in rendered.manifests:
                # The chart's HPA sets no namespace: ArgoCD applies it to the Application's destination.
                assert manifest.namespace == (
                    None if manifest.kind == "HorizontalPodAutoscaler" else f"poc-{env}"
                )
                assert manifest.metadata["labels"]["release"] == p.release_name(service) == service


@pytest.mark.helm
def test_pdb_with_both_limits_is_rejected(helm: str, k8app_chart: Path, tmp_path: Path) -> None:
    report = validate_manifests(
        render_example(helm, k8app_chart, EXAMPLES / "pdb-both-limits.yaml", tmp_path)
    )
    [error] = report.errors
    assert error.manifest == "PodDisruptionBudget/health-demo" and error.source == "app/templates/pdb.yaml"
    assert "minAvailable and maxUnavailable cannot be both set" in error.message
    assert any("protects no pods" in w for w in messages(report, ManifestSeverity.WARNING))


@pytest.mark.helm
def test_service_without_ports_is_rejected(helm: str, k8app_chart: Path, tmp_path: Path) -> None:
    report = validate_manifests(render_example(helm, k8app_chart, EXAMPLES / "seed-template.yaml", tmp_path))
    assert messages(report) == [
        "Service/app-sv (app/templates/service.yaml): spec.ports is empty: a Service needs at least one port "
        "(the API server rejects it)"
    ]


@pytest.mark.helm
def test_vault_static_secrets_are_reported_as_not_validated(
    helm: str, k8app_chart: Path, tmp_path: Path
) -> None:
    report = validate_manifests(render_example(helm, k8app_chart, EXAMPLES / "vault-secrets.yaml", tmp_path))
    assert report.ok
    assert report.skipped and all(f.manifest.startswith("VaultStaticSecret/") for f in report.skipped)
    assert all(
        "not validated (custom resource secrets.hashicorp.com/v1beta1" in f.message for f in report.skipped
    )


@pytest.mark.helm
def test_removed_pdb_api_is_rejected_from_125(helm: str, k8app_chart: Path, tmp_path: Path) -> None:
    values = "appName: web\nservice: {type: ClusterIP}\npdb: {enabled: true, apiVersion: policy/v1beta1}\n"
    manifests = render_example(helm, k8app_chart, values, tmp_path)
    assert messages(validate_manifests(manifests, "1.30")) == [
        (
            "PodDisruptionBudget/web (app/templates/pdb.yaml): apiVersion policy/v1beta1 was removed in "
            "Kubernetes 1.25 (target 1.30); use policy/v1"
        )
    ]


@pytest.mark.helm
def test_schema_errors_name_the_field(helm: str, k8app_chart: Path, tmp_path: Path) -> None:
    manifests = render_example(
        helm, k8app_chart, "appName: web\nservice: {type: ClusterIP}\nreplicas: three\n", tmp_path
    )
    [error] = validate_manifests(manifests).errors
    assert error.manifest == "Deployment/web"
    assert error.message == "spec.replicas: 'three' is not of type 'integer', 'null'"


@pytest.mark.helm
def test_names_and_label_values_follow_kubernetes_rules(helm: str, k8app_chart: Path, tmp_path: Path) -> None:
    values = (
        "appName: Web_App\nimage: {tag: 1.0.0+build.7}\n"
        "service: {enabled: true, type: ClusterIP, ports: {http: {externalPort: 80}}}\n"
    )
    found = messages(validate_manifests(render_example(helm, k8app_chart, values, tmp_path)))
    assert (
        "Deployment/Web_App (app/templates/deployment.yaml): metadata.name 'Web_App' is not a valid "
        "DNS-1123 subdomain (lowercase letters, digits and '-', starting with a lowercase letter or digit"
        " and ending with a letter or digit)" in found
    )
    assert any(m.startswith("Service/Web_App-sv") and "DNS-1035 label" in m for m in found)
    assert any("metadata.labels: label appver='1.0.0+build.7'" in m for m in found)


@pytest.mark.helm
def test_probe_with_an_unknown_mode_has_no_handler(helm: str, k8app_chart: Path, tmp_path: Path) -> None:
    values = "appName: web\nservice: {type: ClusterIP}\nlivenessProbe: {enabled: true, mode: http}\n"
    found = messages(validate_manifests(render_example(helm, k8app_chart, values, tmp_path)))
    assert any("livenessProbe must have exactly one handler" in m and "found none" in m for m in found)


def test_autoscaling_v2beta2_is_served_until_125_and_removed_in_126() -> None:
    hpa = parse_manifests(
        "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n"
        "spec: {scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 4}\n"
    )
    assert validate_manifests(hpa, "1.25").ok
    [error] = validate_manifests(hpa, "1.26").errors
    assert "autoscaling/v2beta2 was removed in Kubernetes 1.26" in error.message


def test_selector_mismatch_duplicates_and_hpa_bounds() -> None:
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        "  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: other}}\n"
        "    spec: {containers: [{name: web, image: nginx}]}\n"
    )
    hpa = (
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n"
        "spec: {scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 5, maxReplicas: 2}\n"
    )
    report = validate_manifests(parse_manifests(f"---\n{deployment}---\n{deployment}---\n{hpa}"))
    found = messages(report)
    assert any("spec.selector does not match the pod template labels: {'app': 'web'}" in m for m in found)
    assert any("Deployment/web" in m and "rendered 2 times" in m for m in found)
    assert any("spec.minReplicas 5 is greater than spec.maxReplicas 2" in m for m in found)


def test_unknown_builtin_kind_is_an_error_not_a_skip() -> None:
    [error] = validate_manifests(
        parse_manifests("apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: web}\n")
    ).errors
    assert "serves no Deploymnet in apps/v1" in error.message


def test_kube_versions() -> None:
    assert parse_kube_version("v1.30") == parse_kube_version("1.30.2") == (1, 30)
    newest = schema_versions()[-1]
    assert schema_version_for((newest[0], newest[1] + 5)) == newest
    with pytest.raises(UsageError, match="not a Kubernetes version"):
        parse_kube_version("latest")
    oldest = schema_versions()[0]
    with pytest.raises(UsageError, match=f"offline schemas start at Kubernetes {oldest[0]}.{oldest[1]}"):
        parse_kube_version(f"{oldest[0]}.{oldest[1] - 1}")
    assert schema_filename("ClusterRole", "rbac.authorization.k8s.io/v1") == "clusterrole-rbac-v1.json"
    assert schema_filename("Service", "v1") == "service-v1.json"
