"""Pure planning code loads no adapter: each planning module, imported alone in a fresh interpreter, leaves
hvac, requests, the git/helm/Vault adapters and the CLI libraries unloaded (and jinja2 outside the
generator)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

ADAPTERS = (
    "hvac",
    "requests",
    "urllib3",
    "gitops_poc.gitrepo",
    "gitops_poc.render.helm",
    "gitops_poc.render.chart",
    "gitops_poc.render.service",
    "gitops_poc.render.crds",
    "gitops_poc.helmrepo",
    "gitops_poc.servicerepo",
    "gitops_poc.vault.client",
    "gitops_poc.vault.state",
    "gitops_poc.vault.apply",
    "gitops_poc.vault.check",
    "gitops_poc.vault.kube_tokens",
    "gitops_poc.vault.kube_ca",
    "gitops_poc.cli",
    "typer",
    "rich",
    "gitlab",
    "gitops_poc.gitlab.client",
    "gitops_poc.publish.git",
    "gitops_poc.publish.files",
    "gitops_poc.gitauth",
)
TEMPLATING = ("jinja2", "gitops_poc.generate")  # the generator's own business

PLANNERS = [
    "gitops_poc.layout",
    "gitops_poc.values",
    "gitops_poc.platform",
    "gitops_poc.config",
    "gitops_poc.changes",
    "gitops_poc.argocd.appset",
    "gitops_poc.argocd.applications",
    "gitops_poc.lint",
    "gitops_poc.lint.runner",
    "gitops_poc.vault.provision_plan",
    "gitops_poc.vault.stale",
    "gitops_poc.vault.policy",
    "gitops_poc.vault.model",
    "gitops_poc.render.diff",
    "gitops_poc.render.checks",
    "gitops_poc.render.model",
    "gitops_poc.render.manifests",
    "gitops_poc.render.crdschema",
    "gitops_poc.delivery.image",
    "gitops_poc.imageref",
    "gitops_poc.digits",
    "gitops_poc.delivery.pins",
    "gitops_poc.delivery.values",
    "gitops_poc.delivery.decide",
    "gitops_poc.k8app",
    "gitops_poc.disruption",
    "gitops_poc.publish.model",
    "gitops_poc.publish.remote",
    "gitops_poc.gitlab.model",
    "gitops_poc.gitlab.plan",
    "gitops_poc.release.schedule",
    "gitops_poc.release.windows",
    "gitops_poc.release.gates",
    "gitops_poc.release.push_gates",
    "gitops_poc.release.history",
    "gitops_poc.release.rollback",
    "gitops_poc.release.policy",
    "gitops_poc.rollout.waves",
    "gitops_poc.rollout.health",
]
GENERATOR = ["gitops_poc.generate.init_plan"]  # jinja2 is what it renders with


def loaded_by(module: str) -> list[str]:
    code = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(json.loads(proc.stdout))


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("module", PLANNERS)
def test_a_planning_module_loads_no_adapter(module: str) -> None:
    loaded = loaded_by(module)
    assert module in loaded
    assert [m for m in loaded if _under(m, ADAPTERS + TEMPLATING)] == []


@pytest.mark.parametrize("module", GENERATOR)
def test_the_generator_loads_no_adapter(module: str) -> None:
    loaded = loaded_by(module)
    assert "jinja2" in loaded  # the check below would see an adapter if one came along
    assert [m for m in loaded if _under(m, ADAPTERS)] == []


def test_the_check_sees_an_adapter_when_one_is_loaded() -> None:
    assert "hvac" in loaded_by("gitops_poc.vault.state")
    assert "gitops_poc.gitrepo" in loaded_by("gitops_poc.argocd.preview")
    assert "gitlab" in loaded_by("gitops_poc.gitlab.client")


def test_validation_reads_the_schemas_without_importing_kubernetes_validate() -> None:
    code = (
        "import json, sys\n"
        "from gitops_poc.render.validate import schema_versions\n"
        "assert schema_versions()\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert not [m for m in json.loads(proc.stdout) if _under(m, ("kubernetes_validate", "yaml", "packaging"))]
