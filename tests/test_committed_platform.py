"""The committed platform deploys with the chart it pins: every service × environment rendered with the
published k8app 3.13.0 pulled from a loopback Helm repository, next to what gitops-config/platform/<env>/
gives ArgoCD to sync beside it. And a platform generated before this chart work is brought up to date by
one `init`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.changes import apply_changes
from gitops_poc.config import load_config
from gitops_poc.generate import plan_init
from gitops_poc.platform import Platform
from gitops_poc.render.chart import resolve_chart
from gitops_poc.render.helm import Helm
from gitops_poc.render.model import ChartRef, LocalChart
from gitops_poc.render.references import check_references, load_platform_objects
from gitops_poc.render.service import render_service
from gitops_poc.render.validate import validate_manifests
from gitops_poc.yamlio import load_all_plain, load_plain

REPO_ROOT = Path(__file__).resolve().parent.parent
PREVIOUS = Path(__file__).parent / "generate" / "fixtures" / "previous-platform"


def _selected(pdb: dict[str, Any], labels: dict[str, Any]) -> bool:
    match = (pdb.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


@pytest.mark.helm
def test_every_service_and_environment_of_the_committed_platform_deploys(
    helm: str, k8app_repo: str, chart_repos: dict[str, str], tmp_path: Path
) -> None:

    from gitops_poc.render.crds import load_crd_schemas

    platform = Platform(load_config(None, {}))  # the committed platform is init's output for the defaults
    # Its custom resources (VaultAuths, the charts' VaultStaticSecrets) against the pinned charts' CRDs.
    served = {"HASHICORP_HELM_REPO": chart_repos["hashicorp"], "ARGO_HELM_REPO": chart_repos["argo"]}
    crds = load_crd_schemas(load_config(None, served), Helm(helm), {"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert crds.unavailable == [], crds.unavailable
    ref = ChartRef(k8app_repo, "app", platform.config.chart_version)
    assert ref.version == "3.13.0"
    chart = resolve_chart(ref, chart_path=None, helm=Helm(helm), cache=tmp_path / "cache")
    assert isinstance(chart, LocalChart), chart  # helm pull --repo <loopback> --version 3.13.0
    rendered_count = 0
    for env in platform.environments:
        objects = load_platform_objects(REPO_ROOT, env)
        assert objects is not None
        platform_docs = [o.manifest.body for o in objects]
        report = validate_manifests([o.manifest for o in objects], platform.config.kubernetes_version, crds)
        assert report.ok and report.skipped == [], report.findings
        accounts = {d["metadata"]["name"] for d in platform_docs if d["kind"] == "ServiceAccount"}
        auths = {d["metadata"]["name"]: d for d in platform_docs if d["kind"] == "VaultAuth"}
        for service in platform.services:
            rendered = render_service(
                platform,
                REPO_ROOT / "services" / service,
                service,
                env,
                helm=Helm(helm),
                chart=chart,
                kube_version=platform.config.kubernetes_version,
            )
            assert rendered.manifests, (service, env)
            rendered_count += 1
            docs = [m.body for m in rendered.manifests]
            report = validate_manifests(rendered.manifests, platform.config.kubernetes_version, crds)
            assert report.ok and report.skipped == [], (service, env, report.findings)
            pdbs = [d for d in docs + platform_docs if d["kind"] == "PodDisruptionBudget"]
            for pdb in pdbs:  # no PDB sets both limits
                assert not {"minAvailable", "maxUnavailable"} <= set(pdb["spec"]), pdb["metadata"]["name"]
            [deployment] = [d for d in docs if d["kind"] == "Deployment"]
            pod = deployment["spec"]["template"]
            # Its own ServiceAccount, created in gitops-config/platform/<env>/.
            account = pod["spec"].get("serviceAccountName")
            assert account == platform.service_account(service) and account in accounts, (service, env)
            if platform.owns_disruption_budget(env):
                selecting = [p for p in pdbs if _selected(p, pod["metadata"]["labels"])]
                assert len(selecting) == 1, (service, env, [p["metadata"]["name"] for p in selecting])
                assert selecting[0]["spec"]["selector"]["matchLabels"]
            for secret in (d for d in docs if d["kind"] == "VaultStaticSecret"):
                auth = auths[secret["spec"]["vaultAuthRef"]]  # exists...
                assert (
                    auth["spec"]["kubernetes"]["serviceAccount"] == account
                )  # ...and logs in as that account
            # The same through the code render and lint use.
            manifests = [o.manifest for o in objects]
            production = platform.owns_disruption_budget(env)
            assert check_references(rendered.manifests, manifests, env, rendered.namespace, production) == []
    assert rendered_count == 15


def test_a_platform_of_the_previous_version_is_brought_up_to_date_by_one_init(tmp_path: Path) -> None:
    root = tmp_path / "platform"
    shutil.copytree(PREVIOUS, root)
    # What CI and the team did meanwhile: a built image tag, a comment of their own.
    dev = root / "services/web-http/.cicd/dev.yaml"
    dev.write_text(dev.read_text().replace('tag: "0.1.0"', 'tag: "3f2a9c1"  # built by CI'))
    default = root / "services/api-gateway/.cicd/default.yaml"
    default.write_text("# Owned by the gateway team.\n" + default.read_text())
    before = {p: p.read_text() for p in root.rglob("*.yaml")}

    platform = Platform(load_config(None, {}))
    apply_changes(root, plan_init(platform, root))
    assert plan_init(platform, root) == []  # one run is enough: `init --check` passes

    assert 'tag: "3f2a9c1"  # built by CI' in dev.read_text()
    assert default.read_text().startswith("# Owned by the gateway team.\n")
    for path, text in before.items():  # every comment line the files had is still there
        comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
        now = path.read_text()
        assert all(line in now for line in comments), path
    for service in platform.services:
        values = load_plain((root / f"services/{service}/.cicd/default.yaml").read_text())
        assert values["service"]["type"] == "ClusterIP"
        prod = load_plain((root / f"services/{service}/.cicd/prod.yaml").read_text())
        assert prod["pdb"]["enabled"] is False
        objects = load_all_plain((root / f"gitops-config/platform/prod/{service}.yaml").read_text())
        [pdb] = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
        assert pdb["spec"]["minAvailable"] == prod["pdb"]["minAvailable"]
    assert load_plain(dev.read_text())["image"]["tag"] == "3f2a9c1"
