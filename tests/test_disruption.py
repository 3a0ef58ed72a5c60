"""The platform's production PodDisruptionBudgets: the budget from the value files, the selector from the
chart's pod labels (checked against the published chart's render), and what init writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitops_poc.changes import apply_changes
from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.disruption import budget_from_values
from gitops_poc.errors import ConfigError, UsageError
from gitops_poc.generate import plan_init
from gitops_poc.generate.delivery import manifest_file
from gitops_poc.platform import Platform
from gitops_poc.yamlio import load_all_plain, load_plain

DEFAULT = {"maxUnavailable": 1}


def test_the_budget_is_what_the_files_ask_for_later_file_winning() -> None:
    assert budget_from_values([("d", {}), ("p", None)], DEFAULT) == DEFAULT
    assert budget_from_values([("d", {"pdb": {"minAvailable": 2}}), ("p", {})], DEFAULT) == {
        "minAvailable": 2
    }
    # prod.yaml unsets default.yaml's minAvailable and asks for a percentage instead
    layers = [
        ("d", {"pdb": {"minAvailable": 2}}),
        ("p", {"pdb": {"minAvailable": None, "maxUnavailable": "25%"}}),
    ]
    assert budget_from_values(layers, DEFAULT) == {"maxUnavailable": "25%"}
    # the chart-era workaround `maxUnavailable: null` is simply "not set"
    layers = [("d", {}), ("p", {"pdb": {"enabled": True, "minAvailable": 1, "maxUnavailable": None}})]
    assert budget_from_values(layers, DEFAULT) == {"minAvailable": 1}


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            [("d.yaml", {"pdb": {"minAvailable": 2}}), ("p.yaml", {"pdb": {"maxUnavailable": 1}})],
            "pdb.minAvailable: 2 in d.yaml, pdb.maxUnavailable: 1 in p.yaml: a PodDisruptionBudget takes one",
        ),
        ([("p.yaml", {"pdb": {"minAvailable": "all"}})], "p.yaml: pdb.minAvailable is 'all'"),
        ([("p.yaml", {"pdb": {"maxUnavailable": "150%"}})], "p.yaml: pdb.maxUnavailable is '150%'"),
        ([("p.yaml", {"pdb": {"maxUnavailable": True}})], "p.yaml: pdb.maxUnavailable is True"),
    ],
)
def test_a_budget_that_is_not_one_limit_is_bad_input(layers: list, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        budget_from_values(layers, DEFAULT)


def test_the_configured_default_is_validated() -> None:
    assert Platform(load_config(None, {"PDB_MAX_UNAVAILABLE": "25%"})).default_disruption_budget() == {
        "maxUnavailable": "25%"
    }
    for bad in ("0", "0%", "101%", "one", "-1"):
        with pytest.raises(ConfigError, match="PDB_MAX_UNAVAILABLE") as caught:
            load_config(None, {"PDB_MAX_UNAVAILABLE": bad})
        assert "not a disruption budget" in str(caught.value)


def pdbs(root: Path, env: str, service: str) -> list[dict]:
    return [
        d
        for d in load_all_plain((root / manifest_file(env, service)).read_text())
        if d["kind"] == "PodDisruptionBudget"
    ]


def test_production_gets_one_pdb_per_service_and_other_tiers_none(
    generated_root: Path, default_platform: Platform
) -> None:
    p = default_platform
    for service in p.services:
        assert pdbs(generated_root, "dev", service) == pdbs(generated_root, "staging", service) == []
        [pdb] = pdbs(generated_root, "prod", service)
        assert pdb["apiVersion"] == "policy/v1" and pdb["metadata"]["name"] == f"{service}-pdb"
        assert pdb["metadata"]["namespace"] == "poc-prod"
        assert pdb["spec"]["selector"] == {"matchLabels": {"app": service, "release": service}}
        values = load_plain((generated_root / f"services/{service}/.cicd/prod.yaml").read_text())
        assert values["pdb"] == {"enabled": False, "minAvailable": pdb["spec"]["minAvailable"]}
        assert "maxUnavailable" not in pdb["spec"]


def test_the_budget_follows_the_values_and_the_default_on_the_next_init(generated_root: Path) -> None:
    p = Platform(load_config(None, {"PDB_MAX_UNAVAILABLE": "2"}))
    prod = generated_root / "services/web-http/.cicd/prod.yaml"
    prod.write_text(prod.read_text().replace("  minAvailable: 2\n", "  maxUnavailable: 30%  # the team's\n"))
    health = generated_root / "services/health-demo/.cicd/prod.yaml"
    health.write_text(health.read_text().replace("  minAvailable: 1\n", ""))
    apply_changes(generated_root, plan_init(p, generated_root))
    assert pdbs(generated_root, "prod", "web-http")[0]["spec"]["maxUnavailable"] == "30%"
    assert pdbs(generated_root, "prod", "health-demo")[0]["spec"]["maxUnavailable"] == 2
    assert "maxUnavailable: 30%  # the team's" in prod.read_text()
    assert plan_init(p, generated_root) == []


def test_init_refuses_both_limits_naming_the_files(
    generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = generated_root / "services/web-grpc/.cicd/prod.yaml"
    prod.write_text(prod.read_text() + "  maxUnavailable: 1\n")
    before = (generated_root / manifest_file("prod", "web-grpc")).read_text()
    assert main(["init", "-C", str(generated_root), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "pdb.minAvailable: 2 in services/web-grpc/.cicd/prod.yaml" in " ".join(err.split())
    assert (generated_root / manifest_file("prod", "web-grpc")).read_text() == before  # nothing half-written


@pytest.mark.helm
def test_the_selector_selects_the_pods_the_published_chart_renders(
    helm: str, k8app_chart: Path, generated_root: Path, default_platform: Platform
) -> None:
    for service in default_platform.services:
        cicd = generated_root / "services" / service / ".cicd"
        result = subprocess.run(
            [
                helm,
                "template",
                service,
                str(k8app_chart),
                "-n",
                "poc-prod",
                "-f",
                str(cicd / "default.yaml"),
                "-f",
                str(cicd / "prod.yaml"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        [deployment] = [d for d in load_all_plain(result.stdout) if d["kind"] == "Deployment"]
        assert not [d for d in load_all_plain(result.stdout) if d["kind"] == "PodDisruptionBudget"]
        [pdb] = pdbs(generated_root, "prod", service)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        assert pdb["metadata"]["namespace"] == deployment["metadata"]["namespace"]
