"""A failed `ci deploy` says what it left: nothing changed (helm failed before recording a revision), rolled
back, uninstalled, or a revision left failed. The judgement as data (history shaped as `helm history -o
json` prints it), and the REAL helm binary: against no cluster (fails before installing), and reading the
release history from the Kubernetes API stand-in at the HTTP boundary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.config import parse_config
from gitops_poc.delivery.deploy import plan_deploy, release_history
from gitops_poc.delivery.outcome import History, Revision, failure_message
from gitops_poc.platform import Platform
from tests.cluster.fakeapi import FakeApi, plant_release, release_secret, serve_fake_api
from tests.conftest import require_binary

HELM4_ROLLED_BACK = (
    "Error: UPGRADE FAILED: release api-gateway failed, and has been rolled back due to rollback-on-failure "
    "being set: context deadline exceeded\n"
)
HELM3_UNINSTALLED = (
    "Error: INSTALLATION FAILED: release api-gateway failed, and has been uninstalled due to atomic being "
    "set: timed out waiting for the condition\n"
)


def _history(*rows: tuple[int, str, str]) -> History:
    return History(tuple(Revision(n, status, description) for n, status, description in rows))


DEPLOYED_3 = _history((1, "superseded", "Install complete"), (3, "deployed", "Upgrade complete"))


def _message(output: str, before: History, after: History) -> str:
    return failure_message("api-gateway", "poc-prod", 1, output, before, after)


def test_unchanged_history_means_helm_failed_before_changing_anything() -> None:
    assert _message("Error: UPGRADE FAILED: template: app/x.yaml: bad\n", DEPLOYED_3, DEPLOYED_3) == (
        "helm upgrade of api-gateway in poc-prod failed (exit 1) before changing anything: the release is "
        "still at revision 3 (deployed)"
    )
    assert _message("Error: INSTALLATION FAILED: chart not found\n", History(), History()) == (
        "helm upgrade of api-gateway in poc-prod failed (exit 1) before installing anything: there is still "
        "no release api-gateway"
    )


def test_a_new_rollback_revision_means_helm_rolled_it_back() -> None:
    after = _history(
        (3, "superseded", "Upgrade complete"),
        (4, "failed", 'Upgrade "api-gateway" failed: context deadline exceeded'),
        (5, "deployed", "Rollback to 3"),
    )
    assert _message(HELM4_ROLLED_BACK, DEPLOYED_3, after) == (
        "helm upgrade of api-gateway in poc-prod failed (exit 1): revision 4 did not roll out and helm "
        "rolled it back (revision 5 restores revision 3)"
    )


def test_a_first_install_uninstalled_again_and_a_revision_left_failed() -> None:
    assert "helm installed it, the rollout failed, and helm uninstalled it again" in _message(
        HELM3_UNINSTALLED, History(), History()
    )
    after = _history((3, "superseded", "Upgrade complete"), (4, "failed", "Upgrade failed: boom"))
    message = _message("Error: an error occurred while rolling back the release\n", DEPLOYED_3, after)
    assert message == (
        "helm upgrade of api-gateway in poc-prod failed (exit 1): revision 4 is left failed, NOT rolled back "
        "(Upgrade failed: boom); `helm rollback api-gateway 3 -n poc-prod` restores what ran before"
    )


def test_without_a_history_helms_own_words_decide_and_silence_is_unknown() -> None:
    lost = History(unreadable="kubernetes cluster unreachable: connection refused")
    assert _message(HELM4_ROLLED_BACK, DEPLOYED_3, lost).endswith(
        "helm says it rolled the release back (its history could not be read: kubernetes cluster "
        "unreachable: connection refused)"
    )
    assert _message("Error: kubernetes cluster unreachable: dial tcp\n", lost, lost).endswith(
        "before changing anything: helm could not reach the cluster"
    )
    assert "whether it changed the release is unknown" in _message("Error: boom\n", DEPLOYED_3, lost)
    for output in ("Error: boom\n", "Error: kubernetes cluster unreachable\n"):
        assert "rolled" not in _message(output, lost, lost)


def test_ci_deploy_against_no_cluster_says_nothing_changed_not_rolled_back(
    generated_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real helm: `upgrade --install` against a cluster that does not answer fails before installing."""
    helm = require_binary("helm")
    monkeypatch.setattr("gitops_poc.render.helm.find_helm", lambda root=None: helm)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "gone", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "gone", "user": {}}],
                "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "gone"}}],
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("HELM_CACHE_HOME", str(tmp_path / "helm-cache"))
    monkeypatch.setenv("CHART_REPO", "http://127.0.0.1:9")
    service = generated_root / "services" / "api-gateway"
    args = ["ci", "deploy", "-C", str(service), "--service", "api-gateway", "--env", "dev"]
    assert main([*args, "--kube-context", "gone"]) == 1
    printed = capsys.readouterr().err
    assert "Error: kubernetes cluster unreachable" in printed  # helm's own output, passed through
    assert (
        "helm upgrade of api-gateway in poc-dev failed (exit 1) before changing anything: helm could not "
        "reach the cluster" in " ".join(printed.split())
    )
    assert "rolled" not in printed
    assert main([*args, "--kube-context", "gone", "--output", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["message"].endswith("helm could not reach the cluster")
    for side in ("before", "after"):
        assert report["history"][side]["revision"] is None
        assert "kubernetes cluster unreachable" in report["history"][side]["unreadable"]


def _plant(api: FakeApi, *rows: tuple[int, str, str]) -> None:
    for version, status, description in rows:
        plant_release(api, release_secret("api-gateway", "poc-prod", version, status, description))


def test_release_history_reads_what_the_real_helm_reports(
    generated_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helm = require_binary("helm")
    monkeypatch.setenv("HOME", str(tmp_path))
    platform = Platform(parse_config("", ".env", {}))
    plan = plan_deploy(
        platform,
        generated_root / "services" / "api-gateway",
        "api-gateway",
        "prod",
        None,
        kube_context="minikube",
    )
    with serve_fake_api() as api:
        api.anonymous = True  # helm sends no bearer token over plain HTTP
        monkeypatch.setenv("KUBECONFIG", str(api.kubeconfig(tmp_path)))
        assert release_history(plan, helm) == History()  # "release: not found": not installed
        _plant(
            api,
            (1, "superseded", "Install complete"),
            (2, "failed", 'Upgrade "api-gateway" failed: context deadline exceeded'),
            (3, "deployed", "Rollback to 1"),
        )
        history = release_history(plan, helm)
        assert history.revisions == (
            Revision(1, "superseded", "Install complete"),
            Revision(2, "failed", 'Upgrade "api-gateway" failed: context deadline exceeded'),
            Revision(3, "deployed", "Rollback to 1"),
        )
        listed = [r for r in api.requests if r.path == "/api/v1/namespaces/poc-prod/secrets"]
        assert listed and listed[-1].query["labelSelector"] == ["name=api-gateway,owner=helm"]
        api.fail[("GET", "/api/v1/namespaces/poc-prod/secrets")] = (403, "secrets is forbidden")
        denied = release_history(plan, helm)
        # A history helm cannot read is "unreadable" with helm's reason, never "not installed".
        assert denied.revisions == () and "(get secrets)" in (denied.unreadable or "")


def test_ci_deploy_that_helm_refuses_before_upgrading_keeps_the_revision(
    generated_root: Path,
    k8app_repo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The real helm and the published chart, against the API stand-in holding revision 3: helm renders the
    chart, then fails before recording a revision; the message says the release is still at revision 3."""
    helm = require_binary("helm")
    monkeypatch.setattr("gitops_poc.render.helm.find_helm", lambda root=None: helm)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CHART_REPO", k8app_repo)
    with serve_fake_api() as api:
        api.anonymous = True
        monkeypatch.setenv("KUBECONFIG", str(api.kubeconfig(tmp_path)))
        _plant(api, (1, "superseded", "Install complete"), (3, "deployed", "Upgrade complete"))
        service = generated_root / "services" / "api-gateway"
        code = main(["ci", "deploy", "-C", str(service), "--service", "api-gateway", "--env", "prod"])
        printed = " ".join(capsys.readouterr().err.split())
        assert code == 1, printed
        assert (
            "helm upgrade of api-gateway in poc-prod failed (exit 1) before changing anything: the release "
            "is still at revision 3 (deployed)" in printed
        ), printed
        assert not [r for r in api.requests if r.method in {"POST", "PUT", "DELETE"}]
        # Scripts reading JSON get the failure as an object on stdout, with the same exit code.
        assert (
            main(
                [
                    "ci",
                    "deploy",
                    "-C",
                    str(service),
                    "--service",
                    "api-gateway",
                    "--env",
                    "prod",
                    "-o",
                    "json",
                ]
            )
            == 1
        )
        printed = capsys.readouterr()
        report = json.loads(printed.out)
        assert report["ok"] is False and report["deployed"] is False and report["helm_exit_code"] == 1
        assert report["message"] == (
            "helm upgrade of api-gateway in poc-prod failed (exit 1) before changing anything: the release "
            "is still at revision 3 (deployed)"
        )
        revision_3 = {"number": 3, "status": "deployed", "description": "Upgrade complete"}
        assert report["history"] == {
            "before": {"revision": revision_3, "unreadable": None},
            "after": {"revision": revision_3, "unreadable": None},
        }
        assert (report["release"], report["namespace"]) == ("api-gateway", "poc-prod")
        assert report["message"] in " ".join(printed.err.split())  # and the message on stderr, as before
