"""`build-images`, `proxy` and `up` through the CLI, with stand-ins for minikube/kubectl/helm and the API
stand-in at the HTTP boundary."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.cluster.portforward import free_port
from gitops_poc.cluster.progress import STATE_FILE, UpState
from gitops_poc.config import load_config
from tests.cluster.fakeapi import FakeApi
from tests.cluster.standins import calls, kubectl_port_forward, recorder


def _platform_root(tmp_path: Path) -> Path:
    root = tmp_path / "platform"
    (root / "services" / "health-demo").mkdir(parents=True)
    (root / "services" / "health-demo" / "Dockerfile").write_text("FROM scratch\n")
    return root


RUNNING = '{"Name": "minikube", "Host": "Running"}'  # `minikube status --output=json` of a running profile


def test_build_images_builds_from_this_repository_and_a_failure_fails(
    tmp_path: Path,
    standins: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = _platform_root(tmp_path)
    _, log = recorder(standins, "minikube", stdout=RUNNING)
    assert main(["build-images", "-C", str(root)]) == 0
    [call] = [c for c in calls(log) if c["args"][0] == "image"]
    assert call["args"] == [
        "image",
        "build",
        "--profile=minikube",
        "--tag=registry.gitlab.com/gitops-poc/health-demo:local",
        str(root / "services" / "health-demo"),
    ]
    recorder(standins, "minikube", stdout=RUNNING, code=1, fail_on="image")
    assert main(["build-images", "-C", str(root), "--tag", "dev1"]) == 1
    printed = capsys.readouterr().err
    assert "1 image(s) failed to build: registry.gitlab.com/gitops-poc/health-demo:dev1" in printed
    assert not any("nginx" in str(c["args"]) for c in calls(log))


def test_proxy_prints_the_url_and_the_password_only_when_asked(
    tmp_path: Path,
    cluster: FakeApi,
    standins: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kubectl, log = kubectl_port_forward(standins)
    cluster.objects["/api/v1/namespaces/argocd/secrets/argocd-initial-admin-secret"] = {
        "metadata": {"name": "argocd-initial-admin-secret"},
        "data": {"password": base64.b64encode(b"pw-XYZ").decode()},
    }
    port = free_port()
    assert main(["proxy", "argocd", "-C", str(tmp_path), "--for", "0.1", "--local-port", str(port)]) == 0
    printed = capsys.readouterr()
    assert f"ArgoCD: http://127.0.0.1:{port}" in printed.out and "pw-XYZ" not in printed.out + printed.err
    port = free_port()
    assert (
        main(
            [
                "proxy",
                "argocd",
                "-C",
                str(tmp_path),
                "--for",
                "0.1",
                "--local-port",
                str(port),
                "--show-password",
            ]
        )
        == 0
    )
    assert "ArgoCD admin password: pw-XYZ" in capsys.readouterr().out
    forwarded = [json.loads(line) for line in log.read_text().splitlines()]
    assert forwarded[0][-2:] == ["svc/argocd-server", f"{forwarded[0][-1].split(':')[0]}:80"]
    # The forwards it started are gone.
    for pid_line in (line for line in printed.out.splitlines() if "(pid " in line):
        pid = int(pid_line.rsplit("(pid ", 1)[1].rstrip(")"))
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_proxy_gateway_forwards_the_service_port_not_envoys_admin(
    tmp_path: Path,
    cluster: FakeApi,
    standins: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, log = kubectl_port_forward(standins)
    assert (
        main(
            [
                "proxy",
                "gateway",
                "-C",
                str(tmp_path),
                "--env",
                "staging",
                "--for",
                "0",
                "--local-port",
                str(free_port()),
            ]
        )
        == 0
    )
    args = json.loads(log.read_text().splitlines()[0])
    assert (
        "--namespace=poc-staging" in args and args[-2] == "svc/api-gateway-sv" and args[-1].endswith(":8080")
    )


def _up_environment(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    """A small platform (one service, one environment) sized for the doctor's check, with credentials."""
    for key, value in {
        "MINIKUBE_CPUS": "1",
        "MINIKUBE_MEMORY": "64",
        "GITLAB_DEPLOY_TOKEN_USER": "u",
        "GITLAB_DEPLOY_TOKEN": "gldt-x-123456",
        "SERVICES": "health-demo",
        "ENVIRONMENTS": "dev",
        **extra,
    }.items():
        monkeypatch.setenv(key, value)


