"""`demo` (#17): it empties only a workspace of its own, and nothing it starts outlives it (nor does
`ci deploy`'s helm).

Real processes throughout: the demo as a user runs it, stopped with SIGTERM as a cancelled CI job stops it;
what is left is read from /proc and from the ports its servers listened on.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from gitops_poc.demo.workspace import MARKER, workspace
from tests.childlimits import limited
from tests.clirun import run_cli, tree
from tests.cluster.fakeapi import serve_fake_api
from tests.conftest import REPO_ROOT, require_binary, require_shared_charts
from tests.vault.bao import bao_binary


def demo_cli(folder: Path, tmp_path: Path) -> object:
    return run_cli(
        "demo", "--workspace", str(folder), tmpdir=tmp_path.parent / f"{tmp_path.name}-crash", timeout=60
    )


# --- the workspace ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setup",
    ["unrelated files", "a nested folder", "a marker that is a symlink", "a marker that is a folder"],
)
def test_a_folder_the_demo_did_not_make_is_refused_untouched(tmp_path: Path, setup: str) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (tmp_path / "elsewhere").write_text("not the demo's\n")
    if setup == "unrelated files":
        (folder / "thesis.tex").write_text("three years of work\n")
    elif setup == "a nested folder":
        (folder / "src" / "pkg").mkdir(parents=True)
        (folder / "src" / "pkg" / "main.py").write_text("print('mine')\n")
    elif setup == "a marker that is a symlink":
        (folder / MARKER).symlink_to(tmp_path / "elsewhere")
    else:
        (folder / MARKER).mkdir()
    before = tree(tmp_path)
    run = run_cli("demo", "--workspace", str(folder), tmpdir=tmp_path.parent / f"{tmp_path.name}-crash")
    run.one_error(2, str(folder), MARKER)
    assert tree(tmp_path) == before


def test_a_file_or_a_symlink_as_the_workspace_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / MARKER).write_text("")
    (target / "keep.txt").write_text("kept\n")
    (tmp_path / "link").symlink_to(target)
    (tmp_path / "file").write_text("a file\n")
    before = tree(tmp_path)
    run_cli(
        "demo", "--workspace", str(tmp_path / "link"), tmpdir=tmp_path.parent / f"{tmp_path.name}-crash"
    ).one_error(2, "symlink")
    run_cli(
        "demo", "--workspace", str(tmp_path / "file"), tmpdir=tmp_path.parent / f"{tmp_path.name}-crash"
    ).one_error(2, "not a folder")
    assert tree(tmp_path) == before


def test_emptying_a_workspace_never_follows_a_link_out_of_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "data.txt").write_text("outside the workspace\n")
    (outside / "file.txt").write_text("outside too\n")
    folder = tmp_path / "ws"
    with workspace(folder):  # a new folder: made, marked
        (folder / "logs").mkdir()
        (folder / "logs" / "to-outside").symlink_to(outside)
        (folder / "to-outside").symlink_to(outside)
        (folder / "file-link").symlink_to(outside / "file.txt")
        (folder / "platform").mkdir()
        (folder / "platform" / "x.yaml").write_text("a: 1\n")
    before = tree(outside)
    with workspace(folder):  # marked: emptied, links removed as links
        assert sorted(p.name for p in folder.iterdir()) == [MARKER]
    assert tree(outside) == before
    assert (outside / "deep" / "data.txt").read_text() == "outside the workspace\n"


def test_an_empty_folder_becomes_a_workspace(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    with workspace(folder):
        assert (folder / MARKER).is_file()


def test_a_second_run_on_a_workspace_in_use_stops_at_once_and_touches_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    holding, release = threading.Event(), threading.Event()

    def first() -> None:
        with workspace(folder):
            (folder / "in-use.txt").write_text("the first run's file\n")
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert holding.wait(10)
        before = tree(folder)
        started = time.monotonic()
        run_cli(
            "demo", "--workspace", str(folder), tmpdir=tmp_path.parent / f"{tmp_path.name}-crash"
        ).one_error(2, str(folder))
        assert time.monotonic() - started < 20
        assert tree(folder) == before
    finally:
        release.set()
        thread.join()


# --- children: nothing outlives the demo --------------------------------------------------------------


def tagged(tag: str) -> list[int]:
    """Processes whose environment carries `tag` (every child of the demo inherits it), zombies aside."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (
                tag.encode() in (entry / "environ").read_bytes()
                and (entry / "stat").read_text().split(") ")[1][0] != "Z"
            ):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_demo(folder: Path, tag: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        # Every signal the tests send, as a terminal delivers it: a test run started with `&` inherits SIGINT
        # ignored, one under nohup SIGHUP too (and the demo rightly keeps ignoring what it inherits ignored)
        limited(
            [sys.executable, "-m", "gitops_poc", "demo", "--workspace", str(folder)],
            default_signals=(signal.SIGINT, signal.SIGHUP, signal.SIGTERM),
        ),
        cwd=REPO_ROOT,
        env={**os.environ, "DEMO_CHILDREN_TAG": tag, "COLUMNS": "200", "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until(proc: subprocess.Popen[str], pattern: str, seconds: float) -> tuple[re.Match[str], str]:
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen += line
        if match := re.search(pattern, line):
            return match, seen
    raise AssertionError(f"{pattern!r} not seen:\n{seen[-3000:]}")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_demo_stopped_by_a_signal_leaves_no_child_and_no_listener(
    tmp_path: Path, stop: signal.Signals
) -> None:
    bao_binary()
    require_shared_charts("k8app")
    tag = f"demo-children-{uuid.uuid4().hex}"
    proc = start_demo(tmp_path / "ws", tag)
    try:
        bao, seen = read_until(proc, r"OpenBao dev server on http://127\.0\.0\.1:(\d+) \(pid (\d+)\)", 240)
        port, pid = int(bao.group(1)), int(bao.group(2))
        assert listening(port) and pid in tagged(tag)
        time.sleep(0.5)  # a command of the Vault step is running now
        assert len(tagged(tag)) >= 2, "the demo should have more than the server running"
        if stop is signal.SIGTERM:  # a second demo at once on the same workspace: refused, the first goes on
            second = run_cli("demo", "--workspace", str(tmp_path / "ws"), tmpdir=tmp_path / "crash")
            second.one_error(2, str(tmp_path / "ws"), f"process {proc.pid}")
            assert proc.poll() is None and listening(port)
        proc.send_signal(stop)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 5
    while tagged(tag) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert tagged(tag) == [], "children left running"
    assert proc.returncode == 130, seen + rest
    assert "Traceback" not in seen + rest
    assert not listening(port), f"the OpenBao port {port} still answers"
    charts = re.search(r"at http://127\.0\.0\.1:(\d+)", seen)
    if charts:
        assert not listening(int(charts.group(1))), "the chart repository still answers"


def test_two_demos_at_once_on_their_own_workspaces_use_their_own_ports_and_both_clean_up(
    tmp_path: Path,
) -> None:
    bao_binary()
    require_shared_charts("k8app")
    tags = [f"demo-children-{uuid.uuid4().hex}" for _ in range(2)]
    procs = [start_demo(tmp_path / f"ws-{n}", tag) for n, tag in enumerate(tags)]
    ports: list[int] = []
    try:
        for proc in procs:
            bao, _ = read_until(proc, r"OpenBao dev server on http://127\.0\.0\.1:(\d+)", 240)
            ports.append(int(bao.group(1)))
        assert ports[0] != ports[1] and all(listening(port) for port in ports)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.communicate(timeout=60)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    deadline = time.monotonic() + 5
    while any(tagged(tag) for tag in tags) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [tagged(tag) for tag in tags] == [[], []], "children left running"
    assert [proc.returncode for proc in procs] == [130, 130]
    assert not any(listening(port) for port in ports)


# --- the same for `ci deploy`: its helm ends with it ------------------------------------------------------


def test_a_cancelled_ci_deploy_leaves_no_helm_running(generated_root: Path, tmp_path: Path) -> None:
    """The real helm, against the API stand-in, stuck fetching the chart from a repository that accepts the
    connection and never answers; the job is cancelled (SIGTERM): helm must not go on without it."""
    helm = require_binary("helm")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                continue

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    tag = f"deploy-children-{uuid.uuid4().hex}"
    try:
        with serve_fake_api() as api:
            api.anonymous = True
            env = {
                **os.environ,
                "KUBECONFIG": str(api.kubeconfig(tmp_path)),
                "HOME": str(tmp_path),
                "CHART_REPO": f"http://127.0.0.1:{silent.getsockname()[1]}",
                "PATH": f"{Path(helm).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                "DEMO_CHILDREN_TAG": tag,
            }
            service = generated_root / "services" / "api-gateway"
            proc = subprocess.Popen(
                [sys.executable, "-m", "gitops_poc", "ci", "deploy", "-C", str(service)]
                + ["--service", "api-gateway", "--env", "dev"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            try:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not upgrading(tag):
                    assert proc.poll() is None, proc.communicate()[0]
                    time.sleep(0.1)
                assert upgrading(tag), "helm upgrade did not start"
                time.sleep(0.5)
                proc.send_signal(signal.SIGTERM)
                output, _ = proc.communicate(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        deadline = time.monotonic() + 5
        while tagged(tag) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert tagged(tag) == [], "helm left running after the job was cancelled"
        assert proc.returncode == 130, output
    finally:
        stop.set()
        acceptor.join()
        for connection in held:
            connection.close()
        silent.close()


def upgrading(tag: str) -> bool:
    for pid in tagged(tag):
        try:
            if b"upgrade" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
                return True
        except OSError:
            continue
    return False
