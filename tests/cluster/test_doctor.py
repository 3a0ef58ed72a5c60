from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.cluster.checks import Status
from gitops_poc.cluster.doctor import Facts, evaluate, tool_version
from gitops_poc.config import load_config

from .fakeapi import FakeApi

ALL_TOOLS = {"kubectl": "v1.34.5", "helm": "v4.1.4", "minikube": "v1.37.0", "docker": "28.0.1"}


def _status(checks: list, name: str) -> Status:  # type: ignore[type-arg]
    return next(c.status for c in checks if c.name == name)


def test_everything_present_passes() -> None:
    facts = Facts(ALL_TOOLS, "minikube", "v1.34.0", None, 8, 16000)
    checks = evaluate(load_config(None, {}), facts)
    assert all(c.status is Status.OK for c in checks)
    assert [c.name for c in checks] == ["kubectl", "helm", "minikube", "docker", "context", "cpu", "memory"]


def test_missing_required_tool_fails_with_what_to_do_and_docker_only_warns() -> None:
    facts = Facts({**ALL_TOOLS, "helm": None, "docker": None}, "minikube", "v1.34.0", None, 8, 16000)
    checks = evaluate(load_config(None, {}), facts)
    helm = next(c for c in checks if c.name == "helm")
    assert helm.status is Status.FAILED and "make tools" in helm.fix
    assert _status(checks, "docker") is Status.WARNING


def test_stopped_minikube_is_a_warning_but_a_dead_remote_cluster_fails() -> None:
    config = load_config(None, {})
    assert (
        _status(evaluate(config, Facts(ALL_TOOLS, "minikube", None, "no answer", 8, 16000)), "context")
        is Status.WARNING
    )
    remote = Facts(ALL_TOOLS, "prod", None, "no answer", 8, 16000, minikube_context=False)
    checks = evaluate(load_config(None, {"KUBE_CONTEXT": "prod"}), remote)
    assert _status(checks, "context") is Status.FAILED
    assert "minikube" not in [
        c.name for c in checks if c.failed
    ]  # minikube is not needed for a remote cluster
    assert "cpu" not in [c.name for c in checks]


def test_too_little_room_for_minikube() -> None:
    checks = evaluate(
        load_config(None, {"MINIKUBE_MEMORY": "8192"}), Facts(ALL_TOOLS, "minikube", "v1", None, 2, 4000)
    )
    cpu = next(c for c in checks if c.name == "cpu")
    memory = next(c for c in checks if c.name == "memory")
    assert cpu.failed and "MINIKUBE_CPUS=2" in cpu.fix
    assert memory.failed and "4000 MiB available" in memory.detail


def test_tool_versions_are_parsed() -> None:
    assert tool_version("kubectl", json.dumps({"clientVersion": {"gitVersion": "v1.34.5"}})) == "v1.34.5"
    assert tool_version("helm", "v4.1.4+g05fa379") == "v4.1.4"
    assert tool_version("minikube", "v1.37.0") == "v1.37.0"
    assert tool_version("docker", None) is None


def test_doctor_cli_reports_the_reachable_cluster_as_json(
    fake_api: FakeApi, kubeconfig: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = main(["doctor", "--output", "json"])
    report = json.loads(capsys.readouterr().out)
    context = next(c for c in report["checks"] if c["name"] == "context")
    assert context["status"] == "ok" and "v1.34.0" in context["detail"]
    assert code == (1 if report["failed"] else 0)
    assert fake_api.requests[0].path == "/version"
