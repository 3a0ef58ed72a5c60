"""`gitops-poc review` in a service repository (only it checked out): every environment rendered with the
pinned chart from the offline repository, production first, image and pin changes, what merging triggers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.delivery.pins import Pin, with_pin
from tests.review.conftest import git
from tests.review.structure import parse_note


@pytest.fixture
def service_repo(
    generated_root: Path, tmp_path: Path, k8app_env: str, helm: str, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    repo = tmp_path / "web-http"
    shutil.copytree(generated_root / "services" / "web-http", repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "service")
    return repo


def edit(repo: Path, name: str, old: str, new: str) -> None:
    path = repo / ".cicd" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_every_environment_production_first_with_image_pin_and_triggers(
    service_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(service_repo, "prod.yaml", "memory: 256Mi", "memory: 512Mi")
    edit(service_repo, "dev.yaml", 'tag: "0.1.0"', 'tag: "0.2.0"')
    staging = service_repo / ".cicd" / "staging.yaml"
    staging.write_text(with_pin(staging.read_text(), Pin("incident 42", "alice", "2026-12-06T10:00:00Z")))

    assert main(["review", "-C", str(service_repo), "--base", "HEAD", "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mode"] == "service"
    apps = {a["environment"]: a for a in data["applications"]}
    assert [a["environment"] for a in data["applications"]] == ["prod", "dev", "staging"]
    assert apps["prod"]["production"] is True and apps["prod"]["autoSync"] is False
    assert any("512Mi" in o["diff"] for o in apps["prod"]["objects"])
    assert {"path": "values.image.tag", "before": "0.1.0", "after": "0.2.0"} in apps["dev"]["fields"]
    assert any(
        "image: registry.gitlab.com/gitops-poc/web-http:0.2.0" in o["diff"] for o in apps["dev"]["objects"]
    )
    pin = next(f for f in apps["staging"]["fields"] if f["path"].startswith("pin"))
    assert pin["before"] is None and pin["after"] == "pinned by alice: incident 42"
    assert apps["staging"]["objects"] == []  # a pin is a comment: nothing renders differently
    assert data["triggers"] == [
        "prod (production): web-http-prod changes; it waits for a manual sync",
        "dev: web-http-dev changes; ArgoCD syncs it automatically",
        "staging: web-http-staging changes; ArgoCD syncs it automatically",
    ]

    assert main(["review", "-C", str(service_repo), "--base", "HEAD"]) == 0
    note = parse_note(capsys.readouterr().out)
    assert "<b>production</b>" in note.sections[0] and "<code>web-http-prod</code>" in note.sections[0]
    assert "What merging does" in note.headings


def test_lint_error_introduced_in_a_service_repository(
    service_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(service_repo, "dev.yaml", "replicas: 1", "replicas: 1\nreplicaCount: 2")
    assert main(["review", "-C", str(service_repo), "--base", "HEAD", "--output", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [(f["rule_id"], f["file"]) for f in data["lint"]["introduced"]] == [
        ("chart-unknown-key", ".cicd/dev.yaml")
    ]
    assert data["lint"]["fixed"] == []
