"""`rollout template --push` on real git: every service repository made from the template, published to local
bare remotes, edited by its team; the template changed and committed in the platform root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.lock import platform_lock
from gitops_poc.templatestamp import STAMP_FILE, parse_stamp
from tests.rollout.conftest import SERVICES, Fleet, git

# A template change in two places: a line of default.yaml, and a new README section at the end.
OLD_LEVEL = "configmap:\n  LOG_LEVEL: info\n"
NEW_LEVEL = "configmap:\n  LOG_LEVEL: warn\n"
SECTION = "\n## On call\n\nPage the platform team through #platform-oncall.\n"


def change_the_template(fleet: Fleet) -> str:
    fleet.change_template(".cicd/default.yaml", OLD_LEVEL, NEW_LEVEL)
    fleet.change_template("README.md", None, SECTION)
    return git("rev-parse", "HEAD:templates/service-repo", cwd=fleet.root)


def test_new_service_records_the_template_version_it_took(fleet: Fleet) -> None:
    committed = git("rev-parse", "HEAD:templates/service-repo", cwd=fleet.root)
    for service in SERVICES:
        assert parse_stamp(fleet.show(service, STAMP_FILE)) == committed


def test_team_edits_are_kept_and_the_same_lines_are_a_conflict_with_nothing_pushed(
    fleet: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    # billing's team edited other lines of the same file; orders' team edited the very line the template
    # changes; shipping's team edited nothing.
    fleet.team_edit("billing", ".cicd/default.yaml", "path: /health\n", "path: /healthz\n")
    fleet.team_edit("orders", ".cicd/default.yaml", "LOG_LEVEL: info", "LOG_LEVEL: debug")
    before = {service: fleet.head(service) for service in SERVICES}
    new = change_the_template(fleet)

    code, results = fleet.rollout(capsys, "--push")

    assert code == 1  # a repository the template did not reach is a finding
    assert results["orders"]["outcome"] == "conflict"
    assert results["orders"]["files"] == [".cicd/default.yaml"]
    assert fleet.head("orders") == before["orders"]  # nothing pushed there
    assert "LOG_LEVEL: debug" in fleet.show("orders", ".cicd/default.yaml")
    for service in ("billing", "shipping"):
        assert results[service]["outcome"] == "pushed"
        assert set(results[service]["files"]) == {STAMP_FILE, ".cicd/default.yaml", "README.md"}
        values = fleet.show(service, ".cicd/default.yaml")
        assert "LOG_LEVEL: warn" in values
        assert fleet.show(service, "README.md").endswith(SECTION.rstrip("\n"))
        assert parse_stamp(fleet.show(service, STAMP_FILE)) == new
        # one commit on top of what the team had: never a rewrite
        assert git(f"--git-dir={fleet.bare(service)}", "rev-parse", "main^") == before[service]
    assert "path: /healthz" in fleet.show("billing", ".cicd/default.yaml")  # the team's edit kept
    assert "path: /health\n" in fleet.show("shipping", ".cicd/default.yaml")


def test_a_second_run_pushes_nothing(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    change_the_template(fleet)
    assert fleet.rollout(capsys, "--push")[0] == 0
    heads = {service: fleet.head(service) for service in SERVICES}
    code, results = fleet.rollout(capsys, "--push")
    assert code == 0
    assert {r["outcome"] for r in results.values()} == {"up-to-date"}
    assert {service: fleet.head(service) for service in SERVICES} == heads


def test_the_next_template_change_uses_the_recorded_version_as_its_base(
    fleet: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    change_the_template(fleet)
    assert fleet.rollout(capsys, "--push")[0] == 0
    # The team now edits the line the first change brought; the second change touches another line only.
    fleet.team_edit("billing", ".cicd/default.yaml", "LOG_LEVEL: warn", "LOG_LEVEL: error")
    fleet.change_template(".cicd/default.yaml", "refreshAfter: 1h", "refreshAfter: 30m")
    code, results = fleet.rollout(capsys, "--push")
    assert code == 0, results
    values = fleet.show("billing", ".cicd/default.yaml")
    assert "refreshAfter: 30m" in values and "LOG_LEVEL: error" in values


def test_dry_run_shows_the_merge_and_pushes_nothing(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    fleet.team_edit("orders", ".cicd/default.yaml", "LOG_LEVEL: info", "LOG_LEVEL: debug")
    change_the_template(fleet)
    heads = {service: fleet.head(service) for service in SERVICES}
    code, results = fleet.rollout(capsys, "--push", "--dry-run")
    assert code == 1
    assert results["billing"]["outcome"] == "pushed" and results["billing"]["commit"]
    assert results["orders"]["outcome"] == "conflict"
    assert {service: fleet.head(service) for service in SERVICES} == heads


def test_files_init_generates_are_left_to_init(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    pipeline = fleet.show("shipping", ".gitlab-ci.yml")
    fleet.change_template(".gitlab-ci.yml", None, "stages: [everything]\n")
    fleet.change_template("Dockerfile", None, "FROM python:3.12-slim\n")
    code, results = fleet.rollout(capsys, "--push")
    assert code == 0
    assert set(results["shipping"]["files"]) == {STAMP_FILE, "Dockerfile"}
    assert fleet.show("shipping", ".gitlab-ci.yml") == pipeline
    assert fleet.show("shipping", "Dockerfile") == "FROM python:3.12-slim"


def test_batch_changes_n_repositories_per_run(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    change_the_template(fleet)
    code, results = fleet.rollout(capsys, "--push", "--batch", "2")
    assert code == 0
    assert [results[s]["outcome"] for s in SERVICES] == ["pushed", "pushed", "pending"]
    code, results = fleet.rollout(capsys, "--push", "--batch", "2")
    assert [results[s]["outcome"] for s in SERVICES] == ["up-to-date", "up-to-date", "pushed"]


def test_a_repository_without_a_record_takes_the_template_committed_with_its_folder(
    fleet: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    # A repository made before versions were recorded: its stamp removed by its team.
    clone = fleet.work / "legacy"
    git("clone", "--quiet", str(fleet.bare("shipping")), str(clone))
    git("rm", "--quiet", STAMP_FILE, cwd=clone)
    git("commit", "--quiet", "-m", "no stamp", cwd=clone)
    git("push", "--quiet", "origin", "HEAD:main", cwd=clone)
    fleet.team_edit("shipping", ".cicd/default.yaml", "path: /health\n", "path: /ready\n")
    new = change_the_template(fleet)
    code, results = fleet.rollout(capsys, "--push")
    assert code == 0
    assert results["shipping"]["outcome"] == "pushed"
    values = fleet.show("shipping", ".cicd/default.yaml")
    assert "LOG_LEVEL: warn" in values and "path: /ready" in values
    assert parse_stamp(fleet.show("shipping", STAMP_FILE)) == new


def test_a_recorded_version_git_does_not_hold_is_reported_and_since_overrides(
    fleet: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    first = git("rev-parse", "HEAD", cwd=fleet.root)
    clone = fleet.work / "unknown"
    git("clone", "--quiet", str(fleet.bare("orders")), str(clone))
    (clone / STAMP_FILE).write_text(json.dumps({"tree": "1" * 40}))
    git("commit", "--quiet", "-am", "unknown version", cwd=clone)
    git("push", "--quiet", "origin", "HEAD:main", cwd=clone)
    before = fleet.head("orders")
    change_the_template(fleet)
    code, results = fleet.rollout(capsys, "--push")
    assert code == 1
    assert results["orders"]["outcome"] == "no-base"
    assert "1111111111" in str(results["orders"]["detail"])
    assert fleet.head("orders") == before
    code, results = fleet.rollout(capsys, "--push", "--since", first)
    assert code == 0 and results["orders"]["outcome"] == "pushed"
    assert "LOG_LEVEL: warn" in fleet.show("orders", ".cicd/default.yaml")


def test_an_uncommitted_template_is_refused(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    readme = fleet.root / "templates" / "service-repo" / "README.md"
    readme.write_text(readme.read_text() + "uncommitted\n")
    code = main(
        ["rollout", "template", "--root", str(fleet.root), "--remote-base", str(fleet.remotes), "--push"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert [line for line in err.splitlines() if line.startswith("error:")]
    assert "templates/service-repo" in err and "commit the template first" in err


def test_a_second_rollout_at_once_is_refused_and_pushes_nothing(
    fleet: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    change_the_template(fleet)
    heads = {service: fleet.head(service) for service in SERVICES}
    with platform_lock(fleet.root, "gitops-poc rollout template"):
        code = main(
            ["rollout", "template", "--root", str(fleet.root), "--remote-base", str(fleet.remotes), "--push"]
        )
    assert code == 2
    assert "is changing this platform folder" in capsys.readouterr().err
    assert {service: fleet.head(service) for service in SERVICES} == heads


def test_merge_requests_need_gitlab(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    change_the_template(fleet)
    code = main(["rollout", "template", "--root", str(fleet.root), "--remote-base", str(fleet.remotes)])
    assert code == 2
    assert "pass --push" in capsys.readouterr().err


def test_tree_id_is_the_one_git_gives_the_committed_template(fleet: Fleet, tmp_path: Path) -> None:
    from gitops_poc.generate.services import template_version

    script = fleet.root / "templates" / "service-repo" / "bin" / "run.sh"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    git("add", "-A", cwd=fleet.root)
    git("commit", "--quiet", "-m", "a script", cwd=fleet.root)
    committed = git("rev-parse", "HEAD:templates/service-repo", cwd=fleet.root)
    assert template_version(fleet.root / "templates" / "service-repo") == committed


def test_an_unknown_since_revision_is_bad_input(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    change_the_template(fleet)
    heads = {service: fleet.head(service) for service in SERVICES}
    args = [
        "--root",
        str(fleet.root),
        "--remote-base",
        str(fleet.remotes),
        "--push",
        "--since",
        "no-such-rev",
    ]
    code = main(["rollout", "template", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert [line for line in err.splitlines() if line.startswith("error:")] and "no-such-rev" in err
    assert {service: fleet.head(service) for service in SERVICES} == heads


def test_new_service_writes_the_stamp_and_a_later_init_keeps_it(
    fleet: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-service", "invoices", "--root", str(fleet.root), "--yes"]) == 0
    stamp = fleet.root / "services" / "invoices" / STAMP_FILE
    committed = git("rev-parse", "HEAD:templates/service-repo", cwd=fleet.root)
    assert parse_stamp(stamp.read_text()) == committed
    stamp.unlink()  # a repository from before the record: init does not invent one
    assert main(["init", "--root", str(fleet.root), "--yes"]) == 0
    assert not stamp.exists()


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[]", '{"tree": "--upload-pack=evil"}', '{"tree": "' + "a" * 39 + '"}', " " * 70_000],
)
def test_a_stamp_that_names_no_tree_is_no_record(text: str) -> None:
    assert parse_stamp(text) is None
    assert parse_stamp('{"tree": "' + "a" * 40 + '"}') == "a" * 40


def test_the_text_report_names_the_conflicting_files(
    fleet: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet.team_edit("orders", ".cicd/default.yaml", "LOG_LEVEL: info", "LOG_LEVEL: debug")
    change_the_template(fleet)
    args = ["--root", str(fleet.root), "--remote-base", str(fleet.remotes), "--push"]
    code = main(["rollout", "template", *args])
    captured = capsys.readouterr()
    assert code == 1
    rows = {line.split("│")[1].strip(): line for line in captured.out.splitlines() if line.count("│") > 3}
    assert "conflict" in rows["gitops-poc/orders"] and ".cicd/default.yaml" in rows["gitops-poc/orders"]
    assert "pushed" in rows["gitops-poc/billing"]
    assert "2 pushed, 1 conflict" in captured.err
    assert "Conflicts: nothing was pushed to those repositories" in captured.err
