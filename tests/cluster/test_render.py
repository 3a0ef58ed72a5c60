"""The infrastructure releases rendered with the REAL pinned charts (../shared/charts served on loopback,
pulled by version) and the values files shipped in the package, validated for KUBERNETES_VERSION."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from gitops_poc.cluster.infrastructure import argocd_release, remote_vso_release, vault_release, vso_release
from gitops_poc.cluster.render import render_release
from gitops_poc.cluster.values_keys import unknown_keys
from gitops_poc.config import load_config
from gitops_poc.platform import Platform
from gitops_poc.render.helm import Helm

pytestmark = pytest.mark.helm


@pytest.fixture
def platform(chart_repos: dict[str, str]) -> Platform:
    return Platform(
        load_config(
            None,
            {
                "HASHICORP_HELM_REPO": chart_repos["hashicorp"],
                "ARGO_HELM_REPO": chart_repos["argo"],
            },
        )
    )


def _kinds(rendered: object) -> set[str]:
    return {m.key for m in rendered.manifests}  # type: ignore[attr-defined]


def test_vault_renders_standalone_with_file_storage_and_validates(platform: Platform, helm: str) -> None:
    rendered = render_release(
        vault_release(platform), Helm(helm), platform.config.kubernetes_version, os.environ
    )
    assert rendered.ok, (rendered.validation.errors, rendered.unknown_values)
    assert rendered.validation.validated > 3
    assert {"StatefulSet/vault", "Service/vault", "Service/vault-ui"} <= _kinds(rendered)
    # The injector is off; the server keeps its data on a volume (not dev mode, no root token).
    assert not any("injector" in m.name for m in rendered.manifests)
    sts = next(m for m in rendered.manifests if m.key == "StatefulSet/vault")
    assert sts.body["spec"]["volumeClaimTemplates"]
    assert "VAULT_DEV_ROOT_TOKEN_ID" not in sts.text and "-dev" not in str(
        sts.body["spec"]["template"]["spec"]["containers"][0].get("args")
    )


def test_vault_dev_mode_takes_the_private_root_token(
    chart_repos: dict[str, str], helm: str, tmp_path: Path
) -> None:
    platform = Platform(
        load_config(None, {"HASHICORP_HELM_REPO": chart_repos["hashicorp"], "VAULT_DEV_MODE": "true"})
    )
    release = vault_release(platform, dev_root_token="s3cret-dev-token")
    private = tmp_path / "private.yaml"
    private.write_text("server:\n  dev:\n    devRootToken: s3cret-dev-token\n")
    rendered = render_release(release, Helm(helm), "1.34.0", os.environ, extra_values=(private,))
    assert rendered.ok, rendered.validation.errors
    sts = next(m for m in rendered.manifests if m.key == "StatefulSet/vault")
    env = {e["name"]: e.get("value") for e in sts.body["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["VAULT_DEV_ROOT_TOKEN_ID"] == "s3cret-dev-token"
    assert not sts.body["spec"].get("volumeClaimTemplates")


def test_vso_renders_with_the_in_cluster_vault_connection(platform: Platform, helm: str) -> None:
    rendered = render_release(
        vso_release(platform), Helm(helm), platform.config.kubernetes_version, os.environ
    )
    assert rendered.ok, (rendered.validation.errors, rendered.unknown_values)
    connection = next(m for m in rendered.manifests if m.kind == "VaultConnection")
    assert connection.body["spec"]["address"] == "http://vault.vault.svc.cluster.local:8200"
    deployment = next(m for m in rendered.manifests if m.kind == "Deployment")
    assert "-client-cache-persistence-model=none" in str(deployment.body)


def test_argocd_renders_insecure_server_without_dex_and_notifications(platform: Platform, helm: str) -> None:
    rendered = render_release(
        argocd_release(platform), Helm(helm), platform.config.kubernetes_version, os.environ
    )
    assert rendered.ok, (rendered.validation.errors[:5], rendered.unknown_values)
    names = {m.name for m in rendered.manifests}
    assert "argocd-server" in names and "argocd-applicationset-controller" in names
    assert not any("dex" in n or "notifications-controller" in n for n in names)
    params = next(m for m in rendered.manifests if m.name == "argocd-cmd-params-cm")
    assert params.body["data"]["server.insecure"] == "true"
    cm = next(m for m in rendered.manifests if m.name == "argocd-cm")
    assert cm.body["data"]["timeout.reconciliation"] == "180s"


def test_a_values_key_the_chart_does_not_know_is_caught(
    platform: Platform, helm: str, tmp_path: Path
) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text("server:\n  standalone:\n    enabeld: true\ninjektor:\n  enabled: false\n")
    rendered = render_release(vault_release(platform), Helm(helm), "1.34.0", os.environ, extra_values=(typo,))
    assert not rendered.ok
    assert rendered.unknown_values == ("typo.yaml: server.standalone.enabeld", "typo.yaml: injektor")


def test_an_old_kubernetes_version_fails_validation(platform: Platform, helm: str) -> None:
    # argo-cd 10.1.1 declares kubeVersion >=1.25: helm itself refuses older clusters.
    from gitops_poc.render.helm import HelmError

    with pytest.raises(HelmError, match="kubeVersion|Kubernetes"):
        render_release(argocd_release(platform), Helm(helm), "1.24.0", os.environ)


@pytest.mark.parametrize(
    ("defaults", "values", "expected"),
    [
        ({"a": {"b": 1}}, {"a": {"b": 2}}, []),
        ({"a": {"b": 1}}, {"a": {"c": 2}}, ["a.c"]),
        ({"a": {}}, {"a": {"anything": {"deep": 1}}}, []),  # empty default map: free-form
        ({"a": None}, {"a": {"x": 1}}, []),
        ({"a": 1}, {"b": 1, "a": 2}, ["b"]),
    ],
)
def test_unknown_keys(defaults: object, values: object, expected: list[str]) -> None:
    assert unknown_keys(defaults, values) == expected


def test_free_form_maps_are_declared_per_chart() -> None:
    defaults = {"configs": {"params": {"create": True, "annotations": {}}}}
    values = {"configs": {"params": {"server.insecure": True}}}
    assert unknown_keys(defaults, values, chart="argo-cd") == []
    assert unknown_keys(defaults, values, chart="other") == ["configs.params.server.insecure"]


def test_vso_of_another_cluster_renders_with_vault_external_addr_in_its_vault_connection(
    chart_repos: dict[str, str], helm: str
) -> None:
    platform = Platform(
        load_config(
            None,
            {
                "HASHICORP_HELM_REPO": chart_repos["hashicorp"],
                "ENVIRONMENT_CLUSTERS": "prod=prod-eu",
                "VAULT_EXTERNAL_ADDR": "https://vault.example.com:8200",
            },
        )
    )
    release = remote_vso_release(platform, "prod-eu", platform.config.vault_external_addr)
    rendered = render_release(release, Helm(helm), platform.config.kubernetes_version, os.environ)
    assert rendered.ok, (rendered.validation.errors, rendered.unknown_values)
    assert rendered.validation.validated > 3
    connections = [m for m in rendered.manifests if m.kind == "VaultConnection"]
    assert [(c.name, c.body["spec"]["address"]) for c in connections] == [
        ("default", "https://vault.example.com:8200")
    ]
    # The VaultConnection is checked against the CRD the same chart installs, not skipped.
    assert rendered.validation.skipped == []
    assert "vault.vault.svc" not in "".join(m.text for m in rendered.manifests)
    # Only the operator: no Vault server, no ArgoCD.
    assert not any(m.kind == "StatefulSet" or "argocd" in m.name for m in rendered.manifests)


def test_a_set_string_key_the_chart_does_not_know_is_caught(platform: Platform, helm: str) -> None:
    release = replace(vso_release(platform), set_strings=(("defaultVaultConnection.adress", "https://x"),))
    rendered = render_release(release, Helm(helm), "1.34.0", os.environ)
    assert not rendered.ok
    assert rendered.unknown_values == ("--set-string: defaultVaultConnection.adress",)


def test_the_default_vault_connection_is_validated_against_the_operators_crd(
    platform: Platform, helm: str
) -> None:
    """--set-string makes skipTLSVerify the text "maybe": the chart writes it unquoted, the CRD wants a
    boolean, and the API server would reject the VaultConnection."""
    release = replace(vso_release(platform), set_strings=(("defaultVaultConnection.skipTLSVerify", "maybe"),))
    rendered = render_release(release, Helm(helm), "1.34.0", os.environ)
    assert not rendered.ok
    assert [(f.manifest, f.message) for f in rendered.validation.errors] == [
        (
            "VaultConnection/default",
            "(CRD of vault-secrets-operator 1.4.1) spec.skipTLSVerify: 'maybe' is not of type 'boolean'",
        )
    ]
