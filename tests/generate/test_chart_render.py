"""Every generated service renders with the real helm binary and validates offline for Kubernetes 1.34."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from gitops_poc.changes import apply_changes
from gitops_poc.config import parse_config
from gitops_poc.generate import plan_init
from gitops_poc.platform import Platform
from gitops_poc.yamlio import load_all_plain

KUBE_VERSION = "1.34"
CUSTOM_KINDS = {"VaultStaticSecret", "VaultAuth"}
pytestmark = pytest.mark.helm


def helm_template(
    helm: str, chart: Path, service_dir: Path, release: str, namespace: str, env: str
) -> list[Any]:
    result = subprocess.run(
        [
            helm,
            "template",
            release,
            str(chart),
            "--namespace",
            namespace,
            "--kube-version",
            KUBE_VERSION,
            "-f",
            str(service_dir / ".cicd/default.yaml"),
            "-f",
            str(service_dir / f".cicd/{env}.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return load_all_plain(result.stdout)


def check_manifests(docs: list[Any]) -> None:
    for doc in docs:
        if doc["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        if doc["kind"] == "PodDisruptionBudget":
            # The API server rejects both limits together; schema validation does not.
            assert not ("minAvailable" in doc["spec"] and "maxUnavailable" in doc["spec"]), doc
            assert doc["apiVersion"] == "policy/v1"
        if doc["kind"] == "Service":
            assert doc["spec"].get("ports"), doc


def by_kind(docs: list[Any]) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {}
    for doc in docs:
        kinds.setdefault(doc["kind"], []).append(doc["metadata"]["name"])
    return kinds


def test_every_generated_service_and_environment_renders_and_validates(
    helm: str, k8app_chart: Path, generated_root: Path, default_platform: Platform
) -> None:
    p = default_platform
    for service in p.services:
        for env in p.environments:
            docs = helm_template(
                helm,
                k8app_chart,
                generated_root / "services" / service,
                p.release_name(service),
                p.namespace(env),
                env,
            )
            check_manifests(docs)
            kinds = by_kind(docs)
            assert kinds["Deployment"] == [service]
            assert kinds["Service"] == [p.service_host(service)]
            deployment = next(d for d in docs if d["kind"] == "Deployment")
            assert deployment["spec"]["selector"]["matchLabels"] == {"app": service, "release": service}
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            assert container["image"].startswith(p.image_repository(service) + ":")
            assert ("HorizontalPodAutoscaler" in kinds) == (
                service in {"api-gateway"} and env == "staging" or env == "prod" and service != "health-demo"
            )
            # The chart's PDB (no selector) stays off: production PDBs are gitops-config/platform/<env>'s.
            assert "PodDisruptionBudget" not in kinds


def test_hpa_uses_the_keys_the_chart_honours(helm: str, k8app_chart: Path, generated_root: Path) -> None:
    docs = helm_template(
        helm, k8app_chart, generated_root / "services/api-gateway", "api-gateway", "poc-prod", "prod"
    )
    hpa = next(d for d in docs if d["kind"] == "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] == 3
    assert hpa["spec"]["maxReplicas"] == 10
    cpu = next(m for m in hpa["spec"]["metrics"] if m["resource"]["name"] == "cpu")
    assert cpu["resource"]["target"]["averageUtilization"] == 60
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert "replicas" not in deployment["spec"]


def test_services_reference_each_other_by_the_chart_service_name(
    helm: str, k8app_chart: Path, generated_root: Path
) -> None:
    docs = helm_template(
        helm, k8app_chart, generated_root / "services/api-gateway", "api-gateway", "poc-dev", "dev"
    )
    files = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "api-gateway-config"
    )
    assert "addr: web-grpc-sv:9091" in files["data"]["config.yaml"]
    assert "host: auth-adapter-sv" in files["data"]["config.yaml"]
    service = next(d for d in docs if d["kind"] == "Service")
    assert [p["port"] for p in service["spec"]["ports"]] == [8080]  # Envoy admin stays off the Service


def test_a_service_made_from_the_template_renders(helm: str, k8app_chart: Path, tmp_path: Path) -> None:
    p = Platform(parse_config('SERVICES="billing"\nENVIRONMENTS="dev staging prod"\n', ".env", {}))
    apply_changes(tmp_path, plan_init(p, tmp_path))
    for env in p.environments:
        docs = helm_template(
            helm, k8app_chart, tmp_path / "services/billing", "billing", p.namespace(env), env
        )
        check_manifests(docs)
        assert by_kind(docs)["Service"] == ["billing-sv"]
