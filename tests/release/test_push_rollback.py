"""Push mode (GITOPS_MODE=push): `ci rollback` commits the earlier image with its pin, then redeploys it the
way `ci deploy` does; `ci deploy --break-glass --reason` records the reason in the Helm release
(`helm upgrade --description`). Real git with a bare remote, the REAL helm and the published chart against
the Kubernetes API stand-in holding the release's revision 3 (helm records no new revision there: it stops
before changing anything, which the message says); every argv the commands start is recorded."""

from __future__ import annotations

import json
import shlex

import pytest

from gitops_poc import proc
from gitops_poc.cli import main
from tests.argvparts import Words, words
from tests.cluster.fakeapi import FakeApi, plant_release, release_secret
from tests.delivery.conftest import ServiceRemote, git

pytestmark = pytest.mark.helm

OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
REPOSITORY = "registry.gitlab.com/gitops-poc/api-gateway"
ALWAYS_DENY = {"kind": "deny", "schedule": "* * * * *", "duration": "1h", "description": "release freeze"}


@pytest.fixture
def pushed(service_remote: ServiceRemote, push_mode: FakeApi) -> list[str]:
    """Push mode; staging got 1.0.0@OLD (pipeline 10), then 2.0.0@NEW (pipeline 11); its release is at
    revision 3 in the API stand-in."""
    for namespace in ("poc-staging", "poc-prod"):
        plant_release(push_mode, release_secret("api-gateway", namespace, 3, "deployed", "Upgrade complete"))
    c = ["-C", str(service_remote.clone), "--push"]
    for tag, digest, pipeline in (("1.0.0", OLD, "10"), ("2.0.0", NEW, "11")):
        bump = [
            "ci",
            "bump",
            *c,
            "--env",
            "staging",
            "--tag",
            tag,
            "--digest",
            digest,
            "--pipeline",
            pipeline,
        ]
        assert main(bump) == 0
    return c


def upgrades(started: list[list[str]]) -> list[Words]:
    return [words(argv[1:]) for argv in started if argv[0].endswith("helm") and argv[1] == "upgrade"]


