"""Re-runs: a release helm already runs as planned is not upgraded again (read by the REAL helm from the
API stand-in; what helm stored is computed by the real helm from the recorded call), the dry run says which
releases would change, and a step that waits shows progress. A planted token appears in no process
argument, no output and no log line."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.cli import waiting as waiting_module
from gitops_poc.cli.output import OutputFormat
from gitops_poc.cli.setup import carry_out
from gitops_poc.cluster.apply import ClusterRunner
from gitops_poc.cluster.model import ClusterPlan, HelmRelease, WaitReady
from gitops_poc.render.helm import Helm
from tests.argvparts import words
from tests.cluster.fakeapi import FakeApi, plant_release, release_secret, unreachable_kubeconfig
from tests.cluster.helm_config import config_for_call
from tests.cluster.standins import calls
from tests.conftest import require_binary

TOKEN = "glagent-PLANTED-rerun-0a1b2c"
NEW_TOKEN = "glagent-PLANTED-rotated-3d4e5f"


def _upgrades(standins: Path) -> list[dict[str, object]]:
    return [c for c in calls(standins / "helm.log") if c["args"][:1] == ["upgrade"]]  # type: ignore[index]


def test_push_rerun_leaves_the_agent_release_alone_until_its_token_changes(
    tmp_path: Path,
    cluster: FakeApi,
    standins: Path,
    processes: list[list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    helm = require_binary("helm")
    monkeypatch.setenv("GITLAB_AGENT_TOKEN", TOKEN)
    root = ["-C", str(tmp_path)]
    assert main(["init", *root, "--yes"]) == 0
    capsys.readouterr()
    assert main(["setup", "push", *root]) == 0
    first = capsys.readouterr().err
    assert "upgrade: not installed" in first
    [call] = _upgrades(standins)

    # What helm would have stored for exactly that call, as revision 1 in the API stand-in.
    subprocess.run([helm, "create", str(tmp_path / "starter")], check=True, capture_output=True)
    config = config_for_call(helm, call, tmp_path, chart=str(tmp_path / "starter"))
    version = words(call["args"]).one("--version")  # type: ignore[arg-type]
    plant_release(
        cluster,
        release_secret(
            "gitlab-agent", "gitlab-agent", 1, "deployed", chart=("gitlab-agent", version), config=config
        ),
    )

    assert main(["setup", "push", *root, "--dry-run"]) == 0
    dry = capsys.readouterr().err
    assert f"helm release gitlab-agent in gitlab-agent: gitlab-agent {version} unchanged (revision 1)" in dry
    assert "releases: 0 would be installed or upgraded (-), 1 already current (gitlab-agent)" in dry

    assert main(["setup", "push", *root]) == 0
    second = capsys.readouterr().err
    assert len(_upgrades(standins)) == 1  # no new revision
    assert re.search(r"\d+/\d+ helm release gitlab-agent .* unchanged \(revision 1\), skipped", second)
    assert "1 release(s) unchanged" in second

    # A rotated token is a difference: upgraded, the reason names the key, never a value.
    monkeypatch.setenv("GITLAB_AGENT_TOKEN", NEW_TOKEN)
    assert main(["setup", "push", *root]) == 0
    third = capsys.readouterr().err
    assert len(_upgrades(standins)) == 2
    assert "upgrade: revision 1 has other values (config.token)" in third
    printed = first + dry + second + third + caplog.text
    for secret in (TOKEN, NEW_TOKEN):
        assert not any(secret in arg for argv in processes for arg in argv), secret
        assert secret not in printed, secret


def test_dry_run_without_a_reachable_cluster_says_so_and_plans_every_upgrade(
    tmp_path: Path, standins: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = unreachable_kubeconfig(tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(config))
    assert main(["setup", "infrastructure", "-C", str(tmp_path), "--dry-run"]) == 0
    printed = capsys.readouterr().err
    assert printed.count("upgrade: its state could not be read (") == 3
    assert "kubernetes cluster unreachable" in printed
    planned = "releases: 3 would be installed or upgraded (vault, vault-secrets-operator, argocd), 0 already"
    assert planned in printed
    assert _upgrades(standins) == []


def test_a_waiting_step_prints_plain_progress_lines_off_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    slow = tmp_path / "helm"
    slow.write_text("#!/bin/sh\nsleep 0.5\n")  # a helm that takes its time to finish a release
    slow.chmod(0o755)
    monkeypatch.setattr(waiting_module, "PLAIN_INTERVAL", 0.1)
    release = HelmRelease("argocd", "argocd", "argo-cd", "https://r", "10.1.1")
    runner = ClusterRunner("minikube", Helm(str(slow)))
    started = time.monotonic()
    assert carry_out("t", ClusterPlan((release,)), runner, dry_run=False, output=OutputFormat.text) == 0
    assert time.monotonic() - started >= 0.5
    printed = capsys.readouterr().err
    lines = [line for line in printed.splitlines() if line.startswith("still waiting:")]
    assert len(lines) >= 3
    assert all(
        re.fullmatch(r"still waiting: helm release argocd in argocd \(\d+ s\)", line) for line in lines
    )
    # The progress stops with the step: nothing after the summary line.
    assert printed.rstrip().splitlines()[-1] == "Done: 1 step(s)."
    time.sleep(0.3)
    assert capsys.readouterr().err == ""


def test_a_failing_wait_stops_its_progress_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops_poc.cluster.apply import StepFailed

    failing = tmp_path / "helm"
    failing.write_text("#!/bin/sh\nsleep 0.3\necho 'Error: context deadline exceeded' >&2\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setattr(waiting_module, "PLAIN_INTERVAL", 0.1)
    plan = ClusterPlan((HelmRelease("vault", "vault", "vault", "https://r", "0.34.1"), WaitReady("vault")))
    with pytest.raises(StepFailed, match="context deadline exceeded"):
        carry_out(
            "t", plan, ClusterRunner("minikube", Helm(str(failing))), dry_run=False, output=OutputFormat.text
        )
    assert "still waiting: helm release vault in vault" in capsys.readouterr().err
    time.sleep(0.3)
    assert capsys.readouterr().err == ""


def test_a_release_unknown_when_planned_is_read_again_just_before_its_upgrade(
    tmp_path: Path, cluster: FakeApi, standins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """minikube stopped: the plan cannot read the releases (nor waits for a cluster that is not up); once
    minikube runs, each release is read again and a current one is not upgraded."""
    from gitops_poc.cli.setup import settle
    from gitops_poc.cluster.releases import wanted_values

    vso = HelmRelease("vault-secrets-operator", "vso", "vault-secrets-operator", "https://r", "1.4.1")
    argocd = HelmRelease("argocd", "argocd", "argo-cd", "https://r", "10.1.1")
    plan = settle(ClusterPlan((vso, argocd)), "minikube", not_up="minikube is not running yet")
    assert cluster.requests == []  # nothing read from a cluster that is not up
    assert [(s.upgrade_reason, s.state_unknown) for s in plan.steps] == [  # type: ignore[union-attr]
        ("its state could not be read (minikube is not running yet)", True)
    ] * 2
    # minikube runs now; the operator is deployed as planned, ArgoCD is not installed.
    chart = ("vault-secrets-operator", "1.4.1")
    plant_release(
        cluster, release_secret(vso.name, "vso", 3, "deployed", chart=chart, config=wanted_values(vso))
    )
    runner = ClusterRunner("minikube", Helm(str(standins / "helm")))
    assert carry_out("t", plan, runner, dry_run=False, output=OutputFormat.text) == 0
    assert [words(c["args"]).operands[0] for c in _upgrades(standins)] == ["argocd"]  # type: ignore[arg-type]
    assert "helm release vault-secrets-operator: read now, unchanged (revision 3)" in capsys.readouterr().err
