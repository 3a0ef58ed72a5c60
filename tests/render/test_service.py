"""Rendering one service × environment with the real helm binary, from the working tree and from git."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.config import parse_config
from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform
from gitops_poc.render.helm import Helm, HelmError
from gitops_poc.render.manifests import Manifest
from gitops_poc.render.model import ChartUnavailable, LocalChart
from gitops_poc.render.service import render_service, render_values, service_directory
from gitops_poc.values import coalesce, merge_files
from gitops_poc.yamlio import load_plain

pytestmark = pytest.mark.helm

DEFAULT = """\
appName: merge-demo
service: {type: ClusterIP}
image: {repository: registry.example.org/merge-demo, tag: "1.0", pullPolicy: Never}
args: [--a, --b, --c]
configmap: {KEEP: from-default, OVERRIDE: from-default, DROP: from-default}
pdb: {enabled: true, minAvailable: 1}
"""
DEV = """\
environment: dev
args: [--only]                  # lists replace
configmap:                      # maps merge
  OVERRIDE: from-env
  ADDED: from-env
  DROP: null                    # the chart has no DROP default: Helm keeps an explicit null
image: {pullPolicy: null}       # no chart default: Helm keeps the null, the field is omitted
pdb: {maxUnavailable: null}     # deletes the chart's default maxUnavailable (1)
"""


@pytest.fixture
def platform() -> Platform:
    return Platform(parse_config('SERVICES="merge-demo"\n', ".env", {}))


@pytest.fixture
def service(tmp_path: Path) -> Path:
    folder = tmp_path / "services" / "merge-demo"
    (folder / ".cicd").mkdir(parents=True)
    (folder / ".cicd" / "default.yaml").write_text(DEFAULT)
    (folder / ".cicd" / "dev.yaml").write_text(DEV)
    return folder


def by_key(manifests: tuple[Manifest, ...] | None) -> dict[str, dict[str, Any]]:
    assert manifests is not None
    return {m.key: m.body for m in manifests}


def test_merge_rules_match_what_helm_renders(
    platform: Platform, service: Path, helm: str, k8app_chart: Path
) -> None:
    rendered = render_service(
        platform, service, "merge-demo", "dev", helm=Helm(helm), chart=LocalChart(k8app_chart, "t")
    )
    values = rendered.values
    assert values == merge_files([load_plain(DEFAULT), load_plain(DEV)])
    assert values["args"] == ["--only"]
    assert values["configmap"] == {
        "KEEP": "from-default",
        "OVERRIDE": "from-env",
        "DROP": None,
        "ADDED": "from-env",
    }
    assert values["image"]["pullPolicy"] is None and values["pdb"]["maxUnavailable"] is None
    computed = coalesce(load_plain((k8app_chart / "values.yaml").read_text()), values)
    assert computed["image"]["pullPolicy"] is None and "maxUnavailable" not in computed["pdb"]
    assert computed["configmap"]["DROP"] is None

    objects = by_key(rendered.manifests)
    # What the templates saw, as helm rendered it.
    assert objects["ConfigMap/merge-demo"]["data"] == {
        "KEEP": "from-default",
        "OVERRIDE": "from-env",
        "ADDED": "from-env",
        "DROP": "<nil>",
    }
    container = objects["Deployment/merge-demo"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["--only"]
    assert "imagePullPolicy" not in container
    assert objects["PodDisruptionBudget/merge-demo"]["spec"] == {"minAvailable": 1}


def test_release_and_namespace_are_the_platforms(
    platform: Platform, service: Path, helm: str, k8app_chart: Path
) -> None:
    rendered = render_service(
        platform, service, "merge-demo", "dev", helm=Helm(helm), chart=LocalChart(k8app_chart, "t")
    )
    assert (rendered.release, rendered.namespace) == (
        platform.release_name("merge-demo"),
        platform.namespace("dev"),
    )
    for manifest in rendered.manifests or ():
        assert manifest.namespace == "poc-dev"
        assert manifest.metadata["labels"]["release"] == "merge-demo"


def test_values_only_when_the_chart_is_unavailable(platform: Platform, service: Path, helm: str) -> None:
    rendered = render_service(
        platform, service, "merge-demo", "dev", helm=Helm(helm), chart=ChartUnavailable("offline")
    )
    assert rendered.manifests is None and rendered.note == "offline"
    assert rendered.values["configmap"]["ADDED"] == "from-env"


def test_missing_value_file_and_unknown_names_are_bad_input(
    platform: Platform, service: Path, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match=r"\.cicd/staging\.yaml does not exist"):
        render_values(platform, service, "merge-demo", "staging")
    with pytest.raises(UsageError, match="unknown environment 'qa'"):
        render_values(platform, service, "merge-demo", "qa")
    with pytest.raises(UsageError, match="unknown service 'billing'"):
        render_values(platform, service, "billing", "dev")
    with pytest.raises(UsageError, match="--service-dir"):
        service_directory(tmp_path, "billing")


def test_a_git_revision_renders_from_its_own_files(
    platform: Platform, service: Path, helm: str, k8app_chart: Path, git: Callable[..., str]
) -> None:
    git(service, "init", "-q")
    git(service, "add", ".")
    git(service, "commit", "-qm", "first")
    (service / ".cicd" / "dev.yaml").write_text(DEV.replace("OVERRIDE: from-env", "OVERRIDE: edited"))
    chart = LocalChart(k8app_chart, "t")

    at_head = render_service(
        platform, service, "merge-demo", "dev", helm=Helm(helm), chart=chart, revision="HEAD"
    )
    tree = render_service(platform, service, "merge-demo", "dev", helm=Helm(helm), chart=chart)
    assert by_key(at_head.manifests)["ConfigMap/merge-demo"]["data"]["OVERRIDE"] == "from-env"
    assert by_key(tree.manifests)["ConfigMap/merge-demo"]["data"]["OVERRIDE"] == "edited"
    assert at_head.label == "dev@HEAD" and tree.label == "dev"


def test_helm_errors_name_the_value_files_not_temp_copies(
    platform: Platform, service: Path, helm: str, k8app_chart: Path, git: Callable[..., str]
) -> None:
    (service / ".cicd" / "dev.yaml").write_text(DEV + "valult: true\n")
    git(service, "init", "-q")
    git(service, "add", ".")
    git(service, "commit", "-qm", "broken")
    with pytest.raises(HelmError) as caught:
        render_service(
            platform,
            service,
            "merge-demo",
            "dev",
            helm=Helm(helm),
            chart=LocalChart(k8app_chart, "chart t"),
            revision="HEAD",
        )
    message = str(caught.value)
    assert "'valult' parameter is deprecated" in message
    assert f"{service}/.cicd/default.yaml@HEAD, {service}/.cicd/dev.yaml@HEAD" in message
    assert "gitops-poc-values" not in message
