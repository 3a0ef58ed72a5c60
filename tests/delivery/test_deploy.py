"""`ci deploy`: the helm command push mode runs (same release, namespace, values and pinned chart as ArgoCD),
`--dry-run` rendered with the real published chart, and a `--digest` bump that renders into a valid
Deployment."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.config import parse_config
from gitops_poc.delivery.deploy import plan_deploy
from gitops_poc.delivery.image import Image
from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform
from gitops_poc.yamlio import load_plain
from tests.argvparts import words
from tests.conftest import require_binary
from tests.delivery.processes import recording

DIGEST = "sha256:" + "0a1b2c3d" * 8
SECRET = "glagent-AgentTokenNeverInArgv"


def platform(text: str = "") -> Platform:
    return Platform(parse_config(text, ".env", {}))


def test_the_plan_deploys_what_argocd_deploys(generated_root: Path) -> None:
    service = generated_root / "services" / "web-http"
    plan = plan_deploy(
        platform(),
        service,
        "web-http",
        "staging",
        Image(None, "1.4.0", DIGEST),
        kube_context="gitops-poc/gitops-config:minikube-agent",
    )
    args = words(plan.upgrade_args(4))
    appset = load_plain((generated_root / "gitops-config/argocd/applicationset.yaml").read_text())
    assert appset["spec"]["template"]["spec"]["sources"][0]["helm"]["releaseName"] == "{{.service}}"
    assert args.words == ["upgrade"] and args.operands == ["web-http", "app"]  # ArgoCD's release name
    assert args.one("--repo") == "https://d7561985.github.io/k8app"
    assert args.one("--version") == "3.13.0"
    assert args.one("--namespace") == "poc-staging"
    assert args.options["--values"] == [
        str(service / ".cicd/default.yaml"),
        str(service / ".cicd/staging.yaml"),
    ]
    assert args.one("--set-string") == f"image.tag=1.4.0@{DIGEST}"
    assert "--rollback-on-failure" in args.flags and args.one("--wait") == "watcher"
    assert args.one("--kube-context") == "gitops-poc/gitops-config:minikube-agent"
    assert {"--atomic", "--wait"} <= set(words(plan.upgrade_args(3)).flags)  # the same for Helm 3


def test_an_oci_chart_and_a_repository_override(generated_root: Path) -> None:
    oci = platform("CHART_REPO=oci://registry.example.com/charts\n")
    plan = plan_deploy(
        oci,
        generated_root / "services/web-http",
        "web-http",
        "dev",
        Image("registry.example.com/t/web", "2"),
        kube_context=None,
    )
    args = words(plan.upgrade_args())
    assert args.operands == ["web-http", "oci://registry.example.com/charts/app"]
    assert args.one("--version") == "3.13.0" and "--repo" not in args.options
    assert "image.repository=registry.example.com/t/web" in args.options["--set-string"]
    assert "--kube-context" not in args.options


@pytest.mark.parametrize(
    ("env", "timeout", "problem"),
    [
        ("qa", "5m", "unknown environment 'qa'"),
        ("dev", "five", "not a duration"),
        ("dev", "5m;id", "not a duration"),
    ],
)
def test_bad_input(generated_root: Path, env: str, timeout: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        plan_deploy(
            platform(),
            generated_root / "services/web-http",
            "web-http",
            env,
            None,
            kube_context=None,
            timeout=timeout,
        )
    with pytest.raises(UsageError, match="does not exist"):
        plan_deploy(platform(), generated_root, "web-http", "dev", None, kube_context=None)


@pytest.mark.helm
def test_dry_run_renders_with_the_published_chart_and_no_secret_in_argv(
    generated_root: Path,
    k8app_repo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = recording(tmp_path / "rec", ("git", require_binary("helm")))
    monkeypatch.setenv("PATH", log.env["PATH"])
    monkeypatch.setattr("gitops_poc.render.helm.find_helm", lambda root=None: "helm")
    monkeypatch.setenv("CHART_REPO", k8app_repo)
    monkeypatch.setenv("KUBE_CONTEXT", "gitops-poc/gitops-config:minikube-agent")
    monkeypatch.setenv("GITLAB_AGENT_TOKEN", SECRET)
    monkeypatch.setenv("CI_JOB_TOKEN", SECRET + "2")
    service = generated_root / "services" / "api-gateway"
    code = main(
        [
            "ci",
            "deploy",
            "-C",
            str(service),
            "--service",
            "api-gateway",
            "--env",
            "prod",
            "--tag",
            "1.5.0",
            "--digest",
            DIGEST,
            "--dry-run",
            "-o",
            "json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    command = words(shlex.split(result["command"]))
    assert command.words[:2] == ["helm", "upgrade"] and command.operands == ["api-gateway", "app"]
    assert command.one("--repo") == k8app_repo and "--kube-context" in command.options
    assert (
        result["valid"] is True and result["namespace"] == "poc-prod" and result["release"] == "api-gateway"
    )
    deployment = next(m for m in result["manifests"] if m["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"registry.gitlab.com/gitops-poc/api-gateway:1.5.0@{DIGEST}"
    assert deployment["metadata"]["labels"]["release"] == "api-gateway"
    assert f"Would run: {result['command']}" in captured.err
    helm_calls = [argv for argv in log.argvs() if argv[0].endswith("/helm")]
    assert any("template" in argv for argv in helm_calls)
    for place in (log.everything(), captured.out, captured.err):
        assert SECRET not in place


@pytest.mark.helm
def test_a_digest_bump_renders_into_a_valid_deployment(
    generated_root: Path, k8app_repo: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess

    require_binary("helm")
    service = generated_root / "services" / "web-http"
    subprocess.run(["git", "init", "-q", "-b", "main", str(service)], check=True)
    subprocess.run(["git", "-C", str(service), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(service), "commit", "-q", "-m", "values"], check=True)
    assert (
        main(
            [
                "ci",
                "bump",
                "-C",
                str(service),
                "--env",
                "dev",
                "--tag",
                "v2.3.4-rc.1",
                "--digest",
                DIGEST,
                "--pipeline",
                "77",
            ]
        )
        == 0
    )
    monkeypatch.setenv("CHART_REPO", k8app_repo)
    capsys.readouterr()
    code = main(
        ["render", "web-http", "dev", "--root", str(generated_root), "--kube-version", "1.34", "-o", "json"]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rendered = json.loads(captured.out)
    assert rendered["validation"]["ok"] is True
    deployment = next(m for m in rendered["manifests"] if m["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == (
        f"registry.gitlab.com/gitops-poc/web-http:v2.3.4-rc.1@{DIGEST}"
    )
    # The chart derives the appver label from the tag (its last 63 characters): a valid label value.
    assert deployment["metadata"]["labels"]["appver"] == f"v2.3.4-rc.1@{DIGEST}"[-63:]


@pytest.mark.helm
def test_dry_run_checks_the_vault_static_secrets_against_the_operators_crd(
    generated_root: Path,
    platform_charts_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    require_binary("helm")
    service = generated_root / "services" / "auth-adapter"
    dev = service / ".cicd" / "dev.yaml"
    dev.write_text(
        dev.read_text() + "secrets:\n  JWT_SECRET: gitops-poc/auth-adapter/{env}/config\n"
        "secretsProvider: {provider: vault, vault: {type: kv-v3}}\n"
    )
    args = ["ci", "deploy", "-C", str(service), "--service", "auth-adapter", "--env", "dev", "--dry-run"]
    code = main([*args, "-o", "json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1 and result["valid"] is False
    assert [f for f in result["findings"] if "not validated" not in f] == [
        "VaultStaticSecret/auth-adapter-vault-0 (app/templates/secrets/vault-static-secret.yaml): (CRD of"
        " vault-secrets-operator 1.4.1) spec.type: 'kv-v3' is not one of ['kv-v1', 'kv-v2']"
    ]
