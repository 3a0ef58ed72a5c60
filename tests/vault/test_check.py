"""`vault check` with real kubernetes-auth logins: Vault asks a stand-in API server (TokenReview) about
ServiceAccount tokens, so role name, namespace and audience binding are enforced by Vault itself."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.platform import Platform
from gitops_poc.vault.check import Identity, Outcome, check_vault

from .bao import Vault, fake_service_account_jwt

pytestmark = pytest.mark.vault

PLATFORM = Platform(load_config(None, {}))

FAKE_KUBECTL = """#!{python} -S
# Stand-in for `kubectl --namespace=NS create token SA --audience=AUD`: prints a ServiceAccount-shaped JWT
# (the same shape as bao.fake_service_account_jwt; stdlib only, so it starts fast).
import base64, json, sys
args = sys.argv[1:]
opts = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
ns, sa, aud = opts["namespace"], args[args.index("token") + 1], opts["audience"]
def enc(d): return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
claims = {{"aud": [aud], "sub": f"system:serviceaccount:{{ns}}:{{sa}}",
          "kubernetes.io": {{"namespace": ns, "serviceaccount": {{"name": sa, "uid": "uid-" + sa}}}}}}
print(enc({{"alg": "RS256"}}) + "." + enc(claims) + ".c2ln")
"""


def provision(root: Path, ca_file: Path, kube_api: str) -> None:
    args = [
        "vault",
        "provision",
        "-C",
        str(root),
        "--kubernetes-ca-file",
        str(ca_file),
        "--kubernetes-host",
        kube_api,
    ]
    assert main(args) == 0


def test_real_logins_prove_each_identity(
    vault_env: Vault, kube_api: str, ca_file: Path, tmp_path: Path
) -> None:
    provision(tmp_path, ca_file, kube_api)
    client = vault_env.client()
    report = check_vault(PLATFORM, client, identity=Identity.KUBERNETES, jwt_source=fake_service_account_jwt)
    assert report.ok, (report.leaks, report.failures)
    for result in report.results:
        assert result.default_login is Outcome.DENIED  # the namespace's `default` ServiceAccount is refused
        assert [t for t, o in result.reads.items() if o is Outcome.READ] == [(result.service, result.env)]

    # The original's binding: `default` accepted too. Vault now lets `default` in, and the check says so.
    client.write_data(
        "auth/kubernetes/role/gitops-poc-web-http-prod",
        data={"bound_service_account_names": ["web-http", "default"]},
    )
    report = check_vault(PLATFORM, client, identity=Identity.KUBERNETES, jwt_source=fake_service_account_jwt)
    assert "the `default` ServiceAccount can log in with gitops-poc-web-http-prod" in report.leaks
    assert "gitops-poc-web-http-prod accepts ServiceAccount 'default'" in report.leaks


def test_cli_kubernetes_identity_uses_kubectl_tokens(
    vault_env: Vault,
    kube_api: str,
    ca_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provision(tmp_path, ca_file, kube_api)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL.format(python=sys.executable))
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    capsys.readouterr()
    assert main(["vault", "check", "-C", str(tmp_path), "--identity", "kubernetes", "-o", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["identity"] == "kubernetes" and report["ok"] is True
    assert {row["default_login"] for row in report["matrix"]} == {"denied"}


def test_a_role_without_audience_is_a_leak(
    vault_env: Vault, kube_api: str, ca_file: Path, tmp_path: Path
) -> None:
    provision(tmp_path, ca_file, kube_api)
    client = vault_env.client()
    client.write_data("auth/kubernetes/role/gitops-poc-health-demo-dev", data={"audience": ""})

    # Vault now accepts the service's token whatever it was minted for...
    def other_audience(ns: str, sa: str, aud: str) -> str:
        return fake_service_account_jwt(ns, sa, "some-other-api")

    report = check_vault(PLATFORM, client, identity=Identity.KUBERNETES, jwt_source=other_audience)
    assert [r.role for r in report.results if not r.failures] == [
        "gitops-poc-health-demo-dev"
    ]  # every other role refuses it
    # ...and the check flags the binding.
    assert (
        "gitops-poc-health-demo-dev binds no audience: a token of that ServiceAccount meant for anything is"
        " accepted" in report.leaks
    )


def test_kubectl_missing_is_a_usage_error(
    vault_env: Vault, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["vault", "check", "-C", str(tmp_path), "--identity", "kubernetes"]) == 2
    assert "kubectl is not on PATH" in capsys.readouterr().err


@pytest.mark.parametrize("identity", [Identity.POLICY, Identity.KUBERNETES])
def test_bulk_capabilities_give_the_pairwise_verdicts(
    vault_env: Vault, kube_api: str, ca_file: Path, tmp_path: Path, identity: Identity
) -> None:
    """The same report from one capabilities call per identity as from one real request per pair: on a
    clean platform, and after the original's mistakes (a policy over every service's secrets, a role that
    also lists the folder, a deleted own secret, a policy missing entirely)."""
    provision(tmp_path, ca_file, kube_api)
    client = vault_env.client()

    def both() -> tuple[dict[str, object], dict[str, object]]:
        kwargs = {"identity": identity, "jwt_source": fake_service_account_jwt}
        bulk = check_vault(PLATFORM, client, **kwargs).as_json()  # type: ignore[arg-type]
        pairwise = check_vault(PLATFORM, client, pairwise=True, **kwargs).as_json()  # type: ignore[arg-type]
        return bulk, pairwise

    bulk, pairwise = both()
    assert bulk == pairwise and bulk["ok"] is True

    client.sys.create_or_update_acl_policy(
        "gitops-poc-web-grpc-dev",
        'path "secret/data/gitops-poc/*" { capabilities = ["read", "update", "create"] }',
    )
    client.sys.create_or_update_acl_policy(
        "gitops-poc-api-gateway-prod",
        'path "secret/data/gitops-poc/api-gateway/prod/*" { capabilities = ["read"] }\n'
        'path "secret/metadata/gitops-poc" { capabilities = ["list"] }\n'
        'path "secret/metadata/gitops-poc/*" { capabilities = ["list"] }',
    )
    client.sys.delete_policy("gitops-poc-health-demo-staging")
    client.secrets.kv.v2.delete_metadata_and_all_versions(PLATFORM.vault_secret_path("web-http", "dev"))
    bulk, pairwise = both()
    assert bulk == pairwise
    assert "gitops-poc-web-grpc-dev can read api-gateway/prod" in bulk["leaks"]  # type: ignore[operator]
    assert "gitops-poc-web-grpc-dev can write its own secret" in bulk["leaks"]  # type: ignore[operator]
    assert "gitops-poc-api-gateway-prod can list every service's secrets" in bulk["leaks"]  # type: ignore[operator]
    assert any("web-http-dev cannot read its own secret" in f for f in bulk["failures"])  # type: ignore[attr-defined]
    assert any("health-demo-staging" in f for f in bulk["failures"])  # type: ignore[attr-defined]


@pytest.mark.parametrize("identity", [Identity.POLICY, Identity.KUBERNETES])
def test_grants_outside_the_generated_policies_are_seen(
    vault_env: Vault, kube_api: str, ca_file: Path, tmp_path: Path, identity: Identity
) -> None:
    """The bulk check asks Vault once per set of non-generated policies (here `default` and the foreign
    ones) for every path: a grant there reaches every identity holding it, exactly as pairwise finds."""
    provision(tmp_path, ca_file, kube_api)
    client = vault_env.client()
    default_rules = client.sys.read_acl_policy("default")["data"]["policy"]
    kwargs = {"identity": identity, "jwt_source": fake_service_account_jwt}
    try:
        # `default` (every token holds it) lets everyone read one secret ...
        client.sys.create_or_update_acl_policy(
            "default",
            default_rules
            + f'\npath "{PLATFORM.vault_data_path("web-http", "prod")}" {{ capabilities = ["read"] }}\n',
        )
        # ... a role also carries another pair's generated policy, and another a foreign policy.
        client.sys.create_or_update_acl_policy(
            "extra-reader", 'path "secret/data/gitops-poc/api-gateway/+/*" { capabilities = ["read"] }'
        )
        client.write_data(
            "auth/kubernetes/role/gitops-poc-health-demo-dev",
            data={"token_policies": ["gitops-poc-health-demo-dev", "gitops-poc-web-grpc-staging"]},
        )
        client.write_data(
            "auth/kubernetes/role/gitops-poc-web-grpc-prod",
            data={"token_policies": ["gitops-poc-web-grpc-prod", "extra-reader"]},
        )
        bulk = check_vault(PLATFORM, client, **kwargs).as_json()  # type: ignore[arg-type]
        pairwise = check_vault(PLATFORM, client, pairwise=True, **kwargs).as_json()  # type: ignore[arg-type]
    finally:
        client.sys.create_or_update_acl_policy("default", default_rules)
        client.sys.delete_acl_policy("extra-reader")
    assert bulk == pairwise
    leaks: list[str] = bulk["leaks"]  # type: ignore[assignment]
    readers = {leak.split()[0] for leak in leaks if leak.endswith("can read web-http/prod")}
    assert len(readers) == len(PLATFORM.services) * len(PLATFORM.environments) - 1  # all but its owner
    assert "gitops-poc-health-demo-dev can read web-grpc/staging" in leaks
    assert {f"gitops-poc-web-grpc-prod can read api-gateway/{env}" for env in PLATFORM.environments} <= set(
        leaks
    )


def test_bulk_check_asks_vault_linearly(
    vault_env: Vault, kube_api: str, ca_file: Path, tmp_path: Path
) -> None:
    """Paths sent to sys/capabilities-self grow with identities + paths, not identities x paths."""
    provision(tmp_path, ca_file, kube_api)
    client = vault_env.client()
    asked: list[int] = []

    def count(response: object, *args: object, **kwargs: object) -> None:
        request = response.request  # type: ignore[attr-defined]
        if request.url.endswith("/v1/sys/capabilities-self"):
            asked.append(len(json.loads(request.body)["paths"]))

    client.session.hooks["response"].append(count)
    report = check_vault(PLATFORM, client)
    assert report.ok
    identities = len(report.targets)
    assert sum(asked) <= identities + 3 * identities < identities * identities


def test_a_caller_that_cannot_create_tokens_still_gets_the_exact_answer(
    vault_env: Vault, kube_api: str, ca_file: Path, tmp_path: Path
) -> None:
    """Real logins need no token creation: a caller allowed only to read roles and policies gets each
    identity's capabilities on every path from the identity's own token instead of the shared answer."""
    provision(tmp_path, ca_file, kube_api)
    admin = vault_env.client()
    admin.sys.create_or_update_acl_policy(
        "check-reader",
        'path "sys/auth" { capabilities = ["read"] }\n'
        'path "auth/kubernetes/role" { capabilities = ["list"] }\n'
        'path "auth/kubernetes/role/*" { capabilities = ["read"] }\n'
        'path "sys/policies/acl" { capabilities = ["list"] }\n'
        'path "sys/policies/acl/*" { capabilities = ["read"] }\n',
    )
    admin.sys.create_or_update_acl_policy(
        "gitops-poc-auth-adapter-dev",
        f'path "{PLATFORM.vault_data_path("auth-adapter", "dev")}" {{ capabilities = ["read"] }}\n'
        f'path "{PLATFORM.vault_data_path("web-http", "dev")}" {{ capabilities = ["read"] }}\n',
    )
    token = admin.auth.token.create(policies=["check-reader"], ttl="5m")["auth"]["client_token"]
    try:
        reader = vault_env.client(token)
        kwargs = {"identity": Identity.KUBERNETES, "jwt_source": fake_service_account_jwt}
        bulk = check_vault(PLATFORM, reader, **kwargs).as_json()  # type: ignore[arg-type]
        pairwise = check_vault(PLATFORM, reader, pairwise=True, **kwargs).as_json()  # type: ignore[arg-type]
    finally:
        admin.sys.delete_acl_policy("check-reader")
    assert bulk == pairwise
    assert bulk["leaks"] == ["gitops-poc-auth-adapter-dev can read web-http/dev"]


def test_the_issued_policies_are_compared_with_the_role() -> None:
    from gitops_poc.vault.check import Issued, _token_policies
    from gitops_poc.vault.model import RoleState

    role = RoleState(("web-http",), ("poc-dev",), "", ("gitops-poc-web-http-dev",), "vault", 3600)
    as_granted = Issued("t", ("default", "gitops-poc-web-http-dev"), identity_policies=("team-readers",))
    policies, problems = _token_policies(as_granted, "gitops-poc-web-http-dev", role)
    # The entity's policies are part of the token's ACL, so they count in what is asked of Vault.
    assert policies == {"default", "gitops-poc-web-http-dev", "team-readers"} and problems == []
    wider = Issued("t", ("default", "gitops-poc-web-http-dev", "admin"))
    _, problems = _token_policies(wider, "gitops-poc-web-http-dev", role)
    assert problems == [
        "the token of gitops-poc-web-http-dev carries policies"
        " ['admin', 'default', 'gitops-poc-web-http-dev'], expected ['default', 'gitops-poc-web-http-dev']"
    ]
