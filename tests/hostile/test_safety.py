"""Issue #8, safety: the deletion guard, secret values in errors, writes outside the platform folder, the
Vault path prefix, concurrent runs. Each case: exit code, one message naming the path or value, no traceback,
nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.clirun import run_cli, tree

from .conftest import generate, git, provision_with_secrets


# --- 1. the deletion guard ---------------------------------------------------------------------------------
@pytest.fixture
def shrunk(platform_root: Path) -> Path:
    """HEAD removes three of the five services: 9 Applications deleted against HEAD~1."""
    (platform_root / ".env").write_text("SERVICES=api-gateway auth-adapter\n")
    generate(platform_root, {"SERVICES": "api-gateway auth-adapter"})
    git(platform_root, "add", "-A")
    git(platform_root, "commit", "-q", "-m", "remove three services")
    return platform_root


def test_the_guard_trips_against_a_real_revision(shrunk: Path, crash_dir: Path) -> None:
    run = run_cli("plan", "-C", str(shrunk), "--base", "HEAD~1", "--max-deletions", "0", tmpdir=crash_dir)
    run.one_error(1, "deletes 9 Application(s)")


@pytest.mark.parametrize("revision", ["", " ", "-n", "--all", "--output=/tmp/x", "HEAD\n"])
def test_plan_refuses_an_empty_or_option_looking_base(shrunk: Path, crash_dir: Path, revision: str) -> None:
    before = tree(shrunk)
    run = run_cli("plan", "-C", str(shrunk), "--base", revision, "--max-deletions", "0", tmpdir=crash_dir)
    run.one_error(2, f"--base {revision!r}")
    assert "Compared with" not in run.out
    assert tree(shrunk) == before


@pytest.mark.parametrize("option", ["--base", "--head"])
@pytest.mark.parametrize("revision", ["", "-n", "--output=x"])
def test_diff_refuses_an_empty_or_option_looking_revision(
    shrunk: Path, crash_dir: Path, option: str, revision: str
) -> None:
    extra = [] if option == "--base" else ["--base", "HEAD"]
    run = run_cli(
        "diff", "api-gateway", "-C", str(shrunk), "--values-only", *extra, option, revision, tmpdir=crash_dir
    )
    run.one_error(2, f"{option} {revision!r}")


# --- 2. secret values in error messages --------------------------------------------------------------------
def test_duplicate_key_in_the_secrets_file_names_the_key_not_the_values(
    tmp_path: Path, crash_dir: Path
) -> None:
    secrets, run = provision_with_secrets(
        tmp_path,
        "api-gateway:\n  dev:\n    API_KEY: S1-planted-value\n    API_KEY: S2-planted-value\n",
        crash_dir,
    )
    run.one_error(2, f"{secrets}:4", "API_KEY")
    assert "planted-value" not in run.text


def test_duplicate_environment_block_does_not_print_the_block(tmp_path: Path, crash_dir: Path) -> None:
    secrets, run = provision_with_secrets(
        tmp_path,
        "api-gateway:\n  dev:\n    API_KEY: S1-planted-value\n  dev:\n    API_KEY: S2-planted-value\n",
        crash_dir,
    )
    run.one_error(2, f"{secrets}:4", "dev")
    assert "planted-value" not in run.text


def test_a_config_key_referencing_a_token_does_not_print_the_token(tmp_path: Path, crash_dir: Path) -> None:
    (tmp_path / ".env").write_text(
        "GITLAB_DEPLOY_TOKEN=gldt-planted-token-value\nGITLAB_GROUP=${GITLAB_DEPLOY_TOKEN}\n"
    )
    for command in (["init", "--dry-run"], ["lint"], ["vault", "provision", "--dry-run"]):
        run = run_cli(*command, "-C", str(tmp_path), tmpdir=crash_dir)
        run.one_error(2, "GITLAB_GROUP")
        assert "planted-token" not in run.text


def test_a_config_key_referencing_a_token_from_the_environment(tmp_path: Path, crash_dir: Path) -> None:
    run = run_cli(
        "init",
        "--dry-run",
        "-C",
        str(tmp_path),
        tmpdir=crash_dir,
        env={"GITLAB_AGENT_TOKEN": "glagent-planted-token", "DOCKER_REGISTRY": "${GITLAB_AGENT_TOKEN}/x y"},
    )
    run.one_error(2, "DOCKER_REGISTRY")
    assert "planted-token" not in run.text


# --- 3. writes and deletes outside the platform folder -----------------------------------------------------
def test_init_does_not_write_through_a_symlinked_service_folder(
    platform_root: Path, tmp_path: Path, crash_dir: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (platform_root / "services" / "evil").symlink_to(outside)
    (platform_root / ".env").write_text("SERVICES=api-gateway evil\n")
    before = tree(platform_root, outside)
    run = run_cli("init", "-C", str(platform_root), "--yes", tmpdir=crash_dir)
    run.one_error(2, str(platform_root / "services" / "evil"), "symlink")
    assert tree(platform_root, outside) == before
    assert list(outside.iterdir()) == []


def test_init_does_not_delete_through_a_symlinked_generated_folder(
    platform_root: Path, tmp_path: Path, crash_dir: Path
) -> None:
    outside = tmp_path / "outside-platform"
    (platform_root / "gitops-config" / "platform").rename(outside)
    (platform_root / "gitops-config" / "platform").symlink_to(outside)
    (platform_root / ".env").write_text("SERVICES=api-gateway\n")
    before = tree(platform_root, outside)
    run = run_cli("init", "-C", str(platform_root), "--yes", tmpdir=crash_dir)
    run.one_error(2, str(platform_root / "gitops-config" / "platform"), "symlink")
    assert tree(platform_root, outside) == before


def test_new_service_does_not_write_through_a_symlinked_folder(
    platform_root: Path, tmp_path: Path, crash_dir: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (platform_root / "services" / "billing").symlink_to(outside)
    before = tree(platform_root, outside)
    run = run_cli("new-service", "billing", "-C", str(platform_root), "--yes", tmpdir=crash_dir)
    run.one_error(2, str(platform_root / "services" / "billing"), "symlink")
    assert tree(platform_root, outside) == before


@pytest.fixture
def linked_values(platform_root: Path, tmp_path: Path) -> Path:
    """services/api-gateway/.cicd/dev.yaml is a symlink to a file outside the platform folder."""
    outside = tmp_path / "private.yaml"
    outside.write_text("image:\n  tag: planted-outside-content\n")
    values = platform_root / "services" / "api-gateway" / ".cicd" / "dev.yaml"
    values.unlink()
    values.symlink_to(outside)
    return values


def test_lint_refuses_a_values_file_linked_outside(
    linked_values: Path, platform_root: Path, crash_dir: Path
) -> None:
    run = run_cli("lint", "-C", str(platform_root), tmpdir=crash_dir)
    run.one_error(2, str(linked_values), "outside")
    assert "planted-outside-content" not in run.text


def test_render_refuses_a_values_file_linked_outside(
    linked_values: Path, platform_root: Path, crash_dir: Path
) -> None:
    run = run_cli("render", "api-gateway", "dev", "-C", str(platform_root), "--values-only", tmpdir=crash_dir)
    run.one_error(2, str(linked_values), "outside")
    assert "planted-outside-content" not in run.text


def test_render_refuses_etc_passwd(platform_root: Path, crash_dir: Path) -> None:
    values = platform_root / "services" / "api-gateway" / ".cicd" / "dev.yaml"
    values.unlink()
    values.symlink_to("/etc/passwd")
    run = run_cli("render", "api-gateway", "dev", "-C", str(platform_root), "--values-only", tmpdir=crash_dir)
    run.one_error(2, str(values), "outside")
    assert "root:" not in run.text


# --- 4. VAULT_PATH_PREFIX ----------------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", ["../x", ".", "..", "a/../../sys", "a/./b", "a//b", "/a"])
def test_vault_path_prefix_is_a_path_of_plain_segments(tmp_path: Path, crash_dir: Path, prefix: str) -> None:
    for command in (["init", "--yes"], ["vault", "provision", "--dry-run"]):
        run = run_cli(*command, "-C", str(tmp_path), env={"VAULT_PATH_PREFIX": prefix}, tmpdir=crash_dir)
        run.one_error(2, "VAULT_PATH_PREFIX", repr(prefix))
    assert list(tmp_path.iterdir()) == [crash_dir] or not any(p != crash_dir for p in tmp_path.iterdir())


# --- 5. concurrent runs and interrupted writes -------------------------------------------------------------
def test_a_second_run_waits_for_nobody_and_names_the_holder(platform_root: Path, crash_dir: Path) -> None:
    """While one process holds the platform lock, `init --yes` refuses at once and says who holds it."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from gitops_poc.lock import platform_lock\n"
            "with platform_lock(Path(sys.argv[1]), 'test holder'):\n"
            "    print('locked', flush=True); time.sleep(60)\n",
            str(platform_root),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        (platform_root / ".env").write_text("GITLAB_GROUP=acme\n")
        before = tree(platform_root)
        started = time.monotonic()
        run = run_cli("init", "-C", str(platform_root), "--yes", tmpdir=crash_dir)
        assert time.monotonic() - started < 30
        run.one_error(2, str(platform_root), f"process {holder.pid}")
        assert tree(platform_root) == before
    finally:
        holder.kill()
        holder.wait()
    assert run_cli("init", "-C", str(platform_root), "--yes", tmpdir=crash_dir).code == 0


