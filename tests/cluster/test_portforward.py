from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gitops_poc.argv import render
from gitops_poc.cluster.portforward import PortForwardError, forward_args, port_answers, port_forward

from .standins import kubectl_port_forward


def test_forward_is_ready_when_the_port_answers_and_ends_with_the_block(tmp_path: Path) -> None:
    kubectl, log = kubectl_port_forward(tmp_path)
    with port_forward("minikube", "vault", "svc/vault", 8200, kubectl=str(kubectl)) as forward:
        assert port_answers(forward.local_port)
        pid = forward.pid
        assert forward.url == f"http://127.0.0.1:{forward.local_port}"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    args = json.loads(log.read_text().splitlines()[0])
    assert args == [
        "--context=minikube",
        "--namespace=vault",
        "port-forward",
        "--address=127.0.0.1",
        "svc/vault",
        f"{forward.local_port}:8200",
    ]


def test_only_the_forward_it_started_is_ended(tmp_path: Path) -> None:
    # Another forward of the user's (same kind of process) must survive: no pkill -f.
    kubectl, _ = kubectl_port_forward(tmp_path)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with port_forward("minikube", "argocd", "svc/argocd-server", 80, kubectl=str(kubectl)):
            pass
        assert other.poll() is None
    finally:
        other.send_signal(signal.SIGTERM)
        other.wait()


def test_a_failing_forward_reports_kubectls_reason(tmp_path: Path) -> None:
    kubectl, _ = kubectl_port_forward(tmp_path, mode="fail")
    with (
        pytest.raises(PortForwardError, match='services "vault" not found'),
        port_forward("minikube", "vault", "svc/vault", 8200, kubectl=str(kubectl)),
    ):
        pass


def test_a_forward_that_never_answers_times_out_and_is_ended(tmp_path: Path) -> None:
    kubectl, _ = kubectl_port_forward(tmp_path, mode="silent")
    with (
        pytest.raises(PortForwardError, match="did not answer within 1 s"),
        port_forward("minikube", "vault", "svc/vault", 8200, kubectl=str(kubectl), timeout=1),
    ):
        pass


def test_the_forward_is_ended_when_the_block_fails(tmp_path: Path) -> None:
    kubectl, _ = kubectl_port_forward(tmp_path)
    pids = []
    with (
        pytest.raises(RuntimeError),
        port_forward("minikube", "vault", "svc/vault", 8200, kubectl=str(kubectl)) as forward,
    ):
        pids.append(forward.pid)
        raise RuntimeError("boom")
    pid = pids[0]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_forward_args_bind_loopback_only() -> None:
    assert "--address=127.0.0.1" in render(forward_args("k", "ctx", "ns", "svc/a", 1, 2))


def test_a_local_port_another_process_holds_is_refused_before_kubectl_starts(tmp_path: Path) -> None:
    # The other process would answer on it and pass for the forward.
    kubectl, log = kubectl_port_forward(tmp_path)
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with (
            pytest.raises(PortForwardError, match=f"127.0.0.1:{port} is in use by another process") as caught,
            port_forward("minikube", "vault", "svc/vault", 8200, local_port=port, kubectl=str(kubectl)),
        ):
            pass
    assert caught.value.exit_code == 2
    assert not log.exists()  # kubectl never ran