def test_dry_run_shows_the_diff_and_the_helm_command_and_runs_nothing(
    pushed: list[str], service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    head = service_remote.head()
    capsys.readouterr()
    with proc.recording() as started:
        assert main(["ci", "rollback", *pushed, "--env", "staging", "--dry-run", "-o", "json"]) == 0
    captured = capsys.readouterr()
    shown = json.loads(captured.out)
    assert f"+  tag: 1.0.0@{OLD}" in shown["diff"].replace('"', "")
    command = shown["deploy"]["command"]
    assert f"Would run: {command}" in captured.err
    planned = words(shlex.split(command)[1:])
    assert planned.words == ["upgrade"] and "--install" in planned.flags
    assert planned.operands == ["api-gateway", "app"]
    assert planned.options["--set-string"] == [f"image.repository={REPOSITORY}", f"image.tag=1.0.0@{OLD}"]
    assert planned.one("--namespace") == "poc-staging" and planned.one("--kube-context") == "minikube"
    assert planned.one("--description").startswith(
        f"Rollback-from: {REPOSITORY}:2.0.0@{NEW}; Rollback-to: {REPOSITORY}:1.0.0@{OLD}; Rollback-source: "
    )
    assert upgrades(started) == []  # nothing ran but `helm version`
    assert service_remote.head() == head


def test_rollback_commits_and_pins_then_redeploys_through_helm(
    pushed: list[str], service_remote: ServiceRemote, fake_api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    with proc.recording() as started:
        code = main(
            ["ci", "rollback", *pushed, "--env", "staging", "--reason", "2.0 leaks memory", "-o", "json"]
        )
    captured = capsys.readouterr()
    assert code == 1, captured.err
    # The commit went first: the earlier image, exactly, pinned, with its trailers.
    staging = service_remote.remote_file(".cicd/staging.yaml")
    assert f"tag: 1.0.0@{OLD}" in staging.replace('"', "") and "gitops-poc:pin" in staging
    message = git(service_remote.bare, "log", "-1", "--format=%B", "main")
    assert f"Rollback-to: {REPOSITORY}:1.0.0@{OLD}" in message
    # Then helm upgrade, the command `ci deploy` runs, with the rolled-back image and the rollback recorded.
    [upgrade] = upgrades(started)
    assert upgrade.operands == ["api-gateway", "app"] and upgrade.one("--namespace") == "poc-staging"
    assert upgrade.options["--set-string"] == [f"image.repository={REPOSITORY}", f"image.tag=1.0.0@{OLD}"]
    assert upgrade.options["--values"] == [
        str(service_remote.clone / ".cicd/default.yaml"),
        str(service_remote.clone / ".cicd/staging.yaml"),
    ]
    assert upgrade.one("--kube-context") == "minikube" and "--rollback-on-failure" in upgrade.flags
    description = upgrade.one("--description")
    assert description.startswith(
        f"Rollback-from: {REPOSITORY}:2.0.0@{NEW}; Rollback-to: {REPOSITORY}:1.0.0@"
    )
    assert "unknown flag" not in captured.err  # helm took every option; it stopped at the stand-in
    # One JSON document: the write and the deploy; the failure says what it left and how to finish.
    report = json.loads(captured.out)
    assert report["result"] == "updated" and report["pin"]["reason"].endswith("2.0 leaks memory")
    assert report["deploy"]["ok"] is False and report["deploy"]["description"] == description
    assert report["deploy"]["message"] == (
        "helm upgrade of api-gateway in poc-staging failed (exit 1) before changing anything: the release is "
        "still at revision 3 (deployed); the rollback commit stands (pinned): `ci deploy --env staging --tag "
        f"1.0.0 --digest {OLD} --repository {REPOSITORY}` deploys it"
    )
    assert report["deploy"]["message"] in " ".join(captured.err.split())
    assert not [r for r in fake_api.requests if r.method in {"POST", "PUT", "DELETE"}]


def test_a_rollback_that_writes_nothing_deploys_nothing(
    pushed: list[str], service_remote: ServiceRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNC_WINDOWS", json.dumps([{**ALWAYS_DENY, "namespaces": ["poc-staging"]}]))
    head = service_remote.head()
    with proc.recording() as started:
        assert main(["ci", "rollback", *pushed, "--env", "staging"]) == 7  # held by the freeze
        assert main(["ci", "rollback", *pushed, "--env", "staging", "--steps", "5"]) == 2  # no such image
    assert upgrades(started) == [] and service_remote.head() == head


def test_deploy_break_glass_reason_goes_into_the_release(
    pushed: list[str],
    service_remote: ServiceRemote,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deploy = ["ci", "deploy", "-C", str(service_remote.clone), "--env", "prod", "--tag", "7.0.0"]
    with proc.recording() as started:
        assert main(deploy) == 1  # no freeze: no description
        monkeypatch.setenv("SYNC_WINDOWS", json.dumps([{**ALWAYS_DENY, "namespaces": ["poc-prod"]}]))
        assert main(deploy) == 7  # held, before helm
        capsys.readouterr()
        assert main([*deploy, "--break-glass", "--reason", "INC-42  hotfix\tfor the login outage"]) == 1
    printed = capsys.readouterr().err
    plain, glass = upgrades(started)
    assert "--description" not in plain.options
    description = glass.one("--description")
    assert description.startswith(
        "Break-glass: INC-42 hotfix for the login outage; Freeze-window: inside a deny window: deny window #1"
    )
    assert "release freeze" in description
    assert "unknown flag" not in printed
    one_line = " ".join(printed.split())
    assert "break-glass:" in one_line and "'--description=Break-glass: INC-42 hotfix" in one_line


def test_the_next_pipelines_deploy_stands_down_until_unpinned(
    pushed: list[str], service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rollback sticks in push mode too: the next pipeline's checkout holds the pin, so its `ci deploy
    --tag` stands down (exit 5) before helm; a deploy without --tag deploys the pinned file's image."""
    assert (
        main(["ci", "rollback", *pushed, "--env", "staging"]) == 1
    )  # committed; helm stopped at the stand-in
    checkout = service_remote.new_clone("next-pipeline")
    deploy = ["ci", "deploy", "-C", str(checkout), "--env", "staging"]
    capsys.readouterr()
    with proc.recording() as started:
        assert main([*deploy, "--tag", "3.0.0"]) == 5
        held = " ".join(capsys.readouterr().err.split())
        assert main(deploy) == 1  # the values files' image: helm runs (and stops at the stand-in)
        # The pinned image itself, given exactly (what a failed rollback's message says to run): helm runs.
        exact = ["--tag", "1.0.0", "--digest", OLD, "--repository", REPOSITORY]
        assert main([*deploy, *exact]) == 1
        assert main([*deploy, "--tag", "1.0.0"]) == 5  # without its digest it is another image
    assert "staging is pinned by " in held and "rollback to 1.0.0@" in held
    assert "not deploying 3.0.0 (nothing was changed; `ci unpin --env staging` releases it" in held
    pinned_image, given_exactly = upgrades(started)
    assert "--set-string" not in pinned_image.options
    assert given_exactly.options["--set-string"] == [
        f"image.repository={REPOSITORY}",
        f"image.tag=1.0.0@{OLD}",
    ]
    assert main(["ci", "unpin", *pushed, "--env", "staging"]) == 0
    git(checkout, "pull", "-q", "--ff-only")
    with proc.recording() as started:
        assert main([*deploy, "--tag", "3.0.0"]) == 1
    [released] = upgrades(started)
    assert released.options["--set-string"] == ["image.tag=3.0.0"]
