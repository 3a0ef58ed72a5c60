"""`gitops-poc plan` on generated platform roots in real git repositories."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from gitops_poc.changes import apply_changes
from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.generate import plan_init
from gitops_poc.layout import APPLICATIONSET_FILE, service_dir
from gitops_poc.platform import Platform
from gitops_poc.servicerepo import read_values
from gitops_poc.values import get_path


def generate(root: Path, settings: dict[str, str]) -> Platform:
    platform = Platform(load_config(None, settings))
    apply_changes(root, plan_init(platform, root))
    return platform


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "platform"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    generate(root, {})
    commit(root, "initial platform")
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["plan", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def expected_names(platform: Platform) -> list[str]:
    return [platform.application_name(s, e) for s in platform.services for e in platform.environments]


def test_table_lists_every_application_with_its_image(
    generated_root: Path, default_platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "-C", str(generated_root))
    assert code == 0
    lines = out.splitlines()
    for service in default_platform.services:
        for env in default_platform.environments:
            _, values = read_values(service_dir(generated_root, service), env)
            image = f"{get_path(values, 'image.repository')}:{get_path(values, 'image.tag')}"
            name = default_platform.application_name(service, env)
            row = next(line for line in lines if f" {name} " in line)
            auto = "yes" if default_platform.auto_sync(env) else "no"
            assert row.split() == [
                service,
                env,
                name,
                "in-cluster",
                default_platform.namespace(env),
                auto,
                default_platform.config.chart_version,
                image,
            ]
    assert f"{len(expected_names(default_platform))} Application(s)" in out


def test_json_and_yaml_print_the_application_manifests(
    generated_root: Path, default_platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "-C", str(generated_root), "-o", "json")
    assert code == 0
    manifests = json.loads(out)
    assert [m["metadata"]["name"] for m in manifests] == expected_names(default_platform)
    assert all(m["kind"] == "Application" and m["apiVersion"] == "argoproj.io/v1alpha1" for m in manifests)

    code, out, _ = run(capsys, "-C", str(generated_root), "-o", "yaml")
    assert code == 0
    assert list(YAML(typ="safe").load_all(out)) == manifests


def test_removed_service_is_reported_as_deletions_and_the_guard_trips(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    platform = generate(repo, {"SERVICES": "api-gateway auth-adapter web-grpc web-http"})
    dev_values = service_dir(repo, "health-demo") / ".cicd" / "dev.yaml"
    _, before = read_values(service_dir(repo, "health-demo"), "dev")
    text = dev_values.read_text()
    assert '  tag: "0.1.0"' in text
    dev_values.write_text(text.replace('  tag: "0.1.0"', "  tag: changed-after-base"))
    commit(repo, "drop health-demo")
    gone = [f"health-demo-{env}" for env in platform.environments]

    code, out, err = run(capsys, "-C", str(repo), "--base", "HEAD~1", "-o", "json")
    assert code == 0, err
    report = json.loads(out)
    assert [d["name"] for d in report["deleted"]] == gone
    assert report["added"] == [] and report["changed"] == []
    assert report["summary"] == {"applications": 12, "added": 0, "changed": 0, "deleted": 3, "unchanged": 12}
    assert not any(d["deletesResources"] for d in report["deleted"])  # preserveResourcesOnDeletion
    # The image of a deleted Application is the one its values had at the base revision.
    assert (
        report["deleted"][0]["image"]
        == f"{get_path(before, 'image.repository')}:{get_path(before, 'image.tag')}"
    )

    code, out, err = run(capsys, "-C", str(repo), "--base", "HEAD~1", "--max-deletions", "0")
    assert code == 1
    assert "deletes 3 Application(s), more than --max-deletions 0" in err
    assert all(name in err for name in gone)
    assert all(f"- {name}" in out for name in gone)  # the plan is still shown

    code, _, _ = run(capsys, "-C", str(repo), "--base", "HEAD~1", "--max-deletions", "3")
    assert code == 0


def test_renamed_environment_is_a_deletion_plus_an_addition(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generate(repo, {"ENVIRONMENTS": "dev stage prod"})
    commit(repo, "rename staging")
    code, out, _ = run(capsys, "-C", str(repo), "--base", "HEAD~1", "-o", "json", "--max-deletions", "10")
    report = json.loads(out)
    assert code == 0
    assert sorted(d["name"] for d in report["deleted"]) == sorted(
        f"{s}-staging" for s in ("api-gateway", "auth-adapter", "web-grpc", "web-http", "health-demo")
    )
    assert sorted(a["name"] for a in report["added"]) == sorted(
        n.replace("staging", "stage") for n in (d["name"] for d in report["deleted"])
    )
    assert all(a["namespace"] == "poc-stage" for a in report["added"])


def test_changed_fields_are_reported_by_path(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate(repo, {"CHART_VERSION": "3.14.0", "AUTO_SYNC_ENVIRONMENTS": "dev"})
    commit(repo, "chart 3.14 and no auto-sync for staging")
    code, out, _ = run(capsys, "-C", str(repo), "--base", "HEAD~1", "-o", "json")
    assert code == 0
    changed = {
        c["name"]: {f["path"]: (f["before"], f["after"]) for f in c["fields"]}
        for c in json.loads(out)["changed"]
    }
    assert len(changed) == 15
    assert changed["api-gateway-dev"] == {"spec.sources[0].targetRevision": ("3.13.0", "3.14.0")}
    assert changed["api-gateway-staging"]["spec.syncPolicy.automated"] == (
        {"prune": True, "selfHeal": True},
        None,
    )

    code, out, _ = run(capsys, "-C", str(repo), "--base", "HEAD~1")
    assert "15 to change, 0 to delete" in out
    assert '~ spec.sources[0].targetRevision: "3.13.0" -> "3.14.0"' in out
    assert "- spec.syncPolicy.automated:" in out


def test_base_where_the_file_did_not_exist_adds_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "platform"
    root.mkdir()
    git(root, "init", "-q")
    (root / "README.txt").write_text("empty platform\n")
    commit(root, "nothing generated yet")
    generate(root, {})
    commit(root, "generated")
    code, out, _ = run(capsys, "-C", str(root), "--base", "HEAD~1", "-o", "json")
    report = json.loads(out)
    assert code == 0 and len(report["added"]) == 15 and report["deleted"] == []


def test_file_with_several_documents_and_cascading_deletes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def appset(name: str, elements: list[str]) -> dict[str, Any]:
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "ApplicationSet",
            "metadata": {"name": name, "namespace": "argocd"},
            "spec": {
                "generators": [{"list": {"elements": [{"app": e} for e in elements]}}],
                "template": {
                    "metadata": {"name": f"{name}-{{{{app}}}}"},
                    "spec": {"project": "default", "destination": {"namespace": "{{app}}"}},
                },
            },
        }

    def write(docs: list[dict[str, Any]]) -> None:
        yaml = YAML()
        with path.open("w") as handle:
            yaml.dump_all(docs, handle)

    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    path = root / "sets.yaml"
    project = {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "metadata": {"name": "default"}}
    write([project, appset("one", ["a", "b"]), appset("two", ["c"])])
    commit(root, "two sets")
    write([project, appset("one", ["a"])])

    code, out, err = run(capsys, "--file", str(path), "--base", "HEAD", "--max-deletions", "1")
    assert code == 1
    assert "one-b" in out and "two-c" in out and "its resources are deleted too" in out
    assert "deletes 2 Application(s)" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "kind: ApplicationSet\napiVersion: argoproj.io/v1alpha1\nmetadata:\n  name: a: b\nspec: {}\n",
            "sets.yaml:4: invalid YAML: mapping values are not allowed",
        ),
        (
            (
                "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: s}\nspec:\n "
                " generators:\n  - git: {repoURL: x}\n  template: {metadata: {name: x}, spec: {}}\n"
            ),
            "the git generator is not supported",
        ),
        (
            (
                "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: s}\nspec:\n "
                " goTemplate: true\n  goTemplateOptions: [missingkey=error]\n  generators:\n  - list:"
                " {elements: [{a: x}]}\n  template: {metadata: {name: '{{.b}}'}, spec: {}}\n"
            ),
            'map has no entry for key "b"',
        ),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "no ApplicationSet"),
    ],
)
def test_unusable_input_exits_2_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "sets.yaml"
    path.write_text(content)
    code, out, err = run(capsys, "--file", str(path))
    assert code == 2
    assert message in err
    assert out == ""


def test_option_and_revision_errors(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "-C", str(repo), "--max-deletions", "0")
    assert code == 2 and "--max-deletions needs --base" in err
    code, _, err = run(capsys, "-C", str(repo), "--base", "no-such-rev")
    assert code == 2 and "unknown git revision 'no-such-rev'" in err
    code, _, err = run(capsys, "-C", str(repo / "nowhere"))
    assert code == 2 and str(APPLICATIONSET_FILE) in err


def test_help_describes_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "--help"])
    out = capsys.readouterr().out
    assert code == 0
    assert "--max-deletions" in out and "--base" in out and "templatePatch" in out


def test_default_templating_file_gives_the_same_names_and_namespaces(
    generated_root: Path, default_platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (generated_root / APPLICATIONSET_FILE).read_text()
    text = text.replace("goTemplate: true", "goTemplate: false").replace("{{.", "{{")
    text = text[: text.index("  templatePatch:")]  # its if/else needs Go templates
    path = generated_root / "fast.yaml"
    path.write_text(text)
    code, out, _ = run(capsys, "--file", str(path), "-o", "json")
    assert code == 0
    manifests = json.loads(out)
    assert [m["metadata"]["name"] for m in manifests] == expected_names(default_platform)
    for manifest, (service, env) in zip(
        manifests,
        [(s, e) for s in default_platform.services for e in default_platform.environments],
        strict=True,
    ):
        assert manifest["spec"]["destination"]["namespace"] == default_platform.namespace(env)
        assert manifest["spec"]["sources"][1]["repoURL"] == default_platform.repo_url(service)
        assert "automated" not in manifest["spec"]["syncPolicy"]


def test_two_clusters_show_each_environments_cluster_and_push_agent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    platform = generate(tmp_path, {"GITLAB_GROUP": "acme", "ENVIRONMENT_CLUSTERS": "prod=prod-eu"})
    code, out, _ = run(capsys, "-C", str(tmp_path))
    assert code == 0
    row = next(line for line in out.splitlines() if " api-gateway-prod " in line)
    assert row.split()[3] == "prod-eu"
    assert out.splitlines()[-1] == (
        "Push mode (gitops-config/ci/service.gitlab-ci.yml): dev staging through "
        "acme/gitops-config:minikube-agent; prod through acme/gitops-config:prod-eu"
    )
    assert platform.agent_context_of("prod") == "acme/gitops-config:prod-eu"


def test_a_chart_version_staged_per_environment_is_shown_per_application(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The generated ApplicationSet, expanded as ArgoCD does: each Application deploys its environment's
    chart version; against the base, only the staged environment's Applications change."""
    platform = generate(repo, {"CHART_VERSION": "3.12.1", "CHART_VERSIONS": "dev=3.13.0"})
    commit(repo, "dev on 3.13.0")
    code, out, err = run(capsys, "-C", str(repo), "--base", "HEAD~1", "-o", "json")
    assert code == 0, err
    report = json.loads(out)
    changed = {c["name"]: c for c in report["changed"]}
    # The base (init's defaults) pinned 3.13.0 everywhere: staging and prod go back to 3.12.1, dev stays.
    assert set(changed) == {f"{s}-{e}" for s in platform.services for e in ("staging", "prod")}
    some = changed["health-demo-prod"]
    assert some["chartVersion"] == "3.12.1"
    assert {"path": "spec.sources[0].targetRevision", "before": "3.13.0", "after": "3.12.1"} in some["fields"]
    code, out, _ = run(capsys, "-C", str(repo))
    rows = {line.split()[2]: line.split()[6] for line in out.splitlines() if " health-demo-" in line}
    assert rows == {
        "health-demo-dev": "3.13.0",
        "health-demo-staging": "3.12.1",
        "health-demo-prod": "3.12.1",
    }
