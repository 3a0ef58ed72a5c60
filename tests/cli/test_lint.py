"""`gitops-poc lint`: exit codes, text and JSON output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitops_poc.cli import main

SEED = Path(__file__).resolve().parents[1] / "lint" / "fixtures" / "seed"


@pytest.fixture
def charts(helm: str, cached_platform_charts: dict[str, str]) -> None:
    """The pinned charts on loopback: lint checks the custom resources against their CRDs."""


def test_clean_platform_exits_0(
    charts: None, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lint", "-C", str(generated_root)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "0 error(s), 0 warning(s)" in captured.err


def test_errors_exit_1_grouped_by_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "-C", str(SEED), str(SEED / "services/api-gateway/.cicd/prod.yaml")]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "services/api-gateway/.cicd/prod.yaml"
    assert (
        "  services/api-gateway/.cicd/prod.yaml:36: error pdb-both-limits pdb renders minAvailable: 2 and "
        "maxUnavailable: 1 (the chart default); the API server rejects a PDB with both "
        "(hint: add `maxUnavailable: null` under pdb)" in lines
    )


def test_warnings_alone_exit_0_and_severity_filter_hides_them(
    charts: None, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = generated_root / "services/web-http/.cicd/default.yaml"
    path.write_text(path.read_text() + "nodeSelector: {}\n")
    assert main(["lint", "-C", str(generated_root)]) == 0
    assert "warning chart-dead-key" in capsys.readouterr().out
    assert main(["lint", "-C", str(generated_root), "--severity", "error"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "0 error(s), 1 warning(s)" in captured.err


def test_json_output(charts: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "-C", str(SEED), "--output", "json", str(SEED / "gitops-config")]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"] == {"errors": 2, "warnings": 1, "files": 1}
    first = data["findings"][0]
    assert set(first) == {"rule_id", "severity", "file", "line", "message", "hint"}
    assert {(f["rule_id"], f["severity"], f["line"]) for f in data["findings"]} == {
        ("argocd-chart-unpinned", "error", 49),
        ("argocd-prod-auto-sync", "error", 61),
        ("argocd-ignore-differences", "warning", 68),
    }


def test_yaml_syntax_error_exits_1_with_its_line(
    charts: None, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (generated_root / "services/web-http/.cicd/dev.yaml").write_text("environment: dev\n  image: x\n")
    assert main(["lint", "-C", str(generated_root), "-o", "json"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["rule_id"], finding["file"], finding["line"]) == (
        "yaml-syntax",
        "services/web-http/.cicd/dev.yaml",
        2,
    )


def test_unusable_input_exits_2(
    tmp_path: Path, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lint", "-C", str(tmp_path)]) == 2
    assert "not a platform root" in capsys.readouterr().err
    assert main(["lint", "-C", str(generated_root), str(generated_root / "nope")]) == 2
    assert "no such file" in capsys.readouterr().err
    (generated_root / ".env").write_text("SERVICES=Bad_Name\n")
    assert main(["lint", "-C", str(generated_root)]) == 2
    assert "SERVICES" in capsys.readouterr().err


def test_env_file_option_changes_what_is_expected(
    generated_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / "other.env"
    env.write_text('ENVIRONMENTS="dev staging prod qa"\n')
    assert main(["lint", "-C", str(generated_root), "--env-file", str(env), "-o", "json"]) == 1
    rules = {f["rule_id"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert {"env-file-missing", "argocd-env-missing"} <= rules


def test_help_describes_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--output" in out and "--severity" in out and "Exit 0" in out


def test_lint_copied_seed_to_a_new_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "seed"
    shutil.copytree(SEED, root)
    assert main(["lint", "-C", str(root), "-o", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["summary"]["errors"] > 0


def test_custom_resources_are_checked_against_the_crds_of_the_pinned_charts(
    charts: None, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A planted invalid Application (platform.yaml, second document), AppProject and VaultAuth: each is an
    error at the file and line of the field, naming the object and the field."""
    platform_apps = generated_root / "gitops-config/argocd/platform.yaml"
    text = platform_apps.read_text()
    first, rest = text.split("\n---\n", 1)
    platform_apps.write_text(first + "\n---\n" + rest.replace("limit: 10", "limit: ten", 1))
    project = generated_root / "gitops-config/argocd/project.yaml"
    project.write_text(project.read_text().replace("sourceRepos:", "sourceRepo:", 1))
    auth = generated_root / "gitops-config/platform/prod/web-http.yaml"
    auth.write_text(auth.read_text().replace("method: kubernetes", "method: kubernets"))
    assert main(["lint", "-C", str(generated_root), "-o", "json"]) == 1
    found = {
        (f["file"], f["line"], f["message"])
        for f in json.loads(capsys.readouterr().out)["findings"]
        if f["rule_id"] == "crd-invalid"
    }
    apps_text, project_text, auth_text = platform_apps.read_text(), project.read_text(), auth.read_text()
    second_limit = apps_text.splitlines().index("      limit: ten") + 1
    assert found == {
        (
            "gitops-config/argocd/platform.yaml",
            second_limit,
            "Application/platform-staging: spec.syncPolicy.retry.limit: 'ten' is not of type 'integer'"
            " (CRD of argo-cd 10.1.1)",
        ),
        (
            "gitops-config/argocd/project.yaml",
            project_text.splitlines().index("  sourceRepo:") + 1,
            "AppProject/gitops-poc: spec.sourceRepo: Additional properties are not allowed ('sourceRepo' was"
            " unexpected)"
            " (CRD of argo-cd 10.1.1)",
        ),
        (
            "gitops-config/platform/prod/web-http.yaml",
            auth_text.splitlines().index("  method: kubernets") + 1,
            "VaultAuth/web-http-vault-auth: spec.method: 'kubernets' is not one of ['kubernetes', 'jwt',"
            " 'appRole', 'aws', 'gcp']"
            " (CRD of vault-secrets-operator 1.4.1)",
        ),
    }


def test_an_api_version_the_crds_do_not_serve_is_an_error(
    charts: None, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    auth = generated_root / "gitops-config/platform/dev/web-http.yaml"
    auth.write_text(auth.read_text().replace("secrets.hashicorp.com/v1beta1", "secrets.hashicorp.com/v1"))
    assert main(["lint", "-C", str(generated_root)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "gitops-config/platform/dev/web-http.yaml:15: error crd-invalid VaultAuth/web-http-vault-auth:"
        " secrets.hashicorp.com/v1: vault-secrets-operator 1.4.1 serves VaultAuth only as"
        " secrets.hashicorp.com/v1beta1" in out
    )


def test_crds_that_cannot_be_had_are_one_warning_not_silence(
    helm: str, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The default repositories are the public ones, unreachable here: the pull fails, lint says so.
    assert main(["lint", "-C", str(generated_root), "-o", "json"]) == 0
    [finding] = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["rule_id"], finding["severity"]) == ("crd-schema-unavailable", "warning")
    assert finding["message"].startswith("20 custom resource(s) not checked against a CRD: ")
    assert "vault-secrets-operator 1.4.1: cannot pull chart" in finding["message"]


def test_a_service_path_alone_needs_no_crds(
    generated_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the CRDs are loaded only when gitops-config/ is linted")

    monkeypatch.setattr("gitops_poc.render.crds.load_crd_schemas", refuse)
    assert main(["lint", "-C", str(generated_root), str(generated_root / "services/web-http")]) == 0
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().err
