"""`gitops-poc render` end to end: real helm, the published chart from CHART_REPO, generated services."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.platform import Platform
from gitops_poc.values import merge_files
from gitops_poc.yamlio import load_all_plain, load_plain

pytestmark = pytest.mark.helm


@pytest.fixture(autouse=True)
def _private_chart_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def render(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["render", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_generated_service_and_environment_renders_and_validates(
    helm: str,
    k8app_env: str,
    generated_root: Path,
    default_platform: Platform,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pulls = 0
    for service in default_platform.services:
        for env in default_platform.environments:
            code, out, err = render(capsys, service, env, "-C", str(generated_root))
            assert code == 0, err
            pulls += f"Pulling chart app 3.13.0 from {k8app_env}" in err  # once, then from the cache
            assert "0 error(s)" in err
            kinds = {(d["kind"], d["metadata"]["name"]) for d in load_all_plain(out)}
            assert ("Deployment", service) in kinds and ("Service", f"{service}-sv") in kinds
    assert pulls == 1


def test_json_output_follows_the_naming_contract(
    helm: str, k8app_env: str, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = render(capsys, "api-gateway", "prod", "-C", str(generated_root), "-o", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["release"], data["namespace"]) == ("api-gateway", "poc-prod")
    assert data["valueFiles"] == [
        str(generated_root / "services/api-gateway/.cicd/default.yaml"),
        str(generated_root / "services/api-gateway/.cicd/prod.yaml"),
    ]
    assert (
        data["validation"]["ok"] is True and data["validation"]["kubeVersion"] == "1.34.0"
    )  # KUBERNETES_VERSION
    names = {(m["kind"], m["metadata"]["name"]) for m in data["manifests"]}
    assert {
        ("Deployment", "api-gateway"),
        ("Service", "api-gateway-sv"),
        ("HorizontalPodAutoscaler", "api-gateway"),
    } <= names
    assert "PodDisruptionBudget" not in {kind for kind, _ in names}  # gitops-config/platform/prod has it
    for manifest in data["manifests"]:  # the chart's HPA has no namespace: ArgoCD's destination gives it one
        assert manifest["metadata"].get("namespace") == (
            None if manifest["kind"] == "HorizontalPodAutoscaler" else "poc-prod"
        )
        assert manifest["metadata"]["labels"]["release"] == "api-gateway"
    assert data["values"]["replicas"] == 3


def test_without_the_chart_it_prints_the_merged_values_and_a_note(
    helm: str, generated_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHART_REPO", "http://127.0.0.1:9/")
    code, out, err = render(capsys, "web-http", "staging", "-C", str(generated_root))
    assert code == 0
    cicd = generated_root / "services/web-http/.cicd"
    expected = merge_files(
        [load_plain((cicd / "default.yaml").read_text()), load_plain((cicd / "staging.yaml").read_text())]
    )
    assert load_plain(out) == expected
    assert "note: cannot pull chart app 3.13.0 from http://127.0.0.1:9" in err
    assert "--chart PATH" in err
    assert "Pulling chart" in err  # progress before waiting on the network


def test_values_only_needs_no_helm(
    generated_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    code, out, _ = render(
        capsys, "health-demo", "prod", "-C", str(generated_root), "--values-only", "-o", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["values"]["pdb"] == {"enabled": False, "minAvailable": 1}
    assert data["manifests"] is None and data["chart"] is None


def test_a_bad_pdb_fails_with_the_object_template_and_value_files(
    helm: str, k8app_env: str, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = generated_root / "services/health-demo/.cicd/prod.yaml"
    # The chart's own PDB switched back on: its maxUnavailable default 1 comes out next to minAvailable.
    prod.write_text(prod.read_text().replace("  enabled: false\n", "  enabled: true\n"))
    code, out, err = render(capsys, "health-demo", "prod", "-C", str(generated_root))
    assert code == 1
    assert "kind: PodDisruptionBudget" in out  # the manifests are still shown
    assert (
        "PodDisruptionBudget/health-demo (app/templates/pdb.yaml): spec: minAvailable and maxUnavailable"
        " cannot be both set" in err
    )
    assert "error: health-demo for prod: 1 problem(s)" in err
    assert str(prod) in err and str(prod.with_name("default.yaml")) in err


def test_a_broken_values_file_is_bad_input_with_file_and_line(
    helm: str, k8app_env: str, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = generated_root / "services/web-grpc/.cicd/dev.yaml"
    dev.write_text(dev.read_text() + "resources:\n  limits: [unclosed\n")
    code, out, err = render(capsys, "web-grpc", "dev", "-C", str(generated_root))
    assert code == 2 and out == ""
    assert f"{dev}:" in err and "invalid YAML" in err


def test_a_chart_failure_carries_helms_message_and_the_files(
    helm: str, k8app_env: str, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = generated_root / "services/web-http/.cicd/dev.yaml"
    dev.write_text(dev.read_text() + "valult: true\n")
    code, out, err = render(capsys, "web-http", "dev", "-C", str(generated_root))
    assert code == 2 and out == ""  # helm failed: exit 2, never 1
    assert "DEPRECATED: 'valult' parameter is deprecated" in " ".join(err.split()) and str(dev) in " ".join(
        err.split()
    )


VAULT_SECRETS = (
    "secrets:\n  JWT_SECRET: gitops-poc/auth-adapter/{env}/config\n"
    "secretsProvider: {provider: vault}\nserviceAccountName: auth-adapter\n"
)


def test_custom_resources_are_not_validated_when_the_pinned_charts_cannot_be_had(
    helm: str, k8app_env: str, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only k8app is served: the VSO and Argo CD repositories are the public ones, unreachable here.
    dev = generated_root / "services/auth-adapter/.cicd/dev.yaml"
    dev.write_text(dev.read_text() + VAULT_SECRETS)
    code, out, err = render(capsys, "auth-adapter", "dev", "-C", str(generated_root))
    assert code == 0, err
    assert "kind: VaultStaticSecret" in out
    text = " ".join(err.split())
    assert "VaultStaticSecret/auth-adapter-vault-0" in text
    assert "not validated (custom resource secrets.hashicorp.com/v1beta1; CRDs unavailable:" in text
    assert "vault-secrets-operator 1.4.1: cannot pull chart" in text
    assert (
        "VaultAuth/auth-adapter-vault-auth (gitops-config/platform/dev/auth-adapter.yaml): not validated"
        in text
    )
    assert "2 not validated" in err  # the VaultStaticSecret, and the VaultAuth it names


def test_custom_resources_are_validated_against_the_crds_of_the_pinned_charts(
    helm: str, platform_charts_env: dict[str, str], generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = generated_root / "services/auth-adapter/.cicd/dev.yaml"
    dev.write_text(dev.read_text() + VAULT_SECRETS)
    code, out, err = render(capsys, "auth-adapter", "dev", "-C", str(generated_root))
    assert code == 0, err
    assert "Pulling chart vault-secrets-operator 1.4.1" in err and "Pulling chart argo-cd 10.1.1" in err
    assert "0 not validated" in err and "0 error(s)" in err
    # The VaultStaticSecret and the VaultAuth count as checked against a schema: one more each than the
    # built-in kinds alone.
    builtin = sum(1 for d in load_all_plain(out) if d["kind"] != "VaultStaticSecret") + 1  # + ServiceAccount
    assert f"{builtin + 2} checked against a schema" in err
    # A second run reads the CRD schemas from the cache: no pull, same result.
    code, _, again = render(capsys, "auth-adapter", "dev", "-C", str(generated_root))
    assert code == 0 and "Pulling" not in again and "0 not validated" in again


def test_an_invalid_vault_static_secret_and_vault_auth_are_rejected_with_object_and_field(
    helm: str, platform_charts_env: dict[str, str], generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = generated_root / "services/auth-adapter/.cicd/dev.yaml"
    # kv-v3 is no secret engine the operator knows: the chart writes it into the VaultStaticSecret as given.
    dev.write_text(
        dev.read_text()
        + VAULT_SECRETS.replace("{provider: vault}", "{provider: vault, vault: {type: kv-v3}}")
    )
    platform_file = generated_root / "gitops-config/platform/dev/auth-adapter.yaml"
    platform_file.write_text(platform_file.read_text().replace("    audiences:", "    audience:"))
    code, _, err = render(capsys, "auth-adapter", "dev", "-C", str(generated_root))
    assert code == 1
    text = " ".join(err.split())
    assert (
        "VaultStaticSecret/auth-adapter-vault-0 (app/templates/secrets/vault-static-secret.yaml): (CRD of"
        " vault-secrets-operator 1.4.1) spec.type: 'kv-v3' is not one of ['kv-v1', 'kv-v2']" in text
    )
    assert (
        "VaultAuth/auth-adapter-vault-auth (gitops-config/platform/dev/auth-adapter.yaml): (CRD of"
        " vault-secrets-operator 1.4.1) spec.kubernetes.audience: Additional properties are not allowed"
        " ('audience'"
        " was unexpected)" in text
    )
    assert "2 error(s)" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["billing", "dev"], "unknown service 'billing'"),
        (["web-http", "qa"], "unknown environment 'qa'"),
        (["web-http", "dev", "--kube-version", "latest"], "not a Kubernetes version"),
        (["web-http", "dev", "--kube-version", "latest", "--no-validate"], "not a Kubernetes version"),
        (["web-http", "dev", "--kube-version", "1.19"], "offline schemas start at Kubernetes"),
    ],
)
def test_bad_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = render(capsys, *args, "-C", str(tmp_path))  # checked before any file is read
    assert code == 2 and message in err


def test_no_validate_renders_for_versions_without_offline_schemas(
    helm: str, k8app_chart: Path, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = render(
        capsys,
        "web-http",
        "dev",
        "-C",
        str(generated_root),
        "--chart",
        str(k8app_chart),
        "--kube-version",
        "1.19",
        "--no-validate",
    )
    assert code == 0 and "kind: Deployment" in out and "Validated" not in err


def test_help_describes_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--help"]) == 0
    assert "Render SERVICE for ENV as ArgoCD would" in capsys.readouterr().out


def test_another_chart_version_renders_from_the_same_repository(
    helm: str, k8app_env: str, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = render(
        capsys, "health-demo", "prod", "-C", str(generated_root), "--chart-version", "3.12.1"
    )
    assert code == 0, err
    assert f"Pulling chart app 3.12.1 from {k8app_env}" in err
    labels = {d["metadata"]["labels"]["chart"] for d in load_all_plain(out)}
    assert labels == {"app-3.12.1"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--chart-version", "9.9.9"], 'chart "app" version "9.9.9" not found'),
        (["--chart-version", "3.x"], "--chart-version '3.x' is not an exact chart version"),
        (
            ["--chart-version", "3.12.1", "--chart", "."],
            "give --chart PATH or --chart-version VERSION, not both",
        ),
    ],
)
def test_a_chart_version_that_cannot_be_had_is_bad_input(
    helm: str,
    k8app_env: str,
    generated_root: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    code, out, err = render(capsys, "web-http", "dev", "-C", str(generated_root), *extra)
    assert code == 2 and out == "" and message in " ".join(err.split())
