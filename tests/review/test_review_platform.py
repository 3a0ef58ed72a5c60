"""`gitops-poc review` in a platform folder: real git history, the real k8app chart from the offline
repository, real `helm template`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from gitops_poc.cli import main
from tests.review.conftest import PlatformRepo, git
from tests.review.structure import parse_note

Make = Callable[..., PlatformRepo]


def review(capsys: pytest.CaptureFixture[str], repo: PlatformRepo, *args: str) -> tuple[int, str, str]:
    code = main(["review", "-C", str(repo.root), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def review_json(capsys: pytest.CaptureFixture[str], repo: PlatformRepo, *args: str) -> tuple[int, Any]:
    code, out, _ = review(capsys, repo, "--output", "json", *args)
    return code, json.loads(out)


def test_values_change_renders_only_that_application_and_shows_its_diff(
    platform_repo: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = platform_repo()
    base = git(repo.root, "rev-parse", "HEAD").strip()
    repo.edit("services/web-http/.cicd/prod.yaml", "memory: 256Mi", "memory: 512Mi")
    repo.commit("web-http: more memory in prod")

    code, out, err = review(capsys, repo, "--base", base, "--argocd-url", "https://argocd.example/")
    assert code == 0, err
    note = parse_note(out)
    assert note.summary.startswith(":white_check_mark: **gitops-poc review**")
    assert "Applications: 1 changed, 0 added, 0 deleted" in note.summary
    assert "Deployment 1 changed" in note.summary
    assert len(note.sections) == 1
    assert "<code>web-http-prod</code>" in note.sections[0]
    assert "<b>production</b>" in note.sections[0] and "manual sync" in note.sections[0]
    assert 'href="https://argocd.example/applications/web-http-prod"' in note.sections[0]
    assert note.fences == ["diff"]
    changed = [
        line for line in note.fence_bodies[0].splitlines() if line[:1] in "+-" and line[:3] not in "+++---"
    ]
    assert [line.split()[1:] for line in changed] == [["memory:", "256Mi"], ["memory:", "512Mi"]]
    # One Application's two sides rendered, nothing else.
    assert "Render cache: 0 hit(s), 2 miss(es)" in err


def test_a_values_change_reads_that_service_only_and_expands_the_applicationset_once(
    platform_repo: Make, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """git says which folders differ: the other services' Applications are not read (their value files and
    manifests are the same), and an unchanged gitops-config/ is expanded once for both sides."""
    from gitops_poc.review import compare

    read: list[str] = []
    expanded: list[str] = []
    real_input, real_apps = compare.render_input, compare._applications
    monkeypatch.setattr(
        compare, "render_input", lambda app, tree: read.append(app.name) or real_input(app, tree)
    )
    monkeypatch.setattr(compare, "_applications", lambda tree: expanded.append(tree.name) or real_apps(tree))
    repo = platform_repo()
    repo.edit("services/web-http/.cicd/prod.yaml", "memory: 256Mi", "memory: 512Mi")
    code, out, err = review(capsys, repo, "--base", "HEAD")
    assert code == 0, err
    assert "Applications: 1 changed" in out
    assert sorted(set(read)) == ["web-http-dev", "web-http-prod", "web-http-staging"]
    assert len(expanded) == 1
    repo.edit("gitops-config/argocd/applicationset.yaml", "", "# a comment\n")
    read.clear()
    expanded.clear()
    assert review(capsys, repo, "--base", "HEAD")[0] == 0
    assert len(expanded) == 2  # both sides expanded, to the same Applications: still web-http's only
    assert sorted(set(read)) == ["web-http-dev", "web-http-prod", "web-http-staging"]


def test_same_change_gives_the_same_note_byte_for_byte_and_the_second_run_is_all_cache_hits(
    platform_repo: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = platform_repo()
    repo.edit("services/api-gateway/.cicd/default.yaml", "LOG_LEVEL", "LOG_LEVEL_X")
    first = review(capsys, repo, "--base", "HEAD")
    second = review(capsys, repo, "--base", "HEAD")
    assert first[1] == second[1]
    assert "Applications: 3 changed" in first[1]
    assert "Render cache: 0 hit(s), 6 miss(es)" in first[2]
    assert "Render cache: 6 hit(s), 0 miss(es)" in second[2]


def test_new_service_adds_its_applications_policies_and_roles(
    platform_repo: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = platform_repo(SERVICES="web-http health-demo")
    repo.regenerate(SERVICES="web-http health-demo web-grpc")
    code, data = review_json(capsys, repo, "--base", "main")
    assert code == 0, data["errors"]
    added = [a for a in data["applications"] if a["change"] == "added"]
    assert [a["name"] for a in added] == ["web-grpc-dev", "web-grpc-staging", "web-grpc-prod"]
    assert all(o["change"] == "added" for a in added for o in a["objects"])
    assert {o["manifest"] for o in added[0]["objects"]} >= {"Deployment/web-grpc", "Service/web-grpc-sv"}
    assert data["summary"]["changed"] == 0
    assert {"change": "create", "what": "policy gitops-poc-web-grpc-dev"} in data["vault"]
    assert any(v["what"].startswith("role gitops-poc-web-grpc-prod ") for v in data["vault"])
    files = {p["file"] for p in data["platformObjects"]}
    assert "gitops-config/platform/prod/web-grpc.yaml" in files


def test_removed_service_trips_the_deletion_guard(
    platform_repo: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = platform_repo(SERVICES="web-http health-demo")
    repo.regenerate(SERVICES="web-http")
    repo.commit("drop health-demo")
    code, out, err = review(capsys, repo, "--base", "HEAD~1", "--max-deletions", "2")
    assert code == 1
    note = parse_note(out)
    assert note.summary.startswith(":x:")
    assert "3 deleted" in note.summary and "deletion guard tripped" in note.summary
    assert "**Deletion guard:** this change deletes 3 Application(s), more than the 2 allowed" in out
    assert [s.split("</code>")[0] for s in note.sections] == [
        "- <code>health-demo-dev",
        "- <code>health-demo-staging",
        "- <code>health-demo-prod",
        *(f"<code>gitops-config/platform/{env}/health-demo.yaml" for env in ("dev", "prod", "staging")),
    ]
    assert "removed ServiceAccount/health-demo" in note.sections[-1]
    assert "delete `policy gitops-poc-health-demo-dev`" in out
    code, data = review_json(capsys, repo, "--base", "HEAD~1", "--max-deletions", "3")
    assert code == 0
    assert data["guard"] == {"maxDeletions": 3, "deletions": 3, "tripped": False}


def test_chart_bump_changes_every_application(
    platform_repo: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = platform_repo(SERVICES="web-http health-demo", CHART_VERSION="3.12.1")
    repo.regenerate(CHART_VERSION="3.13.0")
    code, data = review_json(capsys, repo, "--base", "HEAD")
    assert code == 0, data["errors"]
    apps = data["applications"]
    assert len(apps) == 6 and all(a["change"] == "changed" for a in apps)
    for app in apps:
        assert {"path": "spec.sources[0].targetRevision", "before": "3.12.1", "after": "3.13.0"} in app[
            "fields"
        ]
        assert app["objects"], app["name"]
        assert any("-    chart: app-3.12.1\n+    chart: app-3.13.0\n" in o["diff"] for o in app["objects"])


def test_lint_findings_introduced_and_fixed_by_the_change(
    platform_repo: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = platform_repo(SERVICES="web-http")
    repo.edit("services/web-http/.cicd/dev.yaml", "replicas: 1", "replicas: 1\nreplicaCount: 2")
    repo.commit("a key the chart ignores")
    code, out, _ = review(capsys, repo, "--base", "HEAD~1")
    assert code == 1
    note = parse_note(out)
    assert "lint: 1 new error, 0 fixed" in note.summary
    assert "Lint" in note.headings
    assert any(item.startswith("**error** `services/web-http/.cicd/dev.yaml:") for item in note.list_items)
    assert "chart-unknown-key" in out

    # Lines above an existing finding move it: still the same finding, not a new one.
    repo.edit("services/web-http/.cicd/dev.yaml", "environment: dev", "environment: dev\n# a comment")
    repo.commit("a comment above")
    code, data = review_json(capsys, repo, "--base", "HEAD~1")
    assert code == 0 and data["lint"]["introduced"] == []

    repo.edit("services/web-http/.cicd/dev.yaml", "\nreplicaCount: 2", "")
    code, data = review_json(capsys, repo, "--base", "HEAD")
    assert code == 0
    assert [f["rule_id"] for f in data["lint"]["fixed"]] == ["chart-unknown-key"]
    assert data["lint"]["introduced"] == []


def test_a_change_that_breaks_rendering_is_a_finding(
    platform_repo: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = platform_repo(SERVICES="web-http")
    repo.edit("services/web-http/.cicd/prod.yaml", "replicas: 3", "replicas: [3")
    code, data = review_json(capsys, repo, "--base", "HEAD")
    assert code == 1
    assert data["failed"] is True
    assert [e.split(":")[0] for e in data["errors"]] == ["web-http-prod"]


def test_bad_input_exits_2_with_one_error_line(
    platform_repo: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = platform_repo(SERVICES="web-http")
    code, _, err = review(capsys, repo)
    assert code == 2 and "--base" in err
    code, _, err = review(capsys, repo, "--base", "no-such-branch")
    assert code == 2 and "no-such-branch" in err
    code, _, err = review(capsys, repo, "--base", "")
    assert code == 2


def test_base_from_the_merge_request_variable(
    platform_repo: Make, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = platform_repo(SERVICES="web-http")
    monkeypatch.setenv("CI_MERGE_REQUEST_DIFF_BASE_SHA", git(repo.root, "rev-parse", "HEAD").strip())
    code, out, _ = review(capsys, repo)
    assert code == 0
    assert "Applications: 0 changed, 0 added, 0 deleted" in parse_note(out).summary


def test_full_report_is_written_for_the_artifact(
    platform_repo: Make, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    repo = platform_repo(SERVICES="web-http")
    repo.edit("services/web-http/.cicd/prod.yaml", "memory: 256Mi", "memory: 512Mi")
    report = tmp_path / "review.md"
    code, out, _ = review(capsys, repo, "--base", "HEAD", "--report", str(report))
    assert code == 0
    assert report.read_text(encoding="utf-8") == out


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "--help"]) == 0
    text = capsys.readouterr().out
    assert "CI_MERGE_REQUEST_DIFF_BASE_SHA" in text and "--max-deletions" in text


def test_code_quality_and_junit_reports(
    platform_repo: Make, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    import xml.etree.ElementTree as ET

    repo = platform_repo(SERVICES="web-http")
    repo.edit("services/web-http/.cicd/dev.yaml", "replicas: 1", "replicas: 1\nreplicaCount: 2")
    quality, junit = tmp_path / "gl-code-quality.json", tmp_path / "junit.xml"
    reports = ("--codequality", str(quality), "--junit", str(junit))
    code, _, _ = review(capsys, repo, "--base", "HEAD", *reports)
    assert code == 1
    issues = json.loads(quality.read_text(encoding="utf-8"))
    issue = next(i for i in issues if i["check_name"] == "chart-unknown-key")
    assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
    assert issue["severity"] == "major"
    assert issue["location"]["path"] == "services/web-http/.cicd/dev.yaml"
    line = issue["location"]["lines"]["begin"]
    assert (
        repo.root.joinpath(issue["location"]["path"]).read_text().splitlines()[line - 1] == "replicaCount: 2"
    )
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    suites = {s.get("name"): s for s in ET.parse(junit).getroot()}
    assert suites["lint"].get("failures") == "1"
    assert suites["render"].get("failures") == "0" and suites["deletion guard"].get("failures") == "0"

    # The same finding on another line keeps its fingerprint: GitLab shows it neither new nor fixed.
    repo.edit("services/web-http/.cicd/dev.yaml", "environment: dev", "environment: dev\n# moved down")
    review(capsys, repo, "--base", "HEAD", *reports)
    moved = next(i for i in json.loads(quality.read_text()) if i["check_name"] == "chart-unknown-key")
    assert moved["fingerprint"] == issue["fingerprint"] and moved["location"]["lines"]["begin"] == line + 1
