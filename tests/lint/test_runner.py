"""What lint looks at: the whole platform, or only the paths given; bad input vs findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform

from .helpers import SEED, lint, of_rule, write

REPO_ROOT = Path(__file__).resolve().parents[2]
WEB_HTTP = "services/web-http/.cicd"


def test_the_committed_platform_is_clean(default_platform: Platform) -> None:
    assert lint(default_platform, REPO_ROOT) == []


def test_a_generated_platform_is_clean(generated_root: Path, default_platform: Platform) -> None:
    assert lint(default_platform, generated_root) == []


def test_vault_delivery_keys_lint_clean(generated_root: Path, default_platform: Platform) -> None:
    write(
        generated_root,
        f"{WEB_HTTP}/default.yaml",
        (
            "appName: web-http\n"
            "serviceAccountName: web-http\n"
            "secretsProvider:\n  provider: vault\n  vault:\n"
            "    authRef: web-http-vault-auth\n    mount: secret\n"
            "secrets:\n  API_KEY: gitops-poc/web-http/{env}/config\n"
            "service:\n  enabled: true\n  type: ClusterIP\n  ports:\n"
            "    http:\n      externalPort: 9092\n      internalPort: 9092\n"
        ),
    )
    assert lint(default_platform, generated_root) == []


def test_paths_limit_the_findings(default_platform: Platform) -> None:
    everything = lint(default_platform, SEED)
    service = lint(default_platform, SEED, SEED / "services/web-http")
    assert service == [f for f in everything if f.file.startswith("services/web-http/")]
    one_file = lint(default_platform, SEED, SEED / "services/web-http/.cicd/prod.yaml")
    assert one_file and {f.file for f in one_file} == {"services/web-http/.cicd/prod.yaml"}
    argocd = lint(default_platform, SEED, SEED / "gitops-config")
    assert argocd == [f for f in everything if f.file.startswith("gitops-config/")]
    assert lint(default_platform, SEED, SEED) == everything


def test_references_resolve_against_services_outside_the_paths(
    generated_root: Path, default_platform: Platform
) -> None:
    path = generated_root / WEB_HTTP / "default.yaml"
    path.write_text(path.read_text() + "  UPSTREAM_URIS: grpc://web-grpc-sv:9999\n")
    findings = lint(default_platform, generated_root, generated_root / "services/web-http")
    assert [f.rule_id for f in findings] == ["reference-wrong-port"]
    assert "9091" in findings[0].message


def test_a_syntax_error_is_a_finding_and_the_rest_is_still_linted(
    generated_root: Path, default_platform: Platform
) -> None:
    write(generated_root, f"{WEB_HTTP}/dev.yaml", "environment: dev\nimage: {repository: x\n")
    write(
        generated_root,
        "services/web-grpc/.cicd/prod.yaml",
        (generated_root / "services/web-grpc/.cicd/prod.yaml").read_text() + "labels: {a: b}\n",
    )
    findings = lint(default_platform, generated_root)
    (syntax,) = of_rule(findings, "yaml-syntax")
    assert (syntax.file, syntax.line) == (f"{WEB_HTTP}/dev.yaml", 3)
    assert of_rule(findings, "labels-unsupported")


def test_a_broken_applicationset_is_a_finding(generated_root: Path, default_platform: Platform) -> None:
    write(generated_root, "gitops-config/argocd/applicationset.yaml", "spec:\n  template: [\n")
    (finding,) = lint(default_platform, generated_root)
    assert (finding.rule_id, finding.line) == ("yaml-syntax", 3)


def test_unusable_input_raises(tmp_path: Path, generated_root: Path, default_platform: Platform) -> None:
    with pytest.raises(UsageError, match="not a platform root"):
        lint(default_platform, tmp_path)
    with pytest.raises(UsageError, match="no such folder"):
        lint(default_platform, tmp_path / "missing")
    with pytest.raises(UsageError, match="no such file"):
        lint(default_platform, generated_root, generated_root / "services/nope")
    (tmp_path / "notes").mkdir()
    with pytest.raises(UsageError, match="neither a service folder"):
        lint(default_platform, generated_root, tmp_path / "notes")


def test_findings_are_sorted_and_unique(default_platform: Platform) -> None:
    findings = lint(default_platform, SEED)
    assert findings == sorted(set(findings), key=lambda f: f.sort_key())


def test_a_service_is_checked_against_only_the_platform_files_that_can_name_it(
    generated_root: Path, default_platform: Platform
) -> None:
    """Linting one service looks its ServiceAccount and VaultAuth up by name, parsing only the files whose
    text holds that name: another service's broken file neither hides a missing ServiceAccount nor is parsed
    (linting gitops-config/ still reports it)."""
    own = generated_root / "gitops-config/platform/dev/web-http.yaml"
    own.write_text(own.read_text().replace("name: web-http\n", "name: web-http-renamed\n", 1))
    write(generated_root, "gitops-config/platform/dev/web-grpc.yaml", "kind: [\n")
    findings = lint(default_platform, generated_root, generated_root / "services/web-http")
    assert [(f.rule_id, f.message) for f in findings] == [
        (
            "platform-service-account-missing",
            "serviceAccountName web-http in dev: gitops-config/platform/dev/ creates no such ServiceAccount",
        )
    ]
    whole = of_rule(lint(default_platform, generated_root), "platform-object-invalid")
    assert [f.file for f in whole] == ["gitops-config/platform/dev"]


def test_a_broken_file_that_may_hold_the_name_leaves_the_references_unjudged(
    generated_root: Path, default_platform: Platform
) -> None:
    broken = "kind: ServiceAccount\nname: web-http: [\n"
    write(generated_root, "gitops-config/platform/dev/web-http.yaml", broken)
    assert lint(default_platform, generated_root, generated_root / "services/web-http") == []


def test_a_name_written_with_escapes_is_found(generated_root: Path, default_platform: Platform) -> None:
    own = generated_root / "gitops-config/platform/dev/web-http.yaml"
    own.write_text(own.read_text().replace("name: web-http\n", "name: web-http-renamed\n", 1))
    by_hand = (
        'kind: ServiceAccount\napiVersion: v1\nmetadata:\n  name: "web\\x2dhttp"\n  namespace: poc-dev\n'
    )
    write(generated_root, "gitops-config/platform/dev/zz-by-hand.yaml", by_hand)
    assert lint(default_platform, generated_root, generated_root / "services/web-http") == []
