"""`rollout chart` on real git (a local bare gitops-config remote) with the published k8app chart served on
loopback (3.12.1 and 3.13.0): wave by wave, stopped by a planted render failure, resumed after the fix."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.changes import apply_changes
from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.generate import plan_init
from gitops_poc.lock import platform_lock
from gitops_poc.platform import Platform
from gitops_poc.render.crdschema import CrdSchemas
from gitops_poc.render.manifests import Manifest
from gitops_poc.render.validate import validate_manifests
from gitops_poc.rollout.waves import APPSET_PATH, deployed_versions
from tests.cluster.fakeapi import FakeApi

pytestmark = pytest.mark.helm
BROKEN = "service:\n  type: LoadBalancer\n"  # 3.13.0's NOTES.txt fails on it; 3.12.1 renders it


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def platform_root(
    tmp_path: Path, k8app_repo: str, session_chart_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(session_chart_cache))
    for key in ("CHART_REPO", "CHART_VERSION", "CHART_VERSIONS"):
        monkeypatch.delenv(key, raising=False)
    root = tmp_path / "platform"
    root.mkdir()
    env_text = f"CHART_REPO={k8app_repo}\nCHART_VERSION=3.12.1\n"
    (root / ".env").write_text(env_text)
    platform = Platform(load_config(root / ".env", {}))
    apply_changes(root, plan_init(platform, root))
    return root


def publish(platform_root: Path, bare: Path, work: Path) -> None:
    """gitops-config as `publish` leaves it: the folder's files at the root of the bare repository."""
    shutil.copytree(platform_root / "gitops-config", work)
    git("init", "-q", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "publish", cwd=work)
    git("push", "-q", str(bare), "main", cwd=work)


@pytest.fixture
def remote(tmp_path: Path, platform_root: Path) -> Path:
    bare = tmp_path / "remotes" / "gitops-poc" / "gitops-config.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    publish(platform_root, bare, tmp_path / "clone")
    return bare


def versions(bare: Path) -> dict[str, tuple[str, ...]]:
    return deployed_versions(git("--git-dir", str(bare), "show", f"main:{APPSET_PATH}"))


def commits(bare: Path) -> list[str]:
    return git("--git-dir", str(bare), "log", "--format=%s", "main").splitlines()


