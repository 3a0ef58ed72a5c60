"""The progress of a waiting step: labels name things, never values; a terminal gets a status line with the
seconds elapsed; a step with a live display of its own gets plain lines."""

from __future__ import annotations

import io
import time

import pytest
from rich.console import Console

from gitops_poc.cli import waiting as waiting_module
from gitops_poc.cli.waiting import Waiting, step_label
from gitops_poc.cluster.model import ApplyObject, HelmRelease, Hidden, VaultBootstrap, WaitReady

SECRET = "PLANTED-label-secret-9z"


def test_labels_name_the_release_namespace_or_object_never_a_value() -> None:
    agent = HelmRelease(
        "gitlab-agent",
        "gitlab-agent",
        "gitlab-agent",
        "https://charts.gitlab.io",
        "2.21.0",
        private_values=Hidden.of({"config.token": SECRET}),
        context="gke-prod",
    )
    secret = ApplyObject.of(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "regsecret", "namespace": "poc-dev"}},
        Hidden.of({".dockerconfigjson": SECRET}),
    )
    assert [
        step_label(s)
        for s in (agent, secret, WaitReady("argocd"), VaultBootstrap("vault", "vault", 8200, False))
    ] == [
        "helm release gitlab-agent in gitlab-agent [context gke-prod]",
        "apply Secret poc-dev/regsecret",
        "workloads in argocd",
        "vault in vault",
    ]


def _terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=100)


def test_a_terminal_gets_a_status_line_with_the_seconds_elapsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(waiting_module, "TERMINAL_REFRESH", 0.05)
    console = _terminal()
    with Waiting(console) as waiting:
        waiting.start("helm release argocd in argocd")
        time.sleep(1.2)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "helm release argocd in argocd (0 s)" in shown and "helm release argocd in argocd (1 s)" in shown
    assert "still waiting" not in shown


def test_a_step_with_its_own_live_display_gets_plain_lines_even_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(waiting_module, "PLAIN_INTERVAL", 0.05)
    console = _terminal()
    with Waiting(console) as waiting:
        waiting.start("vault in vault", live=False)
        time.sleep(0.2)
    assert "still waiting: vault in vault (0 s)" in console.file.getvalue()  # type: ignore[attr-defined]
