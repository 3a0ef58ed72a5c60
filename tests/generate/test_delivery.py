"""Secret delivery: ServiceAccount + VaultAuth per environment in gitops-config, and the values that make the
chart render a VaultStaticSecret the Deployment consumes while running as that ServiceAccount."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.changes import apply_changes
from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.errors import ConfigError
from gitops_poc.generate import plan_init
from gitops_poc.generate.delivery import manifest_file
from gitops_poc.layout import PLATFORM_APPS_FILE, service_dir
from gitops_poc.platform import VAULT_AUDIENCE, Platform
from gitops_poc.servicerepo import read_values
from gitops_poc.vault.provision_plan import ProvisionOptions, desired_role
from gitops_poc.vault.secrets_file import build_seeds
from gitops_poc.yamlio import load_all_plain, load_plain


def docs(root: Path, relative: Path) -> list[dict]:
    return load_all_plain((root / relative).read_text())


def test_each_service_gets_its_own_identity_in_every_environment(
    generated_root: Path, default_platform: Platform
) -> None:
    p = default_platform
    for env in p.environments:
        for service in p.services:
            account, auth, *_ = docs(generated_root, manifest_file(env, service))
            assert account["kind"] == "ServiceAccount"
            assert account["metadata"] == {
                **account["metadata"],
                "name": service,
                "namespace": p.namespace(env),
            }
            assert account["automountServiceAccountToken"] is False
            assert auth["apiVersion"] == "secrets.hashicorp.com/v1beta1" and auth["kind"] == "VaultAuth"
            assert auth["metadata"]["name"] == f"{service}-vault-auth"
            assert auth["metadata"]["namespace"] == p.namespace(env)
            # Exactly what `vault provision` binds the role to: same role, same account, same audience.
            role = desired_role(p, service, env, ProvisionOptions())
            assert auth["spec"] == {
                "method": "kubernetes",
                "mount": role.mount,
                "kubernetes": {
                    "role": role.name,
                    "serviceAccount": role.service_account,
                    "audiences": [role.audience],
                },
            }
            assert role.namespace == account["metadata"]["namespace"] and role.audience == VAULT_AUDIENCE


def test_platform_applications_sync_each_environment(
    generated_root: Path, default_platform: Platform
) -> None:
    apps = {a["metadata"]["name"]: a for a in docs(generated_root, PLATFORM_APPS_FILE)}
    assert set(apps) == {"platform-dev", "platform-staging", "platform-prod"}
    project = load_plain((generated_root / "gitops-config/argocd/project.yaml").read_text())
    for env in default_platform.environments:
        spec = apps[f"platform-{env}"]["spec"]
        assert spec["source"]["repoURL"] in project["spec"]["sourceRepos"]
        assert spec["source"]["path"] == f"platform/{env}"
        assert (generated_root / "gitops-config" / spec["source"]["path"]).is_dir()
        assert spec["destination"]["namespace"] == default_platform.namespace(env)
        assert spec["project"] == project["metadata"]["name"]
        assert "CreateNamespace=true" in spec["syncPolicy"]["syncOptions"]
        # Same policy as the services: production is synced by a person, never automatically.
        assert ("automated" in spec["syncPolicy"]) is default_platform.auto_sync(env)
    assert "automated" not in apps["platform-prod"]["spec"]["syncPolicy"]


def test_values_name_the_generated_identity_and_the_provisioned_secret(
    generated_root: Path, default_platform: Platform
) -> None:
    p = default_platform
    seeds = build_seeds(p)
    for service in p.services:
        for env in p.environments:
            _, values = read_values(service_dir(generated_root, service), env)
            account, auth, *_ = docs(generated_root, manifest_file(env, service))
            assert values["serviceAccountName"] == account["metadata"]["name"]
            assert values["secretsProvider"]["provider"] == "vault"
            assert values["secretsProvider"]["vault"]["authRef"] == auth["metadata"]["name"]
            assert values["secrets"], service
            for key, path in values["secrets"].items():
                # The chart replaces {env} with `environment`; the result is the path provision writes...
                assert path.replace("{env}", values["environment"]) == p.vault_secret_path(service, env)
                # ...and every key the Deployment asks for is in the secret provision creates.
                assert key in seeds[(service, env)].values, (service, env, key)


def test_a_service_named_like_a_platform_application_is_refused() -> None:
    with pytest.raises(ConfigError, match="'platform' is reserved"):
        load_config(None, {"SERVICES": "platform", "ENVIRONMENTS": "dev"})


def test_existing_values_files_get_the_identity_keys(
    generated_root: Path, default_platform: Platform
) -> None:
    default = generated_root / "services/web-http/.cicd/default.yaml"
    default.write_text("# team comment\nappName: web-http\nserviceAccountName: default\nreplicas: 2\n")
    changes = plan_init(default_platform, generated_root)
    assert [str(c.path) for c in changes] == ["services/web-http/.cicd/default.yaml"]
    apply_changes(generated_root, changes)
    text = default.read_text()
    assert text.startswith("# team comment\n")
    data = load_plain(text)
    assert data["serviceAccountName"] == "web-http"
    assert data["secretsProvider"] == {"vault": {"authRef": "web-http-vault-auth"}}
    assert data["replicas"] == 2
    assert plan_init(default_platform, generated_root) == []


@pytest.mark.helm
def test_render_shows_the_secret_reaching_the_deployment(
    helm: str,
    k8app_env: str,
    generated_root: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(generated_root / ".cache"))
    for service, env, keys in (
        ("auth-adapter", "prod", ["^JWT_SECRET$", "^VALID_TOKENS$"]),
        ("web-http", "dev", None),
    ):
        assert main(["render", service, env, "-C", str(generated_root)]) == 0
        manifests = {(d["kind"], d["metadata"]["name"]): d for d in load_all_plain(capsys.readouterr().out)}
        secret = manifests[("VaultStaticSecret", f"{service}-vault-0")]["spec"]
        assert secret["vaultAuthRef"] == f"{service}-vault-auth"
        assert (secret["mount"], secret["type"]) == ("secret", "kv-v2")
        assert secret["path"] == f"gitops-poc/{service}/{env}/config"
        assert secret["destination"]["name"] == f"{service}-vault-0"
        if keys:
            assert secret["destination"]["transformation"]["includes"] == keys
        pod = manifests[("Deployment", service)]["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == service
        assert {"secretRef": {"name": f"{service}-vault-0"}} in pod["containers"][0]["envFrom"]
