"""Commands run in a clone of the published gitops-config repository (what its pipeline checks out): the
clone is read as the platform's gitops-config/, the services' value files come from --remote-base, and the
files are named as the clone names them. Real `init` + `publish` to local bare remotes, real git clone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.clirun import run_cli


@pytest.fixture
def clone(tmp_path: Path) -> tuple[Path, Path]:
    root, remotes, clone = tmp_path / "platform", tmp_path / "srv", tmp_path / "clone"
    root.mkdir()
    (root / ".env").write_text("GITLAB_GROUP=acme\n")
    for args in (("init", "--yes"), ("publish", "--remote-base", str(remotes))):
        result = run_cli(*args, "-C", str(root), timeout=300)
        assert result.code == 0, result.text
    subprocess.run(
        ["git", "clone", "-q", str(remotes / "acme" / "gitops-config.git"), str(clone)], check=True
    )
    return clone, remotes


def test_init_check_compares_gitops_config_only_and_never_writes_there(clone: tuple[Path, Path]) -> None:
    path, remotes = clone
    config = {"GITLAB_GROUP": "acme", "GITOPS_REMOTE_BASE": str(remotes)}
    result = run_cli("init", "--check", "-C", str(path), env=config, timeout=120)
    assert result.code == 0, result.text
    assert "Nothing to change" in result.err and "read as the platform's gitops-config/" in result.err
    appset = path / "argocd" / "applicationset.yaml"
    appset.write_text(appset.read_text().replace("PruneLast=true", "PruneLast=false"))
    result = run_cli("init", "--check", "-o", "json", "-C", str(path), env=config, timeout=120)
    assert result.code == 1, result.text
    changed = json.loads(result.out)
    assert [c["path"] for c in changed["changes"]] == ["argocd/applicationset.yaml"]  # the clone's name
    # Writing belongs to the platform folder: refused here, nothing written.
    before = appset.read_text()
    run_cli("init", "--yes", "-C", str(path), env=config, timeout=120).one_error(2, "--check or --dry-run")
    assert appset.read_text() == before


def test_lint_names_the_clones_files_and_says_once_when_values_are_not_read(clone: tuple[Path, Path]) -> None:
    path, remotes = clone
    appset = path / "argocd" / "applicationset.yaml"
    appset.write_text(appset.read_text().replace("goTemplate: true", "goTemplate: maybe"))
    result = run_cli("lint", "-o", "json", "-C", str(path), env={"GITLAB_GROUP": "acme"}, timeout=120)
    files = {f["file"] for f in json.loads(result.out)["findings"]}
    assert "argocd/applicationset.yaml" in files and not any(f.startswith("gitops-config/") for f in files)
    assert result.err.count("value files of 5 service(s) not read") == 1
    with_values = run_cli(
        "lint", "-C", str(path), env={"GITLAB_GROUP": "acme", "GITOPS_REMOTE_BASE": str(remotes)}, timeout=120
    )
    assert "not read" not in with_values.err


def test_plan_in_the_clone_reads_its_applicationset(clone: tuple[Path, Path]) -> None:
    path, _ = clone
    result = run_cli("plan", "-o", "json", "-C", str(path), env={"GITLAB_GROUP": "acme"}, timeout=120)
    assert result.code == 0, result.text
    assert len(json.loads(result.out)) == 15
