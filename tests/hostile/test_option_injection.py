"""Class 1 (option injection) and git's network deadline (class 5), at the boundary that fixes them:
src/gitops_poc/proc.py + argv.py (every child process), gitnet.py (git talking to a remote), refname.py and
config.py (values refused where they enter)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_poc import proc
from gitops_poc.argv import END_OF_OPTIONS, Opt, Value, render
from gitops_poc.errors import UsageError
from gitops_poc.refname import branch_problem
from tests.clirun import Run, run_cli
from tests.delivery.conftest import ServiceRemote, make_service_remote


@pytest.fixture
def service_remote(tmp_path: Path) -> ServiceRemote:
    return make_service_remote(tmp_path)


# --- the --upload-pack example, against the real git ------------------------------------------------------
def test_git_itself_runs_an_upload_pack_given_as_the_remote(
    tmp_path: Path, service_remote: ServiceRemote
) -> None:
    """What the boundary prevents: a remote spelled as an option makes git run a command of its choosing
    (this proves the marker check below can fail)."""
    marker = tmp_path / "ran"
    subprocess.run(
        ["git", "-C", str(service_remote.clone), "ls-remote", f"--upload-pack=touch {marker}; false", "."],
        capture_output=True,
        check=False,
    )
    assert marker.exists()


@pytest.mark.parametrize("how", ["option", "environment"])
def test_an_option_looking_remote_never_reaches_git(
    tmp_path: Path, service_remote: ServiceRemote, how: str
) -> None:
    marker = tmp_path / "ran"
    remote = f"--upload-pack=touch {marker}; false"
    args = ["ci", "bump", "-C", str(service_remote.clone), "--env", "dev", "--tag", "2.0.0", "--push"]
    env = {"GITOPS_POC_REMOTE": remote} if how == "environment" else {}
    before = service_remote.head()
    run = run_cli(*args, *(["--remote", remote] if how == "option" else []), env=env, tmpdir=tmp_path / "t")
    run.one_error(2, "--remote", "starts with '-'")
    assert not marker.exists() and service_remote.head() == before


def test_the_boundary_starts_nothing_with_an_option_looking_value(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with (
        proc.recording() as started,
        pytest.raises(UsageError, match=r"--remote '--upload-pack=.*' starts with '-'"),
    ):
        proc.run(
            ["git", "ls-remote", END_OF_OPTIONS, Value(f"--upload-pack=touch {marker}", "--remote"), "x"]
        )
    assert started == [] and not marker.exists()


@pytest.mark.parametrize("value", ["", "-x", "--help", "a\0b"])
def test_a_value_that_is_not_one_is_refused(value: str) -> None:
    with pytest.raises(UsageError, match="GIT_BRANCH"):
        render(["git", "push", END_OF_OPTIONS, Value(value, "GIT_BRANCH")])


def test_options_and_paths_are_one_word_each_whatever_they_hold() -> None:
    assert render(["helm", Opt("--kube-context", "-x --y"), Path("-rf"), Path("/abs/-x")]) == [
        "helm",
        "--kube-context=-x --y",
        "./-rf",
        "/abs/-x",
    ]


# --- values refused where they enter --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("GIT_BRANCH", "--upload-pack=id"),
        ("GIT_BRANCH", "main..evil"),
        ("GIT_BRANCH", "feature/.hidden"),
        ("GIT_BRANCH", "@{-1}"),
        ("KUBE_CONTEXT", "--kubeconfig=/tmp/evil"),
        ("KUBE_CONTEXT", "-n"),
        ("CHART_NAME", "--post-renderer=/bin/sh"),
        ("CLUSTER_CONTEXTS", "eu=--token=x"),
    ],
)
def test_a_configuration_value_that_would_reach_an_argv_is_refused(
    platform_root: Path, tmp_path: Path, key: str, value: str
) -> None:
    env = {key: value}
    if key == "CLUSTER_CONTEXTS":
        env["ENVIRONMENT_CLUSTERS"] = "prod=eu"
    run = run_cli("init", "--root", str(platform_root), "--check", env=env, tmpdir=tmp_path / "t")
    run.one_error(2, key, value.partition("=")[2] if key == "CLUSTER_CONTEXTS" else value)


@pytest.mark.parametrize(
    ("branch", "where"),
    [("--branch", "-x"), ("--branch", "main..x"), ("CI_COMMIT_BRANCH", "-f"), ("CI_DEFAULT_BRANCH", "a b")],
)
def test_a_branch_git_would_misread_is_refused_before_any_write(
    tmp_path: Path, service_remote: ServiceRemote, branch: str, where: str
) -> None:
    args = ["ci", "bump", "-C", str(service_remote.clone), "--env", "dev", "--tag", "2.0.0", "--push"]
    option = [f"--branch={where}"] if branch == "--branch" else []
    env = {} if branch == "--branch" else {branch: where}
    before = service_remote.head()
    run_cli(*args, *option, env=env, tmpdir=tmp_path / "t").one_error(2, branch, repr(where))
    assert service_remote.head() == before


BRANCHES = [
    "main",
    "feature/x",
    "release-1.2",
    "ünïcode",
    "a.b",
    "-x",
    "a..b",
    "a/.b",
    ".a",
    "a.lock",
    "a/b.lock/c",
    "a/",
    "/a",
    "a//b",
    "a.",
    "a@{b",
    "a b",
    "a\tb",
    "a~1",
    "a^",
    "a:b",
    "a?",
    "a*",
    "a[b",
    "a\\b",
    "a\x7fb",
    "",
    "@b",
    "a@b",
    "x/-y",
]


@pytest.mark.parametrize("name", BRANCHES)
def test_branch_rules_agree_with_git_check_ref_format(tmp_path: Path, name: str) -> None:
    git = subprocess.run(
        ["git", "check-ref-format", "--branch", name], cwd=tmp_path, capture_output=True, check=False
    )
    assert (branch_problem(name) is None) == (git.returncode == 0), (name, git.stderr)


def test_a_lone_at_sign_is_refused_though_git_reads_it_as_head() -> None:
    assert branch_problem("@") is not None  # `git check-ref-format --branch @` prints "@": HEAD's shorthand


# --- git's network deadline -----------------------------------------------------------------------------
@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP server that accepts every connection and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()
        for conn in held:
            conn.close()


def _processes_naming(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(cmdline)
    return found


def _publish(root: Path, base: str, tmp_path: Path, **env: str) -> Run:
    args = ("publish", "--root", str(root), "--remote-base", base)
    return run_cli(*args, env={**env, "GITLAB_TOKEN": ""}, timeout=60, tmpdir=tmp_path / "t")


@pytest.mark.parametrize("scheme", ["http", "git", "ssh"])
def test_publish_to_a_remote_that_never_answers_ends_within_the_deadline(
    platform_root: Path, tmp_path: Path, silent_port: int, scheme: str
) -> None:
    if scheme == "ssh" and shutil.which("ssh") is None:
        pytest.skip("no ssh client here") if os.environ.get("CI") != "true" else pytest.fail("ssh missing")
    base = f"{scheme}://127.0.0.1:{silent_port}"
    started = time.monotonic()
    run = _publish(platform_root, base, tmp_path, GITOPS_POC_GIT_DEADLINE="3")
    elapsed = time.monotonic() - started
    run.one_error(2, base, "did not finish within 3 s")
    assert elapsed < 30, elapsed
    assert _processes_naming(f"127.0.0.1:{silent_port}") == []  # git, its remote helper, ssh: all ended


def test_gits_low_speed_limit_ends_a_silent_http_remote_before_the_deadline(
    platform_root: Path, tmp_path: Path, silent_port: int
) -> None:
    """The low-speed limits are passed to git (GIT_HTTP_LOW_SPEED_* in the environment win over ours, so
    the test can shorten them): curl gives up, well before the overall deadline."""
    base = f"http://127.0.0.1:{silent_port}"
    started = time.monotonic()
    run = _publish(platform_root, base, tmp_path, GITOPS_POC_GIT_DEADLINE="120", GIT_HTTP_LOW_SPEED_TIME="2")
    run.one_error(2, base)
    assert time.monotonic() - started < 60


def test_every_git_command_that_talks_to_a_remote_carries_the_limits(
    tmp_path: Path, service_remote: ServiceRemote
) -> None:
    record = tmp_path / "argv.jsonl"
    run = run_cli(
        "ci",
        "bump",
        "-C",
        str(service_remote.clone),
        "--env",
        "dev",
        "--tag",
        "2.0.0",
        "--push",
        env={proc.RECORD_VARIABLE: str(record)},
        tmpdir=tmp_path / "t",
    )
    assert run.code == 0, run.err
    import json

    argvs = [json.loads(line) for line in record.read_text().splitlines()]
    talking = [a for a in argvs if a[0] == "git" and {"fetch", "push", "ls-remote"} & set(a)]
    assert {w for a in talking for w in a} >= {"fetch", "push"}
    for argv in talking:
        assert "http.lowSpeedLimit=1000" in argv and "http.lowSpeedTime=30" in argv, argv


SSH_SHIM = """#!/bin/sh
printf '%s\\n' "$@" > "{log}"
exit 1
"""


@pytest.mark.parametrize("chosen", [None, "GIT_SSH_COMMAND", "core.sshCommand"])
def test_ssh_gets_a_connect_timeout_unless_the_user_chose_an_ssh_command(
    tmp_path: Path, service_remote: ServiceRemote, chosen: str | None
) -> None:
    """git runs `ssh` from PATH (a shim recording its arguments): with our limits, or the user's command."""
    shims = tmp_path / "shims"
    shims.mkdir()
    ours, theirs = tmp_path / "ssh.log", tmp_path / "mine.log"
    for name, log in (("ssh", ours), ("my-ssh", theirs)):
        (shims / name).write_text(SSH_SHIM.format(log=log))
        (shims / name).chmod(0o755)
    env = {"PATH": f"{shims}{os.pathsep}{os.environ['PATH']}"}
    if chosen == "GIT_SSH_COMMAND":
        env["GIT_SSH_COMMAND"] = "my-ssh"
    elif chosen == "core.sshCommand":
        subprocess.run(
            ["git", "-C", str(service_remote.clone), "config", "core.sshCommand", "my-ssh"], check=True
        )
    args = ["ci", "bump", "-C", str(service_remote.clone), "--env", "dev", "--tag", "2.0.0", "--push"]
    run = run_cli(*args, "--remote", "ssh://git@127.0.0.1:1/g/r.git", env=env, tmpdir=tmp_path / "t")
    assert run.code != 0 and "Traceback" not in run.text
    if chosen is None:
        assert "ConnectTimeout=20" in ours.read_text() and not theirs.exists()
    else:
        assert theirs.exists() and not ours.exists()