def test_two_concurrent_inits_leave_one_configuration(platform_root: Path, crash_dir: Path) -> None:
    runs = (
        [
            subprocess.Popen(
                [sys.executable, "-m", "gitops_poc", "init", "-C", str(platform_root), "--yes"],
                env={**os.environ, "GITLAB_GROUP": group, "TMPDIR": str(crash_dir)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for group in ("acme", "globex")
        ]
        if crash_dir.mkdir() is None
        else []
    )
    codes = [p.wait(timeout=120) for p in runs]
    assert sorted(codes) in ([0, 0], [0, 2]), codes
    # Whatever the order, the tree is exactly one of the two configurations.
    checks = [
        run_cli("init", "-C", str(platform_root), "--check", env={"GITLAB_GROUP": g}).code
        for g in ("acme", "globex")
    ]
    assert sorted(checks) == [0, 1], checks


def test_a_temporary_file_left_by_a_killed_run_is_reported_and_removed(
    platform_root: Path, crash_dir: Path
) -> None:
    left = platform_root / "gitops-config" / "argocd" / ".applicationset.yaml.k3j9x2ab.tmp"
    left.write_text("half a fi")
    check = run_cli("init", "-C", str(platform_root), "--check", tmpdir=crash_dir)
    assert check.code == 1 and str(left.relative_to(platform_root)) in check.err, check.err
    assert left.exists()
    run = run_cli("init", "-C", str(platform_root), "--yes", tmpdir=crash_dir)
    assert run.code == 0 and str(left.relative_to(platform_root)) in run.err, run.err
    assert not left.exists()
    assert run_cli("init", "-C", str(platform_root), "--check").code == 0
    assert ".*.tmp" in (platform_root / ".gitignore").read_text().splitlines()
