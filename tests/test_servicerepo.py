"""A service's values files, from the working tree or a git revision, read and merged as Helm does."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitops_poc import gitrepo
from gitops_poc.errors import UsageError
from gitops_poc.servicerepo import read_values, read_values_file
from gitops_poc.values import parse_values
from gitops_poc.yamlio import YamlSyntaxError, load_all_k8s

PORTS = "  ports:\n    http: {externalPort: 80, internalPort: 8080, protocol: TCP}\n"
DEFAULT = (
    "appName: demo\nservice:\n  enabled: yes\n  type: ClusterIP\n"
    + PORTS
    + "configmap:\n  MODE: 0755\n  DEBUG: off\n"
)
DEV = "environment: dev\nservice:\n  enabled: off\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)


@pytest.fixture
def service(tmp_path: Path) -> Path:
    """A service repository: commit `first` has the values above; the working tree has
    service.enabled: true."""
    repo = tmp_path / "svc"
    (repo / ".cicd").mkdir(parents=True)
    (repo / ".cicd/default.yaml").write_text(DEFAULT)
    (repo / ".cicd/dev.yaml").write_text(DEV)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    git(repo, "tag", "first")
    (repo / ".cicd/dev.yaml").write_text("environment: dev\nservice:\n  enabled: true\n")
    return repo


def render(helm: str, chart: Path, *values: Path) -> dict[str, dict]:
    args = [arg for path in values for arg in ("-f", str(path))]
    result = subprocess.run(
        [helm, "template", "demo", str(chart), "-n", "ns", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return {d["kind"]: d for d in load_all_k8s(result.stdout)}


def test_values_at_a_revision_merge_as_helm_renders_them(
    service: Path, helm: str, k8app_chart: Path, tmp_path: Path
) -> None:
    files, merged = read_values(service, "dev", "first")
    assert [f.text for f in files] == [DEFAULT, DEV]
    assert merged["service"]["enabled"] is False  # `off` in dev.yaml over `yes` in default.yaml
    assert merged["configmap"] == {"MODE": 493, "DEBUG": False}

    committed = tmp_path / "committed"
    committed.mkdir()
    for values_file in files:
        (committed / values_file.path.name).write_text(values_file.text or "")
    objects = render(helm, k8app_chart, committed / "default.yaml", committed / "dev.yaml")
    assert "Service" not in objects
    assert objects["ConfigMap"]["data"] == {"MODE": "493", "DEBUG": "false"}
    # the working tree's dev.yaml says `enabled: true`
    assert "Service" in render(helm, k8app_chart, service / ".cicd/default.yaml", service / ".cicd/dev.yaml")


def test_working_tree_and_missing_files(service: Path) -> None:
    files, merged = read_values(service, "dev")
    assert merged["service"]["enabled"] is True
    files, merged = read_values(service, "prod", "first")
    assert files[1].text is None and files[1].data == {}
    assert merged["configmap"]["DEBUG"] is False
    assert read_values_file(service / ".cicd/nope.yaml").data == {}


def test_one_reader_serves_several_files(service: Path) -> None:
    with gitrepo.RevisionReader(service, "first") as reader:
        default = read_values_file(service / ".cicd/default.yaml", reader=reader)
        dev = read_values_file(service / ".cicd/dev.yaml", reader=reader)
    assert (default.text, dev.text) == (DEFAULT, DEV)


def test_bad_values_files_are_usage_errors(service: Path) -> None:
    with pytest.raises(UsageError, match="unknown git revision 'nope'"):
        read_values(service, "dev", "nope")
    with pytest.raises(
        UsageError, match=r"x.yaml: expected a mapping of Helm values at the top level, found list"
    ):
        parse_values("- a\n", "x.yaml")
    with pytest.raises(YamlSyntaxError) as caught:
        parse_values("a: 1\nb: [\n", "x.yaml@first")
    assert caught.value.path == "x.yaml@first" and caught.value.line == 3
    assert parse_values("", "x.yaml") == {} and parse_values("# only a comment\n", "x.yaml") == {}