def rollout(
    capsys: pytest.CaptureFixture[str], root: Path, bare: Path, *extra: str, wait: bool = False
) -> tuple[int, str, str]:
    base = str(bare.parent.parent)
    argv = ["rollout", "chart", "3.13.0", "-C", str(root), "--remote-base", base, *extra]
    code = main(argv if wait else [*argv, "--no-wait"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def plant(root: Path, service: str, env: str) -> Path:
    path = root / "services" / service / ".cicd" / f"{env}.yaml"
    path.write_text(path.read_text() + BROKEN)
    return path


def test_waves_stop_at_a_render_failure_and_a_rerun_resumes_after_the_fix(
    platform_root: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert versions(remote) == {"dev": ("3.12.1",), "staging": ("3.12.1",), "prod": ("3.12.1",)}
    broken = plant(platform_root, "web-http", "staging")

    code, _, err = rollout(capsys, platform_root, remote, "--push", "--yes-production")
    assert code == 1, err
    error = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "stopped before writing staging" in error[0]
    assert "service web-http in staging" in error[0]
    # dev moved; staging and prod untouched: one commit, one environment.
    assert versions(remote) == {"dev": ("3.13.0",), "staging": ("3.12.1",), "prod": ("3.12.1",)}
    assert commits(remote) == ["rollout: chart app 3.13.0 in dev", "publish"]

    broken.write_text(broken.read_text().replace(BROKEN, ""))
    code, out, err = rollout(capsys, platform_root, remote, "--push", "--yes-production", "-o", "json")
    assert code == 0, err
    assert "dev: already on 3.13.0 (wave done before)" in err
    report = json.loads(out)
    assert [(w["env"], w["action"]) for w in report["waves"]] == [
        ("dev", "done-before"),
        ("staging", "not-waited"),
        ("prod", "not-waited"),
    ]
    assert all(v["error"] is None for w in report["waves"][1:] for v in w["verdicts"])
    assert versions(remote) == {"dev": ("3.13.0",), "staging": ("3.13.0",), "prod": ("3.13.0",)}
    assert commits(remote)[:2] == [
        "rollout: chart app 3.13.0 in prod",
        "rollout: chart app 3.13.0 in staging",
    ]
    # Only the environment's element changed in each wave.
    diff = git("--git-dir", str(remote), "diff", "main~1", "main")
    assert [
        line
        for line in diff.splitlines()
        if line.startswith(("+ ", "- ", "+\t", "-\t"))
        or (line[:1] in "+-" and not line.startswith(("+++", "---")))
    ] == ["-                  chartVersion: 3.12.1", "+                  chartVersion: 3.13.0"]

    # Done: a re-run writes nothing.
    code, _, err = rollout(capsys, platform_root, remote, "--push", "--yes-production")
    assert code == 0, err
    assert len(commits(remote)) == 4


def test_production_waits_for_its_explicit_go(
    platform_root: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = rollout(capsys, platform_root, remote, "--push")
    assert code == 1
    assert "prod is a production environment: pass --yes-production" in err
    assert versions(remote) == {"dev": ("3.13.0",), "staging": ("3.13.0",), "prod": ("3.12.1",)}


def test_an_environment_never_moves_before_the_ones_ahead_of_it(
    platform_root: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = rollout(capsys, platform_root, remote, "--push", "--env", "prod", "--yes-production")
    assert code == 1
    assert "prod comes after dev, staging in ENVIRONMENTS" in err and "roll dev out first" in err
    assert len(commits(remote)) == 1
    code, _, err = rollout(capsys, platform_root, remote, "--push", "--env", "dev")
    assert code == 0, err
    assert versions(remote) == {"dev": ("3.13.0",), "staging": ("3.12.1",), "prod": ("3.12.1",)}


def test_dry_run_prints_waves_and_verdicts_and_writes_nothing(
    platform_root: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plant(platform_root, "health-demo", "prod")
    code, out, err = rollout(capsys, platform_root, remote, "--dry-run", "-o", "json")
    assert code == 1, err  # a verdict failed
    waves = {w["env"]: w for w in json.loads(out)["waves"]}
    assert [w["action"] for w in waves.values()] == ["planned", "planned", "preflight-failed"]
    failed = [v for v in waves["prod"]["verdicts"] if v["error"]]
    assert [v["service"] for v in failed] == ["health-demo"]
    assert versions(remote)["dev"] == ("3.12.1",) and len(commits(remote)) == 1
    code, out, _ = rollout(capsys, platform_root, remote, "--dry-run")  # the same verdicts, one a line
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 15 and "dev: web-http: ok, " in out
    assert [line for line in lines if not line.split(": ")[2].startswith("ok, ")] == [
        line for line in lines if line.startswith("prod: health-demo: ")
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--env", "qa"], "--env 'qa': not in ENVIRONMENTS (dev staging prod)"),
        (["--push"], "chart app 9.9.9 from"),
    ],
)
def test_bad_input_is_exit_2_and_writes_nothing(
    platform_root: Path, remote: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    version = "9.9.9" if "9.9.9" in message else "3.13.0"
    code = main(
        [
            "rollout",
            "chart",
            version,
            "-C",
            str(platform_root),
            "--remote-base",
            str(remote.parent.parent),
            "--no-wait",
            "--push",
        ]
        + [e for e in extra if e != "--push"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert message in err, err
    assert len(commits(remote)) == 1


def test_a_second_rollout_at_once_refuses(
    platform_root: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with platform_lock(platform_root, "rollout chart"):
        code, _, err = rollout(capsys, platform_root, remote, "--push", "--yes-production")
    assert code == 2
    assert "is changing this platform folder" in err
    assert len(commits(remote)) == 1


def test_a_second_rollout_may_wait_a_bounded_time_for_the_first(
    platform_root: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading

    held, release = threading.Event(), threading.Event()

    def first() -> None:
        with platform_lock(platform_root, "rollout chart"):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=first)
    holder.start()
    held.wait(10)
    code, _, err = rollout(capsys, platform_root, remote, "--push", "--env", "dev", "--wait-lock", "0.5")
    assert code == 2 and "is changing this platform folder; `rollout chart` did nothing (waited 0.5s)" in err
    assert "waiting up to 0.5s for process" in err
    threading.Timer(0.5, release.set).start()
    code, _, err = rollout(capsys, platform_root, remote, "--push", "--env", "dev", "--wait-lock", "30")
    holder.join()
    assert code == 0, err
    assert "waiting up to 30s for process" in err
    assert versions(remote)["dev"] == ("3.13.0",)


def test_an_unreachable_remote_is_exit_2_and_a_rerun_resumes(
    platform_root: Path, remote: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    moved = tmp_path / "away.git"
    remote.rename(moved)
    code, _, err = rollout(capsys, platform_root, remote, "--push", "--yes-production")
    assert code == 2 and "cannot fetch branch 'main'" in err
    moved.rename(remote)
    assert len(commits(remote)) == 1


def test_a_remote_refusing_mid_rollout_keeps_the_waves_done_and_a_rerun_resumes(
    platform_root: Path, remote: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        'n=$(cat "$GIT_DIR/pushes" 2>/dev/null || echo 0)\n'
        'if [ "$n" -ge 1 ]; then echo "refused: the server is in maintenance" >&2; exit 1; fi\n'
        'echo $((n + 1)) > "$GIT_DIR/pushes"\n'
    )
    hook.chmod(0o755)
    code, _, err = rollout(capsys, platform_root, remote, "--push", "--yes-production")
    assert code == 2, err
    assert "refused: the server is in maintenance" in err and "a re-run continues" in err
    assert versions(remote) == {"dev": ("3.13.0",), "staging": ("3.12.1",), "prod": ("3.12.1",)}
    hook.unlink()
    code, _, err = rollout(capsys, platform_root, remote, "--push", "--yes-production")
    assert code == 0, err
    assert "dev: already on 3.13.0 (wave done before)" in err
    assert set(versions(remote).values()) == {("3.13.0",)}
    assert len(commits(remote)) == 4


def test_the_wait_polls_until_every_application_is_synced_and_healthy_on_the_version(
    platform_root: Path, remote: Path
) -> None:
    from gitops_poc.render.helm import Helm, find_helm
    from gitops_poc.rollout.chart import Rollout, Settings, Target, Tools

    platform = Platform(load_config(platform_root / ".env", {}))
    polls: list[str] = []

    def read_apps(env: str) -> dict[str, Any]:
        polls.append(env)
        ready = polls.count(env) >= 2  # the second look finds the environment on the new version
        version = "3.13.0" if ready else "3.12.1"
        return {
            f"{s}-{env}": {
                "spec": {"sources": [{"chart": "app", "targetRevision": version}]},
                "status": {
                    "sync": {"status": "Synced"},
                    "health": {"status": "Healthy" if ready else "Progressing"},
                },
            }
            for s in platform.services
        }

    said: list[str] = []
    tools = Tools(Helm(find_helm(None)), None, read_apps=read_apps, sleep=lambda _: None)
    run = Rollout(platform, platform_root, Target(str(remote), "main"), tools, said.append)
    results = run.run(Settings("3.13.0", ("dev",), wait_seconds=60, poll_seconds=1))
    assert [(r.wave.env, r.action) for r in results] == [("dev", "healthy")]
    assert polls == ["dev", "dev"]
    assert any("dev: waiting (5 not ready" in line and "deploys chart 3.12.1" in line for line in said)


def test_merge_requests_per_wave_against_a_gitlab_like_server(
    platform_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --push: a branch and a merge request for the wave, then the rollout stops until it is
    merged; a second run opens nothing new; after the merge the next run continues with the next wave."""
    from tests.gitlab.conftest import API_TOKEN
    from tests.gitlab.fake_gitlab import fake_gitlab

    with fake_gitlab(API_TOKEN, tmp_path / "gitlab-repos") as fake:
        monkeypatch.setenv("GITLAB_TOKEN", API_TOKEN)
        monkeypatch.setenv("GITLAB_URL", fake.url)  # the token's GitLab: the only origin it is sent to
        fake.add_group("gitops-poc")
        project = fake.add_project("gitops-poc", "gitops-config")
        bare = fake.git_root / "gitops-poc" / "gitops-config.git"
        publish(platform_root, bare, tmp_path / "clone")

        def run() -> tuple[int, str]:
            argv = ["rollout", "chart", "3.13.0", "-C", str(platform_root), "--remote-base", fake.url]
            code = main([*argv, "--no-wait"])
            return code, capsys.readouterr().err

        code, err = run()
        assert code == 0, err
        [mr] = fake.state.merge_requests[int(project["id"])]
        assert (mr["source_branch"], mr["target_branch"]) == ("gitops-poc/rollout-chart-3.13.0-dev", "main")
        assert mr["title"] == "rollout: chart app 3.13.0 in dev"
        assert "dev: merge request !1 (created)" in err
        assert versions(bare)["dev"] == ("3.12.1",)  # main is untouched until the merge
        branch = git("--git-dir", str(bare), "show", f"{mr['source_branch']}:{APPSET_PATH}")
        assert deployed_versions(branch)["dev"] == ("3.13.0",)

        code, err = run()  # not merged yet: the same request, nothing new
        assert code == 0, err
        assert len(fake.state.merge_requests[int(project["id"])]) == 1 and "!1 (unchanged)" in err

        git("--git-dir", str(bare), "update-ref", "refs/heads/main", f"refs/heads/{mr['source_branch']}")
        code, err = run()  # merged: dev is done, staging gets its request
        assert code == 0, err
        assert "dev: already on 3.13.0 (wave done before)" in err
        titles = [m["title"] for m in fake.state.merge_requests[int(project["id"])]]
        assert titles == ["rollout: chart app 3.13.0 in dev", "rollout: chart app 3.13.0 in staging"]


# The wait, read from the Kubernetes API stand-in (tests/cluster/fakeapi.py) through the real `kubernetes`
# client, serving Application objects the pinned Argo CD CRD admits.
COLLECTION = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"


def application(name: str, version: str, health: str = "Healthy") -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "project": "default",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "dev"},
            "sources": [{"repoURL": "https://charts.example", "chart": "app", "targetRevision": version}],
        },
        "status": {"sync": {"status": "Synced"}, "health": {"status": health}},
    }


Cluster = tuple[FakeApi, CrdSchemas]


@pytest.fixture
def cluster(
    fake_api: FakeApi,
    argocd_crds: CrdSchemas,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Cluster:
    """The API stand-in as the kubeconfig's cluster, and the CRD schemas to validate what it serves."""
    monkeypatch.setenv("KUBECONFIG", str(fake_api.kubeconfig(tmp_path)))
    return fake_api, argocd_crds


def serve_dev(api: FakeApi, crds: CrdSchemas, root: Path, version: str, degraded: str | None = None) -> None:
    platform = Platform(load_config(root / ".env", {}))
    for service in platform.services:
        name = platform.application_name(service, "dev")
        app = application(name, version, "Degraded" if service == degraded else "Healthy")
        report = validate_manifests([Manifest(f"{name}.yaml", "", app)], "1.34", crds)
        assert report.ok, [str(f) for f in report.findings]  # what the stand-in serves, the real CRD admits
        api.objects[f"{COLLECTION}/{name}"] = app


def test_the_wave_is_done_when_the_cluster_shows_it_healthy_on_the_version(
    platform_root: Path,
    remote: Path,
    cluster: Cluster,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_api, argocd_crds = cluster
    serve_dev(fake_api, argocd_crds, platform_root, "3.13.0")
    code, out, err = rollout(
        capsys, platform_root, remote, "--push", "--env", "dev", "--timeout", "30", "-o", "json", wait=True
    )
    assert code == 0, err
    assert [(w["env"], w["action"]) for w in json.loads(out)["waves"]] == [("dev", "healthy")]
    assert versions(remote)["dev"] == ("3.13.0",)
    # one list request per look, not one request per Application
    assert {(r.method, r.path) for r in fake_api.requests} == {("GET", COLLECTION)}


def test_a_degraded_application_holds_the_wave_until_the_bounded_wait_ends(
    platform_root: Path,
    remote: Path,
    cluster: Cluster,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_api, argocd_crds = cluster
    serve_dev(fake_api, argocd_crds, platform_root, "3.13.0", degraded="web-http")
    code, _, err = rollout(
        capsys, platform_root, remote, "--push", "--env", "dev", "--timeout", "1", wait=True
    )
    assert code == 2, err
    [error] = [line for line in err.splitlines() if line.startswith("error:")]
    assert "dev is not healthy on chart 3.13.0" in error and "web-http-dev: Synced, Degraded" in error
    assert versions(remote)["dev"] == ("3.13.0",)  # the wave is written; a re-run waits again

    serve_dev(fake_api, argocd_crds, platform_root, "3.13.0")  # Argo CD heals it
    code, _, err = rollout(
        capsys, platform_root, remote, "--push", "--env", "dev", "--timeout", "30", wait=True
    )
    assert code == 0, err
    assert "dev: every Application Synced and Healthy on 3.13.0" in err


def test_an_application_missing_from_the_cluster_is_not_healthy(
    platform_root: Path,
    remote: Path,
    cluster: Cluster,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_api, argocd_crds = cluster
    serve_dev(fake_api, argocd_crds, platform_root, "3.13.0")
    del fake_api.objects[f"{COLLECTION}/web-http-dev"]  # the ApplicationSet controller has not made it yet
    code, _, err = rollout(
        capsys, platform_root, remote, "--push", "--env", "dev", "--timeout", "1", wait=True
    )
    assert code == 2, err
    [error] = [line for line in err.splitlines() if line.startswith("error:")]
    assert error.endswith("web-http-dev: no such Application yet (the wave is written; a re-run waits again)")
