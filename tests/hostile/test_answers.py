"""Issue #8, wrong answers: the revision reader's paths, YAML 1.1 keywords as names, broken values hidden by
`plan`, image tags, user text read as Rich markup, null keys in the secrets file, exit codes that lie."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.yamlio import load_all_k8s
from tests.clirun import run_cli, tree

from .conftest import provision_with_secrets

DEV_VALUES = Path("services") / "api-gateway" / ".cicd" / "dev.yaml"


# --- 6. diff --base with the default root ----------------------------------------------------------------
def test_diff_against_a_revision_works_with_the_default_root(platform_root: Path, crash_dir: Path) -> None:
    clean = run_cli(
        "diff", "api-gateway", "--base", "HEAD", "--values-only", cwd=platform_root, tmpdir=crash_dir
    )
    assert clean.code == 0 and "No differences" in clean.err, clean.err
    values = platform_root / DEV_VALUES
    values.write_text(values.read_text().replace("replicas: 1", "replicas: 2"))
    changed = run_cli(
        "diff", "api-gateway", "--base", "HEAD", "--values-only", "--env", "dev", cwd=platform_root
    )
    assert changed.code == 1 and "replicas: 1 -> 2" in changed.out, changed.out + changed.err
    # The same answer from inside the services folder with a relative root.
    nested = run_cli(
        "diff",
        "api-gateway",
        "--base",
        "HEAD",
        "--values-only",
        "--env",
        "dev",
        "-C",
        "..",
        cwd=platform_root / "services",
    )
    assert nested.code == 1 and "replicas: 1 -> 2" in nested.out, nested.err


# --- 7. YAML 1.1 keywords as names -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value", "word"),
    [
        ("SERVICES", "on yes", "on"),
        ("ENVIRONMENTS", "off n", "off"),
        ("ENVIRONMENTS", "dev 0755", "0755"),
        ("NAMESPACE_PREFIX", "no", "no"),
        ("ARGOCD_NAMESPACE", "null", "null"),
        ("GITLAB_AGENT_NAME", "y", "y"),
    ],
)
def test_yaml_keywords_are_refused_as_names(
    tmp_path: Path, crash_dir: Path, key: str, value: str, word: str
) -> None:
    run = run_cli("init", "--yes", "-C", str(tmp_path), env={key: value}, tmpdir=crash_dir)
    run.one_error(2, key, repr(word), "YAML 1.1")
    assert [p for p in tmp_path.iterdir() if p != crash_dir] == []


def test_new_service_refuses_a_yaml_keyword(platform_root: Path, crash_dir: Path) -> None:
    before = tree(platform_root)
    run = run_cli("new-service", "yes", "-C", str(platform_root), "--yes", tmpdir=crash_dir)
    run.one_error(2, "'yes'", "YAML 1.1")
    assert tree(platform_root) == before


def test_generated_yaml_quotes_every_string_yaml_11_would_misread(tmp_path: Path, crash_dir: Path) -> None:
    """A branch named `on` is a fine git branch: it must reach ArgoCD as the text "on", not true."""
    assert run_cli("init", "--yes", "-C", str(tmp_path), env={"GIT_BRANCH": "on"}, tmpdir=crash_dir).code == 0
    revisions, chart_versions = set(), set()
    for path in (tmp_path / "gitops-config").rglob("*.yaml"):
        for doc in load_all_k8s(path.read_text(), str(path)):
            stack = [doc]
            while stack:
                node = stack.pop()
                if isinstance(node, dict):
                    revisions.update(v for k, v in node.items() if k == "targetRevision")
                    chart_versions.update(v for k, v in node.items() if k == "chartVersion")
                    stack.extend(node.values())
                elif isinstance(node, list):
                    stack.extend(node)
    # the branch of every git source; the chart's revision is each environment's chartVersion, a string
    assert revisions == {"on", "{{.chartVersion}}"}
    assert chart_versions == {"3.13.0"}
    lint = run_cli("lint", "-C", str(tmp_path), env={"GIT_BRANCH": "on"}, tmpdir=crash_dir)
    assert lint.code == 0, lint.out + lint.err


def test_managed_keys_are_compared_as_helm_reads_them(platform_root: Path, crash_dir: Path) -> None:
    """`environment: on` reads as true for Helm: init puts the environment's name back, quoted or not."""
    values = platform_root / DEV_VALUES
    values.write_text(values.read_text().replace("environment: dev", "environment: 'dev'"))
    assert run_cli("init", "--check", "-C", str(platform_root), tmpdir=crash_dir).code == 0
    values.write_text(values.read_text().replace("environment: 'dev'", "environment: on"))
    assert run_cli("init", "--yes", "-C", str(platform_root), tmpdir=crash_dir).code == 0
    assert "environment: dev\n" in values.read_text()