def test_up_resumes_after_a_failed_stage_and_says_what_it_skips(
    tmp_path: Path,
    cluster: FakeApi,
    standins: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "platform"
    root.mkdir()
    _up_environment(monkeypatch)
    kubectl_port_forward(standins)
    for tool, out in (("docker", "28.0.1"), ("minikube", "v1.37.0")):
        recorder(standins, tool, stdout=out)
    recorder(
        standins, "helm", stdout="v4.1.4", code=1, fail_on="upgrade"
    )  # installs fail: infrastructure stops
    assert main(["up", "-C", str(root)]) == 2  # helm failing: the command could not do its job
    first = capsys.readouterr().err
    assert "infrastructure failed: step " in first and "`gitops-poc up` resumes here" in first
    state = UpState.load(root, load_config(None, os.environ))
    assert set(state.done) == {"doctor"}
    # Pretend infrastructure and registry finished earlier for this configuration: a re-run skips them.
    state.mark("infrastructure")
    state.mark("registry")
    recorder(standins, "helm", stdout="v4.1.4")
    cluster.objects["/api/v1/namespaces/argocd"] = {"metadata": {"name": "argocd"}}
    assert main(["up", "-C", str(root)]) == 1  # verify's finding: the fake cluster runs nothing
    second = capsys.readouterr().err
    assert "2/5 infrastructure: done at" in second and "skipped" in second
    assert "4/5 delivery (pull)" in second and "verify failed" in second
    assert set(UpState.load(root, load_config(None, os.environ)).done) == {
        "doctor",
        "infrastructure",
        "registry",
        "delivery",
    }
    assert any(r.body and r.body.get("kind") == "ApplicationSet" for r in cluster.sent("PATCH"))
    # Another configuration starts over.
    monkeypatch.setenv("ENVIRONMENTS", "dev prod")
    assert UpState.load(root, load_config(None, os.environ)).done == {}
    assert (root / STATE_FILE).is_file()


def test_up_in_push_mode_applies_the_platform_objects_verify_then_finds(
    tmp_path: Path,
    cluster: FakeApi,
    standins: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Push mode has no ArgoCD to sync gitops-config/platform/<env>/: `up` must still leave each service's
    ServiceAccount (listing regsecret) and VaultAuth in place, so verify's registry and platform checks pass;
    only the Deployments wait for the pipelines' deploy jobs, and verify says so."""
    root = tmp_path / "platform"
    _up_environment(monkeypatch, GITLAB_AGENT_TOKEN="glagent-x-654321", GITOPS_MODE="push")
    assert main(["init", "-C", str(root), "--yes"]) == 0
    for tool, out in (("docker", "28.0.1"), ("minikube", "v1.37.0")):
        recorder(standins, tool, stdout=out)
    recorder(standins, "helm", stdout="v4.1.4")
    UpState.load(root, load_config(None, os.environ)).mark("infrastructure")  # no Vault to set up here
    capsys.readouterr()
    assert main(["up", "-C", str(root)]) == 1  # verify fails: nothing deployed the service yet
    printed = capsys.readouterr().err
    assert "4/5 delivery (push)" in printed and "verify failed" in printed
    account = cluster.objects["/api/v1/namespaces/poc-dev/serviceaccounts/health-demo"]
    assert account["imagePullSecrets"] == [{"name": "regsecret"}]
    assert "/apis/secrets.hashicorp.com/v1beta1/namespaces/poc-dev/vaultauths/health-demo-vault-auth" in (
        cluster.objects
    )
    assert main(["verify", "-C", str(root), "--skip-vault", "--output", "json"]) == 1
    checks = {(c["group"], c["name"]): c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks[("platform/dev", "health-demo")]["status"] == "ok"
    assert checks[("registry/dev", "regsecret")]["status"] == "ok"
    deployment = checks[("deployments/dev", "health-demo")]
    assert deployment["status"] == "failed" and "ci deploy --env dev" in deployment["fix"]
    assert not any(group.startswith("applications/") for group, _ in checks)


def test_build_images_refuses_vendored_libraries_that_differ_from_libs(
    tmp_path: Path, standins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The service folder is the whole build context: a stale vendor/ would build code libs/ no longer has."""
    root = _platform_root(tmp_path)
    library = root / "libs" / "service-runtime"
    library.mkdir(parents=True)
    (library / "pyproject.toml").write_text('[project]\nname = "service-runtime"\n')
    (root / "services" / "health-demo" / "pyproject.toml").write_text(
        '[project]\nname = "health-demo"\ndependencies = ["service-runtime>=0.1"]\n'
    )
    _, log = recorder(standins, "minikube", stdout=RUNNING)
    assert main(["build-images", "-C", str(root), "--dry-run"]) == 2
    printed = capsys.readouterr().err
    assert "build-images: the vendored libraries differ from libs/" in printed
    assert (
        "services/health-demo/vendor/service-runtime/pyproject.toml" in printed
        and "gitops-poc init" in printed
    )
    assert main(["init", "-C", str(root), "--yes"]) == 0
    assert main(["build-images", "-C", str(root)]) == 0
    [call] = [c for c in calls(log) if c["args"][0] == "image"]
    assert call["args"][-1] == str(root / "services" / "health-demo")  # the folder alone, no build context


def test_up_with_another_cluster_and_no_vault_external_addr_stops_before_any_stage(
    tmp_path: Path,
    cluster: FakeApi,
    standins: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=prod-eu")
    for dry in ([], ["--dry-run"]):
        assert main(["up", "-C", str(tmp_path), *dry]) == 2
        printed = capsys.readouterr().err
        assert "VAULT_EXTERNAL_ADDR is not set" in printed and "1/5" not in printed
    assert cluster.requests == [] and not (tmp_path / STATE_FILE).exists()
