"""`vault provision` and `vault check` end to end against a real OpenBao dev server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.platform import Platform
from gitops_poc.vault.secrets_file import ORIGINAL_KEYS

from .bao import Vault, reset_dev_vault

pytestmark = pytest.mark.vault

PLATFORM = Platform(load_config(None, {}))
PAIRS = [(s, e) for s in PLATFORM.services for e in PLATFORM.environments]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def provision_json(capsys: pytest.CaptureFixture[str], root: Path, ca_file: Path, *extra: str) -> dict:
    code, out, err = run(
        capsys,
        "vault",
        "provision",
        "-C",
        str(root),
        "--kubernetes-ca-file",
        str(ca_file),
        "-o",
        "json",
        *extra,
    )
    assert code == 0, err
    return json.loads(out)


def secret(vault: Vault, service: str, env: str) -> dict[str, str]:
    return vault.client().secrets.kv.v2.read_secret(
        PLATFORM.vault_secret_path(service, env), raise_on_deleted_version=True
    )["data"]["data"]


def test_provision_then_reprovision_writes_nothing(
    vault_env: Vault, tmp_path: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = provision_json(capsys, tmp_path, ca_file)
    # dev mode already mounts secret/ as kv-v2: no mount step, the rest is created
    assert first["plan"]["counts"] == {
        "auth-method": 1,
        "auth-config": 1,
        "policy": 15,
        "role": 15,
        "secret": 15,
    }
    assert first["writes"] == 47

    second = provision_json(capsys, tmp_path, ca_file)
    assert second["writes"] == 0
    assert second["plan"]["steps"] == []
    assert len(second["plan"]["kept_secrets"]) == 15

    client = vault_env.client()
    role = client.read("auth/kubernetes/role/gitops-poc-api-gateway-prod")["data"]
    assert role["bound_service_account_names"] == ["api-gateway"]
    assert role["bound_service_account_namespaces"] == ["poc-prod"]
    assert role["audience"] == "vault"
    assert role["token_policies"] == ["gitops-poc-api-gateway-prod"]
    assert secret(vault_env, "api-gateway", "dev")["AUTH_ADAPTER_HOST"] == "auth-adapter-sv"


def test_full_least_privilege_matrix(
    vault_env: Vault, tmp_path: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    provision_json(capsys, tmp_path, ca_file)
    code, out, err = run(capsys, "vault", "check", "-C", str(tmp_path), "-o", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] is True and report["leaks"] == [] and report["failures"] == []
    rows = {(row["service"], row["environment"]): row for row in report["matrix"]}
    assert set(rows) == set(PAIRS)
    assert report["secrets"] == [f"{service}/{env}" for service, env in PAIRS]
    for identity in PAIRS:
        row = rows[identity]
        # Only what was not denied is listed: its own secret, read; every other one was refused.
        assert row["checked"] is True
        assert row["reads"] == {"/".join(identity): "read"}, identity
        assert row["write_own"] == "denied"
        assert row["list_all"] == "denied"
        assert row["binding"] == []

    code, out, _ = run(capsys, "vault", "check", "-C", str(tmp_path))
    assert code == 0
    assert "gitops-poc-api-gateway-dev" in out and "gitops-poc-health-demo-prod" in out
    assert "X" not in out.split("secrets:")[0]  # no leak mark anywhere in the matrix


def test_check_finds_leaks_and_provision_repairs_them(
    vault_env: Vault, tmp_path: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    provision_json(capsys, tmp_path, ca_file)
    client = vault_env.client()
    # The original's mistakes: `default` bound to a role, and a policy that reads every service.
    client.write_data(
        "auth/kubernetes/role/gitops-poc-web-http-prod",
        data={"bound_service_account_names": ["web-http", "default"]},
    )
    client.sys.create_or_update_acl_policy(
        "gitops-poc-web-grpc-dev",
        'path "secret/data/gitops-poc/*" { capabilities = ["read", "update", "create"] }',
    )
    code, out, err = run(capsys, "vault", "check", "-C", str(tmp_path), "-o", "json")
    assert code == 1
    report = json.loads(out)
    assert "gitops-poc-web-http-prod accepts ServiceAccount 'default'" in report["leaks"]
    assert "gitops-poc-web-grpc-dev can read api-gateway/prod" in report["leaks"]
    assert "gitops-poc-web-grpc-dev can write its own secret" in report["leaks"]
    assert "leak(s)" in err

    repaired = provision_json(capsys, tmp_path, ca_file)
    assert repaired["plan"]["counts"] == {"policy": 1, "role": 1}
    assert run(capsys, "vault", "check", "-C", str(tmp_path), "-o", "json")[0] == 0


def test_check_reports_a_missing_role_and_secret(
    vault_env: Vault, tmp_path: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    provision_json(capsys, tmp_path, ca_file)
    client = vault_env.client()
    client.delete("auth/kubernetes/role/gitops-poc-auth-adapter-staging")
    client.secrets.kv.v2.delete_metadata_and_all_versions(PLATFORM.vault_secret_path("web-grpc", "prod"))
    code, out, _ = run(capsys, "vault", "check", "-C", str(tmp_path), "-o", "json")
    assert code == 1
    failures = json.loads(out)["failures"]
    assert "role gitops-poc-auth-adapter-staging does not exist" in failures
    assert "gitops-poc-web-grpc-prod cannot read its own secret (missing)" in failures


def test_hand_edited_secret_survives_reprovision(
    vault_env: Vault, tmp_path: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    provision_json(capsys, tmp_path, ca_file)
    client = vault_env.client()
    path = PLATFORM.vault_secret_path("auth-adapter", "prod")
    client.secrets.kv.v2.create_or_update_secret(path, {"JWT_SECRET": "set-by-hand", "EXTRA": "kept"})
    secrets_file = tmp_path / ".secrets.yaml"  # picked up from the root by default
    secrets_file.write_text("auth-adapter:\n  prod:\n    JWT_SECRET: from-the-file\n")

    again = provision_json(capsys, tmp_path, ca_file)
    assert again["writes"] == 0
    assert any("--overwrite-secrets" in note for note in again["plan"]["notes"])
    assert secret(vault_env, "auth-adapter", "prod") == {"JWT_SECRET": "set-by-hand", "EXTRA": "kept"}

    # Only an explicit request writes the file's keys over it; other keys stay.
    forced = provision_json(capsys, tmp_path, ca_file, "--overwrite-secrets")
    assert forced["writes"] == 1
    assert forced["plan"]["steps"][0]["action"] == "update" and forced["plan"]["steps"][0]["keys"] == [
        "JWT_SECRET"
    ]
    assert secret(vault_env, "auth-adapter", "prod") == {"JWT_SECRET": "from-the-file", "EXTRA": "kept"}
    assert provision_json(capsys, tmp_path, ca_file, "--overwrite-secrets")["writes"] == 0


def test_secrets_file_values_and_generated_values(
    vault_env: Vault, tmp_path: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets_file = tmp_path / "prod-secrets.yaml"
    secrets_file.write_text("api-gateway:\n  prod:\n    API_KEY: from-file\n    SIGNING_KEY:\n")
    provision_json(capsys, tmp_path, ca_file, "--secrets-file", str(secrets_file))
    prod = secret(vault_env, "api-gateway", "prod")
    assert prod["API_KEY"] == "from-file"
    assert len(prod["SIGNING_KEY"]) >= 40  # generated
    for env in ("dev", "staging"):  # not in the file: random, in development too
        value = secret(vault_env, "api-gateway", env)["API_KEY"]
        assert value != "demo-api-key-12345" and len(value) >= 40


DEMO_VALUES = {d.demo for keys in ORIGINAL_KEYS.values() for d in keys if d.demo}


def test_publicly_known_demo_values_only_with_demo_values(
    vault_env: Vault, tmp_path: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = provision_json(capsys, tmp_path, ca_file)["plan"]
    assert not any("demo" in step.get("sources", []) for step in plan["steps"])
    written = [v for s, e in PAIRS for v in secret(vault_env, s, e).values()]
    assert not DEMO_VALUES & set(written)
    dev = secret(vault_env, "auth-adapter", "dev")
    assert (
        len(dev["JWT_SECRET"]) >= 40
        and dev["JWT_SECRET"] != secret(vault_env, "auth-adapter", "prod")["JWT_SECRET"]
    )

    reset_dev_vault(vault_env.client())
    code, _, err = run(
        capsys,
        "vault",
        "provision",
        "-C",
        str(tmp_path),
        "--kubernetes-ca-file",
        str(ca_file),
        "--demo-values",
    )
    assert code == 0, err
    assert "warning: --demo-values: 2 secret(s) get the original's publicly known demo values" in err
    assert secret(vault_env, "api-gateway", "dev")["API_KEY"] == "demo-api-key-12345"
    assert secret(vault_env, "auth-adapter", "dev")["JWT_SECRET"] == "demo-jwt-secret"
    assert secret(vault_env, "api-gateway", "staging")["API_KEY"] not in DEMO_VALUES  # development only


def test_no_secret_value_is_ever_printed(
    vault_env: Vault, tmp_path: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets_file = tmp_path / "s.yaml"
    secrets_file.write_text("web-http:\n  staging:\n    PASSWORD: hunter2-from-file\n")
    printed = ""
    for args in (["--dry-run"], ["--dry-run", "-o", "json"], [], ["-o", "json"], ["--overwrite-secrets"]):
        code, out, err = run(
            capsys,
            "vault",
            "provision",
            "-C",
            str(tmp_path),
            "--kubernetes-ca-file",
            str(ca_file),
            "--secrets-file",
            str(secrets_file),
            *args,
        )
        assert code == 0, err
        printed += out + err
    assert "policy gitops-poc-web-http-staging" in printed  # the plan was shown
    values = [v for s, e in PAIRS for v in secret(vault_env, s, e).values() if len(v) > 8]
    assert "hunter2-from-file" in values
    for value in values:
        if value not in PLATFORM.services and value != PLATFORM.service_host("auth-adapter"):
            assert value not in printed
    assert vault_env.token not in printed


def test_dry_run_writes_nothing(
    vault_env: Vault, tmp_path: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "vault", "provision", "-C", str(tmp_path), "--kubernetes-ca-file", str(ca_file), "--dry-run"
    )
    assert code == 0
    assert "47 write(s) planned" in err
    assert "+ role gitops-poc-api-gateway-dev: ServiceAccount api-gateway in poc-dev, audience vault" in err
    client = vault_env.client()
    assert "kubernetes/" not in client.sys.list_auth_methods()["data"]
    assert client.list("secret/metadata/gitops-poc") is None


def test_a_token_without_rights_changes_nothing(
    vault_env: Vault,
    tmp_path: Path,
    ca_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = vault_env.client()
    # Enough to read the state, not to write policies or roles.
    client.sys.create_or_update_acl_policy(
        "reader",
        'path "sys/mounts" { capabilities = ["read"] }\n'
        'path "sys/auth" { capabilities = ["read"] }\n'
        'path "sys/policies/acl" { capabilities = ["list"] }\n'
        'path "secret/metadata/*" { capabilities = ["list", "read"] }\n'
        'path "secret/data/*" { capabilities = ["create"] }\n',
    )
    limited = client.auth.token.create(policies=["reader"], ttl="5m")["auth"]["client_token"]
    monkeypatch.setenv("VAULT_TOKEN", limited)
    code, _, err = run(
        capsys, "vault", "provision", "-C", str(tmp_path), "--kubernetes-ca-file", str(ca_file)
    )
    assert code == 2
    assert "the token lacks rights for sys/auth/kubernetes" in err and "nothing was changed" in err
    assert "kubernetes/" not in client.sys.list_auth_methods()["data"]
    assert client.sys.list_acl_policies()["data"]["keys"] == ["default", "reader", "root"]
    assert client.list("secret/metadata/gitops-poc") is None

    # A token that cannot even read the state.
    nothing = client.auth.token.create(policies=["default"], ttl="5m")["auth"]["client_token"]
    monkeypatch.setenv("VAULT_TOKEN", nothing)
    code, _, err = run(
        capsys, "vault", "provision", "-C", str(tmp_path), "--kubernetes-ca-file", str(ca_file)
    )
    assert code == 2
    assert "the token lacks rights for sys/mounts" in err

    monkeypatch.setenv("VAULT_TOKEN", "not-a-token")
    code, _, err = run(capsys, "vault", "check", "-C", str(tmp_path))
    assert code == 2
    assert "does not accept the token" in err
    assert "not-a-token" not in err


def test_bad_secrets_file_stops_before_vault_is_touched(
    vault_env: Vault, tmp_path: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = {
        "api-gateway:\n  dev:\n    OK: x\nbilling:\n  dev:\n    K: v\n": (
            "s.yaml:4: unknown service 'billing'"
        ),
        "api-gateway:\n  qa:\n    K: v\n": "s.yaml:2: unknown environment 'qa'",
        "api-gateway:\n  dev/x:\n    K: v\n": "s.yaml:2: environment 'dev/x' cannot be part of a Vault path",
        "api-gateway:\n  dev:\n    my-key: v\n": "s.yaml:3: key 'my-key' is not an environment variable name",
    }
    for text, message in cases.items():
        (tmp_path / "s.yaml").write_text(text)
        code, _, err = run(
            capsys,
            "vault",
            "provision",
            "-C",
            str(tmp_path),
            "--kubernetes-ca-file",
            str(ca_file),
            "--secrets-file",
            str(tmp_path / "s.yaml"),
        )
        assert code == 2, text
        assert message in err.replace("\n", " "), (message, err)
    assert "kubernetes/" not in vault_env.client().sys.list_auth_methods()["data"]


def test_missing_ca_is_a_clear_usage_error(
    vault_env: Vault, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "vault", "provision", "-C", str(tmp_path))
    assert code == 2
    assert "--kubernetes-ca-file" in err and "context 'minikube'" in err


def test_dry_run_on_a_fresh_vault_shows_the_plan_without_a_ca(
    vault_env: Vault, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "vault", "provision", "-C", str(tmp_path), "--dry-run")
    assert code == 0, err
    assert "47 write(s) planned" in err
    assert "+ configure kubernetes auth (CA required at apply: pass --kubernetes-ca-file)" in err
    assert "+ role gitops-poc-api-gateway-dev" in err
    code, out, err = run(capsys, "vault", "provision", "-C", str(tmp_path), "--dry-run", "-o", "json")
    assert code == 0, err
    (config,) = [s for s in json.loads(out)["plan"]["steps"] if s["kind"] == "auth-config"]
    assert config["ca_required"] is True and config["ca_fingerprint"] is None
    assert config["host"] == "https://kubernetes.default.svc"
    assert "kubernetes/" not in vault_env.client().sys.list_auth_methods()["data"]
    # The real apply still requires the CA, and stops before writing anything.
    code, _, err = run(capsys, "vault", "provision", "-C", str(tmp_path))
    assert code == 2 and "--kubernetes-ca-file" in err
    assert "kubernetes/" not in vault_env.client().sys.list_auth_methods()["data"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--kubernetes-host",
            "notaurl",
            "--kubernetes-host 'notaurl' is not an http(s):// URL of the API server",
        ),
        (
            "--kubernetes-host",
            "ftp://api:6443",
            "--kubernetes-host 'ftp://api:6443' is not an http(s):// URL",
        ),
        ("--kubernetes-host", "https://", "--kubernetes-host 'https://' is not an http(s):// URL"),
        (
            "--kubernetes-host",
            "https://api:port",
            "--kubernetes-host 'https://api:port' is not an http(s):// URL",
        ),
        ("--kubernetes-host", "", "--kubernetes-host '' is not an http(s):// URL"),
        ("--token-ttl", "0", "--token-ttl '0' is not a positive duration"),
        ("--token-ttl", "0h0m", "--token-ttl '0h0m' is not a positive duration"),
        ("--token-ttl", "-5", "--token-ttl '-5' is not a duration"),
    ],
)
def test_bad_host_or_ttl_is_one_clear_line_before_vault_is_touched(
    vault_env: Vault,
    tmp_path: Path,
    ca_file: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    message: str,
) -> None:
    code, out, err = run(
        capsys, "vault", "provision", "-C", str(tmp_path), "--kubernetes-ca-file", str(ca_file), option, value
    )
    assert code == 2
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]  # one line says it all
    assert message in line
    assert line == err.strip().splitlines()[-1]  # nothing follows: no traceback, no usage screen
    assert out == ""
    assert "kubernetes/" not in vault_env.client().sys.list_auth_methods()["data"]


def test_ca_from_the_kubeconfig(
    vault_env: Vault,
    tmp_path: Path,
    ca_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import base64

    kubeconfig = tmp_path / "kubeconfig"
    data = base64.b64encode(ca_file.read_bytes()).decode()
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: mk\n  cluster:\n    server:"
        f" https://192.168.49.2:8443\n    certificate-authority-data: {data}\ncontexts:\n- name: minikube\n "
        " context:\n    cluster: mk\n    user: mk\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    code, _, err = run(capsys, "vault", "provision", "-C", str(tmp_path))
    assert code == 0, err
    config = vault_env.client().read("auth/kubernetes/config")["data"]
    assert config["kubernetes_host"] == "https://kubernetes.default.svc"
    assert config["kubernetes_ca_cert"].strip() == ca_file.read_text().strip()
    # Later runs keep the CA Vault has when none is given.
    monkeypatch.delenv("KUBECONFIG")
    code, out, err = run(capsys, "vault", "provision", "-C", str(tmp_path), "-o", "json")
    assert code == 0, err
    assert json.loads(out)["writes"] == 0


def test_an_omitted_host_or_ca_keeps_what_vault_has(
    vault_env: Vault,
    tmp_path: Path,
    ca_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provision_json(capsys, tmp_path, ca_file, "--kubernetes-host", "https://10.1.2.3:6443")
    # A kubeconfig whose context holds another CA does not replace the one Vault has either.
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text("-----BEGIN CERTIFICATE-----\nb3RoZXI=\n-----END CERTIFICATE-----\n")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        f"clusters:\n- name: mk\n  cluster:\n    certificate-authority: {other_ca}\n"
        "contexts:\n- name: minikube\n  context:\n    cluster: mk\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    code, out, err = run(capsys, "vault", "provision", "-C", str(tmp_path), "-o", "json")
    assert code == 0, err
    assert json.loads(out)["writes"] == 0
    config = vault_env.client().read("auth/kubernetes/config")["data"]
    assert config["kubernetes_host"] == "https://10.1.2.3:6443"
    assert config["kubernetes_ca_cert"].strip() == ca_file.read_text().strip()
    # Given explicitly, each replaces only itself.
    changed = provision_json(capsys, tmp_path, ca_file, "--kubernetes-host", "https://kubernetes.default.svc")
    assert [s["host"] for s in changed["plan"]["steps"]] == ["https://kubernetes.default.svc"]
    config = vault_env.client().read("auth/kubernetes/config")["data"]
    assert config["kubernetes_ca_cert"].strip() == ca_file.read_text().strip()


def test_rights_are_checked_in_batches_for_large_plans(vault: Vault) -> None:
    from gitops_poc.vault.apply import missing_rights
    from gitops_poc.vault.client import CAPABILITY_BATCH
    from gitops_poc.vault.model import Policy, VaultPlan

    client = vault.client()
    client.sys.create_or_update_acl_policy(
        "some", 'path "sys/policies/acl/p-1*" { capabilities = ["create", "update"] }'
    )
    limited = vault.client(client.auth.token.create(policies=["some"], ttl="5m")["auth"]["client_token"])
    plan = VaultPlan(tuple(Policy(f"p-{i}", "") for i in range(2 * CAPABILITY_BATCH + 50)))
    missing = missing_rights(plan, limited)
    allowed = {f"sys/policies/acl/p-{i}" for i in range(2 * CAPABILITY_BATCH + 50) if str(i).startswith("1")}
    assert len(missing) == len(plan) - len(allowed)
    assert not allowed & set(missing)
    assert missing_rights(plan, client) == []


def test_a_secret_created_between_plan_and_apply_is_kept(vault: Vault, ca_file: Path) -> None:
    from gitops_poc.vault.apply import apply_vault
    from gitops_poc.vault.provision_plan import ProvisionOptions, plan_vault
    from gitops_poc.vault.secrets_file import build_seeds
    from gitops_poc.vault.state import read_vault_state

    client = vault.client()
    plan = plan_vault(
        PLATFORM,
        read_vault_state(client, PLATFORM),
        build_seeds(PLATFORM),
        ProvisionOptions(kubernetes_ca_cert=ca_file.read_text()),
    )
    path = PLATFORM.vault_secret_path("web-grpc", "staging")
    client.secrets.kv.v2.create_or_update_secret(path, {"RACE": "someone else was first"})
    report = apply_vault(plan, client)
    assert [(getattr(step, "path", ""), reason) for step, reason in report.kept] == [
        (path, "created by someone else meanwhile; kept as it is")
    ]
    assert report.writes == len(plan) - 1
    assert secret(vault, "web-grpc", "staging") == {"RACE": "someone else was first"}


def test_two_platforms_share_one_vault_without_touching_each_other(
    vault_env: Vault, tmp_path: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same services, another VAULT_PATH_PREFIX: own policies, own roles, own secrets; neither rewrites the
    other."""
    roots = {"team-a": tmp_path / "a", "team-b": tmp_path / "b"}
    for prefix, root in roots.items():
        root.mkdir()
        (root / ".env").write_text(f"VAULT_PATH_PREFIX={prefix}\nNAMESPACE_PREFIX={prefix}\n")
        assert provision_json(capsys, root, ca_file)["plan"]["counts"]["role"] == 15
    for root in roots.values():
        assert (
            provision_json(capsys, root, ca_file)["writes"] == 0
        )  # the other platform changed none of its names
        code, _, err = run(capsys, "vault", "check", "-C", str(root), "-o", "json")
        assert code == 0, err
    role = vault_env.client().read("auth/kubernetes/role/team-b-web-http-prod")["data"]
    assert role["token_policies"] == ["team-b-web-http-prod"] and role[
        "bound_service_account_namespaces"
    ] == ["team-b-prod"]
    assert len(vault_env.client().list("auth/kubernetes/role")["data"]["keys"]) == 30


def test_the_use_case_runs_without_the_cli(vault: Vault, tmp_path: Path, ca_file: Path) -> None:
    from gitops_poc.vault.provision import ProvisionRequest, provision

    environ = {"VAULT_ADDR": vault.addr, "VAULT_TOKEN": vault.token}
    request = ProvisionRequest(kubernetes_ca_file=ca_file)
    dry, nothing = provision(
        PLATFORM, tmp_path, ProvisionRequest(kubernetes_ca_file=ca_file, dry_run=True), environ
    )
    assert dry.plan.steps and nothing.writes == 0
    assert vault.client().read(f"auth/kubernetes/role/{PLATFORM.vault_role('web-http', 'dev')}") is None
    first, report = provision(PLATFORM, tmp_path, request, environ)
    assert report.writes == len(first.plan) == len(dry.plan)
    assert set(secret(vault, "api-gateway", "dev")) == {k.name for k in ORIGINAL_KEYS["api-gateway"]}
    again, rerun = provision(PLATFORM, tmp_path, request, environ)
    assert again.plan.steps == () and rerun.writes == 0
