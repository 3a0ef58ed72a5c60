"""`gitops-poc diff` end to end: real git repositories, real helm, the published chart from CHART_REPO."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from gitops_poc.cli import main

pytestmark = pytest.mark.helm
CI_TAG = "3f2c1ab9"
REPO_ROOT = (
    Path(__file__).resolve().parents[2]
)  # the committed platform  # what CI writes into dev.yaml after a build


@pytest.fixture(autouse=True)
def _private_chart_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", ".")
    git(repo, "commit", "-qm", message)


def set_tag(values_file: Path, tag: str) -> None:
    text = values_file.read_text()
    assert '  tag: "0.1.0"' in text
    values_file.write_text(text.replace('  tag: "0.1.0"', f'  tag: "{tag}"'))


def changed_lines(out: str) -> set[str]:
    """`-x: 1` / `+x: 2` lines of the unified diffs, indentation dropped."""
    return {
        line[0] + line[1:].strip()
        for line in out.splitlines()
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    }


def diff(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_dev_against_prod_shows_replicas_resources_and_image(
    helm: str, k8app_env: str, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_tag(generated_root / "services/api-gateway/.cicd/dev.yaml", CI_TAG)
    code, out, _ = diff(capsys, "api-gateway", "--env", "dev", "--against", "prod", "-C", str(generated_root))
    assert code == 1
    assert "=== api-gateway: prod -> dev" in out
    # values level
    assert "~ replicas: 3 -> 1" in out
    assert '~ resources.limits.cpu: "2" -> "500m"' in out
    assert '~ resources.requests.memory: "512Mi" -> "128Mi"' in out
    assert f'~ image.tag: "0.1.0" -> "{CI_TAG}"' in out
    assert "- hpa: " in out and "- pdb: " in out
    # manifest level
    assert "~ Deployment/api-gateway (changed)" in out
    assert "- HorizontalPodAutoscaler/api-gateway (removed)" in out
    assert "--- prod/Deployment/api-gateway\n+++ dev/Deployment/api-gateway\n" in out
    lines = changed_lines(out)
    assert "-image: registry.gitlab.com/gitops-poc/api-gateway:0.1.0" in lines
    assert f"+image: registry.gitlab.com/gitops-poc/api-gateway:{CI_TAG}" in lines
    assert "+replicas: 1" in lines
    assert {"-cpu: '2'", "+cpu: 500m", "-memory: 512Mi", "+memory: 128Mi"} <= lines


def test_json_output_for_scripts(
    helm: str, k8app_env: str, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = diff(
        capsys, "web-http", "--env", "staging", "--against", "prod", "-C", str(generated_root), "-o", "json"
    )
    assert code == 1
    data = json.loads(out)
    assert data["changed"] is True
    [report] = data["reports"]
    assert (report["base"], report["head"]) == ("prod", "staging")
    by_path = {c["path"]: c for c in report["values"]}
    assert by_path["replicas"] == {"path": "replicas", "change": "changed", "old": 3, "new": 2}
    assert {m["manifest"]: m["change"] for m in report["manifests"]}[
        "HorizontalPodAutoscaler/web-http"
    ] == "removed"


def test_two_commits_of_a_standalone_service_repository(
    helm: str, k8app_env: str, generated_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = tmp_path / "clone"
    shutil.copytree(generated_root / "services/web-grpc", clone)
    git(clone, "init", "-q")
    commit_all(clone, "initial")
    set_tag(clone / ".cicd/dev.yaml", CI_TAG)
    commit_all(clone, "ci(dev): web-grpc 3f2c1ab9 [skip ci]")

    code, out, _ = diff(
        capsys,
        "web-grpc",
        "--env",
        "dev",
        "--base",
        "HEAD~1",
        "--head",
        "HEAD",
        "-C",
        str(generated_root),
        "--service-dir",
        str(clone),
    )
    assert code == 1
    assert "=== web-grpc: dev@HEAD~1 -> dev@HEAD" in out
    assert f'~ image.tag: "0.1.0" -> "{CI_TAG}"' in out
    assert "Values: 1 change(s)" in out
    assert "--- dev@HEAD~1/Deployment/web-grpc\n+++ dev@HEAD/Deployment/web-grpc\n" in out
    lines = changed_lines(out)
    assert f"+image: registry.gitlab.com/gitops-poc/web-grpc:{CI_TAG}" in lines
    assert f"+appver: {CI_TAG}" in lines  # the label follows the tag: every object carrying it changes
    # The working tree equals HEAD; identical revisions are no difference at all.
    assert (
        diff(
            capsys,
            "web-grpc",
            "--env",
            "dev",
            "--base",
            "HEAD",
            "-C",
            str(generated_root),
            "--service-dir",
            str(clone),
        )[0]
        == 0
    )
    code, _, err = diff(
        capsys,
        "web-grpc",
        "--env",
        "dev",
        "--base",
        "HEAD",
        "--head",
        "HEAD",
        "--service-dir",
        str(clone),
        "-C",
        str(generated_root),
    )
    assert code == 0 and "No differences: web-grpc dev@HEAD -> dev@HEAD" in err


def test_service_folder_inside_the_platform_repository_and_every_environment(
    helm: str, k8app_env: str, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(generated_root, "init", "-q")
    commit_all(generated_root, "platform")
    set_tag(generated_root / "services/health-demo/.cicd/prod.yaml", "1.2.3")  # uncommitted: the working tree
    code, out, _ = diff(capsys, "health-demo", "--base", "HEAD", "-C", str(generated_root))
    assert code == 1
    assert "=== health-demo: prod@HEAD -> prod" in out
    assert "dev@HEAD" not in out and "staging@HEAD" not in out  # unchanged environments print nothing
    assert "+image: registry.gitlab.com/gitops-poc/health-demo:1.2.3" in changed_lines(out)


def test_without_the_chart_values_are_still_compared(
    helm: str, generated_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHART_REPO", "http://127.0.0.1:9/")
    code, out, err = diff(
        capsys, "auth-adapter", "--env", "dev", "--against", "staging", "-C", str(generated_root)
    )
    assert code == 1
    assert "~ replicas: 2 -> 1" in out
    assert "Manifests: not compared (chart unavailable)" in out
    assert "note: cannot pull chart app 3.13.0" in err


def test_identical_environments_exit_0(generated_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = diff(
        capsys, "web-http", "--env", "dev", "--against", "dev", "-C", str(generated_root), "--values-only"
    )
    assert code == 0 and out == "" and "No differences" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["web-http"], "give either --env ENV --against ENV2"),
        (["web-http", "--env", "dev", "--against", "prod", "--base", "HEAD"], "give either"),
        (["web-http", "--against", "prod"], "--against needs --env"),
        (["web-http", "--env", "dev", "--against", "prod", "--head", "HEAD"], "--head needs --base"),
        (["web-http", "--env", "qa", "--against", "prod"], "unknown environment 'qa'"),
        (["billing", "--env", "dev", "--against", "prod"], "unknown service 'billing'"),
    ],
)
def test_bad_options_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = diff(capsys, *args, "-C", str(tmp_path))  # checked before any file is read
    assert code == 2 and message in err


def test_unknown_revision_and_no_repository_exit_2(
    generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = diff(capsys, "web-http", "--base", "HEAD", "-C", str(generated_root))
    assert code == 2 and "is not inside a git repository" in err
    git(generated_root, "init", "-q")
    commit_all(generated_root, "platform")
    code, _, err = diff(capsys, "web-http", "--base", "no-such-branch", "-C", str(generated_root))
    assert code == 2 and "unknown git revision 'no-such-branch'" in err


def test_help_describes_both_modes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--env staging --against prod" in text and "--env dev --base main --head HEAD" in text
    assert "--chart-version 3.12.1" in text


def chart_lines(out: str) -> set[str]:
    """Changed lines other than the labels naming the chart version (`chart`, and `helm.sh/chart` on the
    ConfigMaps)."""
    return {
        line for line in changed_lines(out) if not line[1:].startswith(("chart: app-", "helm.sh/chart: app-"))
    }


def test_chart_upgrade_preview_of_one_service_shows_only_the_chart_label(
    helm: str, k8app_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The committed platform, as a platform team would run it before bumping CHART_VERSION.
    code, out, err = diff(capsys, "health-demo", "--chart-version", "3.12.1", "-C", str(REPO_ROOT))
    assert code == 1, err
    for env in ("dev", "staging", "prod"):
        assert f"=== health-demo: {env}@app-3.13.0 -> {env}@app-3.12.1" in out
        assert (
            f"--- {env}@app-3.13.0/Deployment/health-demo\n+++ {env}@app-3.12.1/Deployment/health-demo" in out
        )
    assert {"-chart: app-3.13.0", "+chart: app-3.12.1"} <= changed_lines(out)
    assert chart_lines(out) == set()  # 3.12.1 lacks NOTES.txt and renders extra blank lines: formatting only
    assert "Values: 0 change(s)" in out
    assert "Pulling chart app 3.12.1" in err


def test_chart_upgrade_preview_of_every_service_for_scripts(
    helm: str, k8app_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = diff(
        capsys, "--all", "--chart-version", "3.12.1", "--env", "prod", "-C", str(REPO_ROOT), "-o", "json"
    )
    assert code == 1
    data = json.loads(out)
    services = ["api-gateway", "auth-adapter", "web-grpc", "web-http", "health-demo"]
    assert [(r["service"], r["base"], r["head"]) for r in data["reports"]] == [
        (s, "prod@app-3.13.0", "prod@app-3.12.1") for s in services
    ]
    for report in data["reports"]:
        assert report["values"] == [] and report["manifests"]
        assert {m["change"] for m in report["manifests"]} == {"changed"}
        assert chart_lines("".join(m["diff"] for m in report["manifests"])) == set(), report["service"]


def test_the_same_version_is_no_difference(
    helm: str, k8app_env: str, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = diff(
        capsys, "web-http", "--chart-version", "3.13.0", "--env", "dev", "-C", str(generated_root)
    )
    assert code == 0 and "No differences: web-http dev@app-3.13.0 -> dev@app-3.13.0" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["web-http", "--chart-version", "latest"], "--chart-version 'latest' is not an exact chart version"),
        (
            ["web-http", "--chart-version", "3.12.1", "--base", "HEAD"],
            "leave out --against, --base and --head",
        ),
        (["web-http", "--chart-version", "3.12.1", "--values-only"], "leave out --values-only and --chart"),
        (["--chart-version", "3.12.1"], "name one SERVICE, or pass --all"),
        (["web-http", "--all", "--chart-version", "3.12.1"], "name one SERVICE, or pass --all"),
        (["--all", "--chart-version", "3.12.1", "--service-dir", "."], "cannot go with --all"),
    ],
)
def test_bad_chart_version_options_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = diff(capsys, *args, "-C", str(tmp_path))
    assert code == 2 and message in err


def test_a_version_the_repository_lacks_is_bad_input(
    helm: str, k8app_env: str, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = diff(capsys, "web-http", "--chart-version", "9.9.9", "-C", str(generated_root))
    assert code == 2 and out == ""
    assert 'chart "app" version "9.9.9" not found' in err and "check --chart-version" in err


def test_each_environment_renders_with_its_own_chart_version(
    helm: str,
    k8app_env: str,
    generated_root: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """prod staged back on 3.12.1 (CHART_VERSIONS): dev against prod compares what Argo CD deploys in each."""
    monkeypatch.setenv("CHART_VERSIONS", "prod=3.12.1")
    code, out, err = diff(capsys, "web-http", "--env", "dev", "--against", "prod", "-C", str(generated_root))
    assert code == 1, err
    assert {"-chart: app-3.12.1", "+chart: app-3.13.0"} <= changed_lines(out)
    assert "Pulling chart app 3.12.1" in err