# --- 8. plan does not hide a broken values file ----------------------------------------------------------
@pytest.mark.parametrize(
    ("broken", "problem"),
    [("image:\n\ttag: x\n", "line 2"), ("replicas: 1\nreplicas: 2\n", 'duplicate key "replicas"')],
)
def test_plan_reports_a_broken_values_file(
    platform_root: Path, crash_dir: Path, broken: str, problem: str
) -> None:
    (platform_root / DEV_VALUES).write_text(broken)
    run = run_cli("plan", "-C", str(platform_root), tmpdir=crash_dir)
    run.one_error(2, str(platform_root / DEV_VALUES))
    assert problem.split()[-1].strip('"') in run.err


# --- 9. lint checks image.tag ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "tag",
    [
        "$(id)",
        "latest; rm -rf /",
        "1.0\n2.0",
        "{{ .Values }}",
        "x" * 5000,
        "-bad",
        ".bad",
        "1.0@sha256:abc",
        "1.0@",
        "@md5",
    ],
)
def test_lint_refuses_a_tag_that_is_no_oci_tag(platform_root: Path, crash_dir: Path, tag: str) -> None:
    values = platform_root / DEV_VALUES
    text = values.read_text()
    values.write_text(
        text.replace('tag: "0.1.0"', f"tag: {tag!r}".replace("\\n", "\\n"))
        if '"0.1.0"' in text
        else text.replace("tag: 0.1.0", "tag: " + repr(tag))
    )
    assert tag[:5] in values.read_text() or "\\n" in values.read_text()
    run = run_cli("lint", "-C", str(platform_root), tmpdir=crash_dir)
    assert run.code == 1 and "image-tag-invalid" in run.out, run.out + run.err
    assert "Traceback" not in run.text and not run.crash_logs
    assert "x" * 100 not in run.text  # a long tag is cut short in the finding


@pytest.mark.parametrize("tag", ["1.4.2", "v1.0.0-rc.1_build", "1.0@sha256:" + "a" * 64, "main-3f2a9c1"])
def test_lint_accepts_oci_tags_and_digests(platform_root: Path, crash_dir: Path, tag: str) -> None:
    values = platform_root / DEV_VALUES
    text = values.read_text()
    values.write_text(text.replace('tag: "0.1.0"', f'tag: "{tag}"').replace("tag: 0.1.0", f'tag: "{tag}"'))
    run = run_cli("lint", "-C", str(platform_root), tmpdir=crash_dir)
    assert "image-tag-invalid" not in run.out, run.out


# --- 10. user text is never Rich markup ------------------------------------------------------------------
def test_user_values_print_as_written(platform_root: Path, crash_dir: Path) -> None:
    values = platform_root / DEV_VALUES
    text = values.read_text()
    values.write_text(text.replace('tag: "0.1.0"', 'tag: ":x: [red]hidden[/red]"'))
    run = run_cli("lint", "-C", str(platform_root), tmpdir=crash_dir)
    assert ":x: [red]hidden[/red]" in run.out, run.out
    assert "\u274c" not in run.text
    plan = run_cli("plan", "-C", str(platform_root), tmpdir=crash_dir)
    assert ":x: [red]hidden[/red]" in plan.out and "\u274c" not in plan.text, plan.out


def test_errors_print_user_text_as_written(tmp_path: Path, crash_dir: Path) -> None:
    missing = tmp_path / ":x: [bold]b[/bold]"
    run = run_cli("init", "--dry-run", "-C", str(tmp_path), "--env-file", str(missing), tmpdir=crash_dir)
    run.one_error(2, str(missing))
    assert "\u274c" not in run.text


# --- 11. a null key in the secrets file ------------------------------------------------------------------
@pytest.mark.parametrize("key", ["~", "null", ""])
def test_a_null_key_in_the_secrets_file_is_an_error(tmp_path: Path, crash_dir: Path, key: str) -> None:
    secrets, run = provision_with_secrets(
        tmp_path, f"api-gateway:\n  dev:\n    API_KEY: planted-one\n    {key}: planted-two\n", crash_dir
    )
    run.one_error(2, f"{secrets}:4", "null")
    assert "planted" not in run.text


# --- 12. exit codes that lie -----------------------------------------------------------------------------
def test_diff_without_helm_is_exit_2_not_differences(
    platform_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import gitops_poc.render.helm as helm

    monkeypatch.setattr(helm, "CHECKOUT", tmp_path / "no-checkout")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    code = main(["diff", "api-gateway", "--env", "dev", "--against", "prod", "-C", str(platform_root)])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert "helm is not installed" in captured.err


def test_a_failing_helm_template_is_exit_2_not_differences(
    platform_root: Path, crash_dir: Path, helm: str, k8app_repo: str
) -> None:
    values = platform_root / DEV_VALUES
    values.write_text(values.read_text() + "service:\n  ports: 7\n")
    run = run_cli(
        "diff",
        "api-gateway",
        "--env",
        "dev",
        "--against",
        "prod",
        "-C",
        str(platform_root),
        env={"CHART_REPO": k8app_repo},
        tmpdir=crash_dir,
    )
    run.one_error(2, "api-gateway")


def test_exit_codes_are_documented_per_command() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "exit-codes.md").read_text()
    for command in (
        "init",
        "new-service",
        "plan",
        "lint",
        "render",
        "diff",
        "vault provision",
        "vault check",
    ):
        assert f"| `{command}` |" in docs, command
