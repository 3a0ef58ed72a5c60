"""`ci rollback` on a real git history with a bare remote: bumps, promotions, a pin and a repository change;
the exact earlier image comes back with a pin, and a newer pipeline's bump stands down because of it."""

from __future__ import annotations

import json

import pytest

from gitops_poc.cli import main
from gitops_poc.delivery.pins import find_pin
from gitops_poc.delivery.values import read_image
from tests.delivery.conftest import ServiceRemote, git

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def history(remote: ServiceRemote) -> list[str]:
    """dev: 1.0.0@A (p10) -> 1.1.0@B (p11); staging: promoted 1.0.0 then 1.1.0; a pin and unpin on
    staging in between; prod: 1.0.0 (p10) then 2.0.0 from another repository (p12)."""
    c = ["-C", str(remote.clone), "--push"]
    steps = [
        ["ci", "bump", *c, "--env", "dev", "--tag", "1.0.0", "--digest", DIGEST_A, "--pipeline", "10"],
        ["ci", "promote", *c, "--from", "dev", "--to", "staging"],
        ["ci", "bump", *c, "--env", "prod", "--tag", "1.0.0", "--digest", DIGEST_A, "--pipeline", "10"],
        ["ci", "bump", *c, "--env", "dev", "--tag", "1.1.0", "--digest", DIGEST_B, "--pipeline", "11"],
        ["ci", "pin", *c, "--env", "staging", "--reason", "audit"],
        ["ci", "unpin", *c, "--env", "staging"],
        ["ci", "promote", *c, "--from", "dev", "--to", "staging"],
        [
            "ci",
            "bump",
            *c,
            "--env",
            "prod",
            "--tag",
            "2.0.0",
            "--pipeline",
            "12",
            "--repository",
            "registry.example.com/new/api-gateway",
        ],
    ]
    for args in steps:
        assert main(args) == 0, args
    return c


def staging(remote: ServiceRemote) -> str:
    return remote.remote_file(".cicd/staging.yaml")


def test_rollback_restores_the_exact_image_pins_and_a_newer_bump_stands_down(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    c = history(service_remote)
    capsys.readouterr()
    assert (
        main(["ci", "rollback", *c, "--env", "staging", "--reason", "1.1.0 leaks memory", "-o", "json"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["result"] == "updated" and data["pushed"]
    state = read_image(staging(service_remote), "staging")
    assert (state.repository, state.tag, state.digest, state.pipeline) == (
        "registry.gitlab.com/gitops-poc/api-gateway",
        "1.0.0",
        DIGEST_A,
        10,
    )
    pin = find_pin(staging(service_remote), "staging")
    assert pin is not None and "rollback to 1.0.0@" in pin.reason and "1.1.0 leaks memory" in pin.reason
    trailers = git(service_remote.bare, "log", "-1", "--format=%(trailers:only,unfold)", "main")
    assert f"Rollback-from: registry.gitlab.com/gitops-poc/api-gateway:1.1.0@{DIGEST_B}" in trailers
    assert f"Rollback-to: registry.gitlab.com/gitops-poc/api-gateway:1.0.0@{DIGEST_A}" in trailers
    assert "Rollback-source: " in trailers
    # Key-level: everything but the image lines and the pin line is as before.
    before = git(service_remote.bare, "show", "main~1:.cicd/staging.yaml").splitlines()
    after = staging(service_remote).splitlines()
    assert [line for line in after if line not in before and "gitops-poc:pin" not in line] == [
        f'  tag: "1.0.0@{DIGEST_A}" # gitops-poc: pipeline 10'
    ]
    # A newer pipeline (13) does not undo it: its bump and a promotion stand down on the pin.
    head = service_remote.head()
    assert main(["ci", "bump", *c, "--env", "staging", "--tag", "1.2.0", "--pipeline", "13"]) == 5
    assert main(["ci", "promote", *c, "--from", "dev", "--to", "staging"]) == 5
    assert service_remote.head() == head
    # Until it is released.
    assert main(["ci", "unpin", *c, "--env", "staging"]) == 0
    assert main(["ci", "bump", *c, "--env", "staging", "--tag", "1.2.0", "--pipeline", "13"]) == 0


def test_rollback_by_steps_and_to_a_tag_or_commit(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    c = history(service_remote)
    first_bump = git(
        service_remote.bare, "log", "--reverse", "--format=%H", "main", "--", ".cicd/dev.yaml"
    ).split()[1]  # [0] is the seed's 0.1.0
    assert main(["ci", "rollback", *c, "--env", "dev", "--to", first_bump]) == 0
    assert read_image(service_remote.remote_file(".cicd/dev.yaml"), "d").tag == "1.0.0"
    assert main(["ci", "unpin", *c, "--env", "dev"]) == 0
    capsys.readouterr()
    # dev now: 1.0.0 (rollback) <- 1.1.0 <- 1.0.0 <- seed; two steps back is the rolled-back-from 1.1.0
    assert main(["ci", "rollback", *c, "--env", "dev", "--steps", "1"]) == 0
    assert read_image(service_remote.remote_file(".cicd/dev.yaml"), "d").tag == "1.1.0"
    assert main(["ci", "rollback", *c, "--env", "dev", "--to", "no-such-tag"]) == 2
    assert "neither a commit nor an earlier tag" in capsys.readouterr().err
    assert main(["ci", "rollback", *c, "--env", "dev", "--steps", "99"]) == 2
    assert "earlier image(s)" in capsys.readouterr().err


def test_rollback_across_a_repository_change_is_refused_unless_asked(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    c = history(service_remote)
    head = service_remote.head()
    capsys.readouterr()
    assert main(["ci", "rollback", *c, "--env", "prod"]) == 2
    err = capsys.readouterr().err
    assert "changes the image repository" in err and "registry.example.com/new/api-gateway" in err
    assert service_remote.head() == head
    assert main(["ci", "rollback", *c, "--env", "prod", "--allow-repository-change"]) == 0
    state = read_image(service_remote.remote_file(".cicd/prod.yaml"), "p")
    assert (state.repository, state.tag, state.digest) == (
        "registry.gitlab.com/gitops-poc/api-gateway",
        "1.0.0",
        DIGEST_A,
    )


def test_dry_run_shows_the_change_and_writes_nothing(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    c = history(service_remote)
    head = service_remote.head()
    capsys.readouterr()
    assert main(["ci", "rollback", *c, "--env", "staging", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert f'+  tag: "1.0.0@{DIGEST_A}" # gitops-poc: pipeline 10' in captured.out
    assert "+# gitops-poc:pin" in captured.out and "nothing was written" in captured.err
    assert service_remote.head() == head


def test_a_history_without_an_earlier_image_says_so(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    c = ["-C", str(service_remote.clone), "--push"]
    assert main(["ci", "rollback", *c, "--env", "dev"]) == 2
    assert "no earlier image" in capsys.readouterr().err


def test_a_rollback_inside_a_freeze_is_held(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    c = history(service_remote)
    monkeypatch.setenv(
        "SYNC_WINDOWS",
        json.dumps(
            [{"kind": "deny", "schedule": "* * * * *", "duration": "1h", "namespaces": ["poc-staging"]}]
        ),
    )
    monkeypatch.setenv("SERVICE_NAME", "api-gateway")
    head = service_remote.head()
    assert main(["ci", "rollback", *c, "--env", "staging"]) == 7
    assert service_remote.head() == head
    assert main(["ci", "rollback", *c, "--env", "staging", "--break-glass", "--reason", "outage"]) == 0
    assert "Break-glass: outage" in git(service_remote.bare, "log", "-1", "--format=%B", "main")
