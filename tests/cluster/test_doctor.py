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


def test_each_remote_clusters_context_is_a_required_row_with_a_fix() -> None:
    from gitops_poc.cluster.doctor import ClusterFacts

    config = load_config(None, {"ENVIRONMENTS": "dev staging prod", "ENVIRONMENT_CLUSTERS": "prod=prod-eu"})
    facts = Facts(
        ALL_TOOLS,
        "minikube",
        "v1.34.0",
        None,
        8,
        16000,
        clusters=(
            ClusterFacts("prod-eu", "gke-prod", ("prod",), True, "v1.33.2"),
            ClusterFacts("edge", "edge", ("staging",), False, error="/k/config has no context 'edge'"),
            ClusterFacts("lab", "lab", ("dev",), True, None, "does not answer: MaxRetryError"),
        ),
    )
    rows = {c.name: c for c in evaluate(config, facts) if c.group == "clusters"}
    assert list(rows) == ["prod-eu", "edge", "lab"]
    assert rows["prod-eu"].status is Status.OK
    assert rows["prod-eu"].detail == "gke-prod: Kubernetes v1.33.2 answers; runs prod"
    assert rows["edge"].status is Status.FAILED  # required, not a warning
    assert "edge is not in the kubeconfig (/k/config has no context 'edge')" in rows["edge"].detail
    assert "CLUSTER_CONTEXTS=edge=<context>" in rows["edge"].fix
    assert rows["lab"].status is Status.FAILED and "kubectl --context lab version" in rows["lab"].fix


def test_doctor_cli_checks_every_clusters_context_at_the_http_boundary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from .fakeapi import serve_fake_api, two_cluster_kubeconfig

    with serve_fake_api() as own, serve_fake_api() as prod:
        kubeconfig = json.loads(two_cluster_kubeconfig(tmp_path, own, prod, "gke-prod").read_text())
        # A third context whose cluster is down (a closed loopback port).
        kubeconfig["clusters"].append({"name": "lab", "cluster": {"server": "http://127.0.0.1:9"}})
        kubeconfig["users"].append({"name": "lab", "user": {"token": "x"}})
        kubeconfig["contexts"].append({"name": "lab", "context": {"cluster": "lab", "user": "lab"}})
        path = tmp_path / "kubeconfig-three"
        path.write_text(json.dumps(kubeconfig))
        monkeypatch.setenv("KUBECONFIG", str(path))
        monkeypatch.setenv("ENVIRONMENTS", "dev staging prod")
        monkeypatch.setenv("CLUSTER_CONTEXTS", "prod-eu=gke-prod")
        monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=prod-eu")
        main(["doctor", "-C", str(tmp_path), "--output", "json"])
        report = json.loads(capsys.readouterr().out)
        rows = {c["name"]: c for c in report["checks"] if c["group"] == "clusters"}
        assert list(rows) == ["prod-eu"] and rows["prod-eu"]["status"] == "ok"
        assert [r.path for r in prod.requests] == ["/version"]  # asked in its own context
        # Two more clusters: one whose context the kubeconfig lacks, one that does not answer.
        monkeypatch.setenv("ENVIRONMENT_CLUSTERS", "prod=prod-eu staging=edge dev=lab")
        assert main(["doctor", "-C", str(tmp_path), "--output", "json"]) == 1
        report = json.loads(capsys.readouterr().out)
        rows = {c["name"]: c for c in report["checks"] if c["group"] == "clusters"}
        assert [(name, row["status"]) for name, row in rows.items()] == [
            ("prod-eu", "ok"),
            ("edge", "failed"),
            ("lab", "failed"),
        ]
        assert f"{path} has no context 'edge'" in rows["edge"]["detail"]
        assert "CLUSTER_CONTEXTS=edge=<context>" in rows["edge"]["fix"]
        assert "does not answer" in rows["lab"]["detail"] and rows["lab"]["fix"]
        # The table: a row per context and each failure's fix.
        assert main(["doctor", "-C", str(tmp_path)]) == 1
        printed = capsys.readouterr()
        assert "prod-eu" in printed.out and "edge" in printed.out and "lab" in printed.out
        assert "clusters/edge:" in printed.err and "clusters/lab:" in printed.err
