from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.argv import render
from gitops_poc.render import helm as helm_module
from gitops_poc.render.helm import Helm, HelmError, HelmNotFound, find_helm, template_args

pytestmark = pytest.mark.helm
EXAMPLES = Path(__file__).resolve().parent / "examples"


def test_template_arguments_follow_argocd_order() -> None:
    args = template_args("api-gateway", Path("/c/app"), "poc-dev", [Path("d.yaml"), Path("e.yaml")], "1.30")
    assert render(args) == [
        "template",
        "--namespace=poc-dev",
        "--include-crds",
        "--values=d.yaml",
        "--values=e.yaml",
        "--kube-version=1.30",
        "--",
        "api-gateway",
        "/c/app",
    ]
    assert "--kube-version" not in " ".join(render(template_args("r", Path("c"), "n", [], None)))


def test_find_helm_prefers_the_platform_tools_then_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = tmp_path / "root" / ".tools" / "bin"
    tools.mkdir(parents=True)
    (tools / "helm").write_text("")
    assert find_helm(tmp_path / "root") == str(tools / "helm")

    monkeypatch.setattr(helm_module, "CHECKOUT", tmp_path / "nowhere")
    on_path = tmp_path / "bin"
    on_path.mkdir()
    (on_path / "helm").write_text("#!/bin/sh\n")
    (on_path / "helm").chmod(0o755)
    monkeypatch.setenv("PATH", str(on_path))
    assert find_helm(tmp_path / "other") == str(on_path / "helm")


def test_missing_helm_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helm_module, "CHECKOUT", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(HelmNotFound, match="make tools"):
        find_helm(tmp_path)
    with pytest.raises(HelmNotFound, match="does not exist"):
        Helm(str(tmp_path / "helm")).run(["version"])


def test_template_renders_and_failures_carry_helms_message(helm: str, k8app_chart: Path) -> None:
    runner = Helm(helm)
    output = runner.template("rel", k8app_chart, "ns", [EXAMPLES / "minimal.yaml"], "1.30")
    assert "kind: Deployment" in output and "namespace: ns" in output
    with pytest.raises(
        HelmError, match="DEPRECATED: 'valult' parameter is deprecated and no longer supported"
    ):
        runner.template("rel", k8app_chart, "ns", [EXAMPLES / "invalid-valult.yaml"])


def test_helm_environment_is_inherited(helm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELM_CACHE_HOME", str(tmp_path / "my-cache"))
    assert f'HELM_CACHE_HOME="{tmp_path / "my-cache"}"' in Helm(helm).run(["env"])
