"""What the rules claim about the chart, checked with real helm on the published k8app chart.

Each case lints a values file and renders it: the finding must be there, and so must the consequence it
warns about.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.lint import chart_rules
from gitops_poc.lint.documents import parse_document
from gitops_poc.yamlio import load_all_plain

pytestmark = pytest.mark.helm
BASE = "appName: demo\nservice:\n  type: ClusterIP\nimage:\n  repository: demo\n  tag: '1'\n"


def render(helm: str, chart: Path, values: Path) -> dict[str, dict[str, Any]]:
    result = subprocess.run(
        [helm, "template", "rel", str(chart), "-n", "ns", "-f", str(values)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return {doc["kind"]: doc for doc in load_all_plain(result.stdout)}


def pdb_spec(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return objects["PodDisruptionBudget"]["spec"]


CASES: list[tuple[str, str, Callable[[dict[str, dict[str, Any]]], bool]]] = [
    (
        "configmap-yaml11-bool",
        "configmap:\n  FEATURE: on\n",
        lambda o: o["ConfigMap"]["data"]["FEATURE"] == "true",
    ),
    (
        "pdb-both-limits",
        "pdb:\n  enabled: true\n  minAvailable: 2\n",
        lambda o: pdb_spec(o).get("minAvailable") == 2 and pdb_spec(o).get("maxUnavailable") == 1,
    ),
    (
        "configfiles-template",
        "configfiles:\n  mountPath: /etc/app\n  data:\n    a.conf: 'name: {{ .Release.Name }}'\n",
        lambda o: o["ConfigMap"]["data"]["a.conf"] == "name: rel",
    ),
    (
        "labels-unsupported",
        "labels:\n  team: payments\n",
        lambda o: "team" not in o["Deployment"]["metadata"]["labels"],
    ),
    (
        "hpa-ignored-key",
        "replicas: 2\nhpa:\n  enabled: true\n  minReplicas: 5\n  targetCPUUtilizationPercentage: 50\n",
        lambda o: (
            o["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 2
            and 50
            not in [
                m["resource"]["target"]["averageUtilization"]
                for m in o["HorizontalPodAutoscaler"]["spec"]["metrics"]
            ]
        ),
    ),
    ("replicas-zero", "replicas: 0\n", lambda o: o["Deployment"]["spec"]["replicas"] == 3),
    (
        # shutdown-over-termination-grace counts on it: the pod gets Kubernetes' default (30 s).
        "chart-unknown-key",
        "terminationGracePeriodSeconds: 45\n",
        lambda o: "terminationGracePeriodSeconds" not in o["Deployment"]["spec"]["template"]["spec"],
    ),
]


@pytest.mark.parametrize("rule_id, extra, consequence", CASES, ids=[c[0] for c in CASES])
def test_the_chart_does_what_the_rule_says(
    rule_id: str, extra: str, consequence: Callable[..., bool], helm: str, k8app_chart: Path, tmp_path: Path
) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(BASE + extra)
    doc = parse_document(values, "values.yaml", values.read_text())
    assert rule_id in {f.rule_id for f in chart_rules.check_file(doc)} | _merged_rules(doc)
    assert consequence(render(helm, k8app_chart, values))


def _merged_rules(doc: Any) -> set[str]:
    from gitops_poc.config import load_config
    from gitops_poc.lint.model import ServiceFiles
    from gitops_poc.platform import Platform

    files = ServiceFiles("demo", doc.path.parent, "demo", doc)
    return {f.rule_id for f in chart_rules.check_environment(files, "prod", Platform(load_config(None, {})))}
