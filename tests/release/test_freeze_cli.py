"""Freeze windows checked by `ci bump`, `ci promote` and `ci deploy` when they run, on real git with a bare
remote: inside a deny window nothing is committed (exit 7, the window and its end named); --break-glass
--reason goes on and the commit carries the trailers; a manually started job passes a manualSync window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gitops_poc.cli import main
from tests.delivery.conftest import ServiceRemote, git

ALWAYS_DENY = {"kind": "deny", "schedule": "* * * * *", "duration": "1h", "description": "release freeze"}


def windows(monkeypatch: pytest.MonkeyPatch, *items: dict[str, object]) -> None:
    monkeypatch.setenv("SYNC_WINDOWS", json.dumps(list(items)))
    monkeypatch.setenv("SERVICE_NAME", "api-gateway")


def bump(remote: ServiceRemote, *extra: str) -> int:
    args = ["ci", "bump", "-C", str(remote.clone), "--push", "--env", "prod", "--tag", "7.0.0"]
    return main([*args, "--pipeline", "40", *extra])


def test_a_bump_inside_a_deny_window_changes_nothing(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    windows(monkeypatch, {**ALWAYS_DENY, "namespaces": ["poc-prod"]})
    head = service_remote.head()
    assert bump(service_remote) == 7
    err = capsys.readouterr().err
    assert "api-gateway-prod" in err and "release freeze" in err and "deny window #1" in err
    assert "no end within 62 days" in err and "--break-glass" in err
    assert service_remote.head() == head
    # Another environment's Application is not matched: dev goes on.
    assert (
        main(["ci", "bump", "-C", str(service_remote.clone), "--push", "--env", "dev", "--tag", "7.0.0"]) == 0
    )


def test_the_message_says_when_the_freeze_ends(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fired a minute or two ago, open for an hour. (A window firing every minute for a minute never lets a
    # sync through but for an instant: that is no end.)
    fired = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    schedule = f"{fired.minute} {fired.hour} * * *"
    windows(monkeypatch, {"kind": "deny", "schedule": schedule, "duration": "1h", "applications": ["*-prod"]})
    assert bump(service_remote) == 7
    end = (fired + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"the freeze ends at {end}" in capsys.readouterr().err


def test_break_glass_goes_on_and_is_recorded(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    windows(monkeypatch, {**ALWAYS_DENY, "applications": ["api-gateway-*"]})
    assert bump(service_remote, "--break-glass") == 2
    assert "--break-glass needs --reason" in capsys.readouterr().err
    assert bump(service_remote, "--break-glass", "--reason", "INC-42 hotfix for the login outage") == 0
    trailers = git(service_remote.bare, "log", "-1", "--format=%(trailers:only,unfold)", "main")
    assert "Break-glass: INC-42 hotfix for the login outage" in trailers
    assert "Freeze-window: inside a deny window: deny window #1" in trailers
    assert "Pipeline: 40" in trailers


def test_promote_is_held_and_a_manual_job_passes_a_manual_sync_window(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    c = ["-C", str(service_remote.clone), "--push"]
    assert main(["ci", "bump", *c, "--env", "dev", "--tag", "8.0.0", "--pipeline", "50"]) == 0
    windows(monkeypatch, {**ALWAYS_DENY, "namespaces": ["poc-staging"], "manualSync": True})
    head = service_remote.head()
    assert main(["ci", "promote", *c, "--from", "dev", "--to", "staging"]) == 7
    assert service_remote.head() == head
    monkeypatch.setenv("CI_JOB_MANUAL", "true")
    capsys.readouterr()
    assert main(["ci", "promote", *c, "--from", "dev", "--to", "staging"]) == 0
    assert "manualSync" in capsys.readouterr().err


def test_outside_every_allow_window_is_held_until_it_opens(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A daily allow window that opens in two hours and lasts one: closed now, its next opening named.
    # (A fixed date would stop being the next one once it has passed.)
    opens = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
    windows(
        monkeypatch,
        {
            "kind": "allow",
            "schedule": f"{opens.minute} {opens.hour} * * *",
            "duration": "1h",
            "clusters": ["in-cluster", "https://kubernetes.default.svc"],
        },
    )
    assert bump(service_remote) == 7
    err = capsys.readouterr().err
    assert "outside every allow window" in err
    assert f"the next allow window opens at {opens:%Y-%m-%dT%H:%M:%SZ}" in err


def test_release_config_file_and_bad_windows(
    service_remote: ServiceRemote,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    config = tmp_path / "release.yaml"
    config.write_text(
        "syncWindows:\n  - kind: deny\n    schedule: '* * * * *'\n    duration: 1h\n    timeZone: Mars/Base\n"
    )
    assert bump(service_remote, "--release-config", str(config)) == 2
    err = capsys.readouterr().err
    assert "syncWindows[0].timeZone" in err and "Mars/Base" in err
    monkeypatch.setenv("SYNC_WINDOWS", '[{"kind": "deny", "schedule": "* * * * 7", "duration": "1h"}]')
    assert bump(service_remote) == 2
    assert "SYNC_WINDOWS[0].schedule" in capsys.readouterr().err


def test_deploy_inside_a_window_stops_before_helm(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    windows(monkeypatch, {**ALWAYS_DENY, "namespaces": ["poc-prod"]})
    monkeypatch.setenv("PATH", "/nonexistent")  # helm (and anything else) cannot run: the check comes first
    code = main(["ci", "deploy", "-C", str(service_remote.clone), "--env", "prod", "--tag", "7.0.0"])
    assert code == 7
    assert "deploy of api-gateway-prod refused" in capsys.readouterr().err
