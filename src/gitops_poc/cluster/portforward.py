"""Managed `kubectl port-forward`: ready when the local port answers (no `sleep`), ended on exit by the id of
the process it started (never `pkill`, so the user's other forwards live on)."""

from __future__ import annotations

import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from gitops_poc import proc
from gitops_poc.cluster.tools import find_tool
from gitops_poc.errors import ToolError
from gitops_poc.proc import Opt, Part, Value

READY_TIMEOUT = 30.0


class PortForwardError(ToolError):
    """The forward did not come up (exit 2: the cluster or kubectl failing, or the local port taken); the
    message carries kubectl's own reason."""


@dataclass(frozen=True)
class Forward:
    namespace: str
    target: str
    local_port: int
    remote_port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_taken(port: int) -> bool:
    """Does another process hold 127.0.0.1:`port`? Then it, not our forward, would answer on it."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def forward_args(
    kubectl: str, context: str, namespace: str, target: str, local: int, remote: int
) -> list[Part]:
    return [
        kubectl,
        Opt("--context", context),
        Opt("--namespace", namespace),
        "port-forward",
        "--address=127.0.0.1",
        Value(target, "target"),
        f"{local}:{remote}",
    ]


def find_kubectl() -> str:
    found = find_tool("kubectl")
    if found is None:
        raise PortForwardError(
            "kubectl is not installed: `make tools` puts one in .tools/bin (see `gitops-poc doctor`)"
        )
    return found


@contextmanager
def port_forward(
    context: str,
    namespace: str,
    target: str,
    remote_port: int,
    *,
    local_port: int | None = None,
    kubectl: str | None = None,
    timeout: float | None = None,
) -> Iterator[Forward]:
    """Forward 127.0.0.1:`local_port` (a free one by default) to `target` (svc/NAME, pod/NAME) and yield
    once the local port answers; the forward ends with the block, also on errors and Ctrl-C. Waits at most
    `timeout` (default READY_TIMEOUT, or the HTTP deadline when shorter: kubectl talks to the API server)."""
    from gitops_poc.httpguard import deadline_from_env

    timeout = min(READY_TIMEOUT, deadline_from_env()) if timeout is None else timeout
    local = local_port or free_port()
    if local_port is not None and port_taken(local):
        raise PortForwardError(
            f"127.0.0.1:{local} is in use by another process, so a forward to {target} cannot listen there: "
            "stop that process or pass --local-port with a free port"
        )
    argv = forward_args(kubectl or find_kubectl(), context, namespace, target, local, remote_port)
    with tempfile.TemporaryFile() as log:
        process = proc.start(argv, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + timeout
            while not port_answers(local) or process.poll() is not None:
                if process.poll() is not None:
                    log.seek(0)
                    reason = log.read().decode(errors="replace").strip() or f"exit code {process.returncode}"
                    raise PortForwardError(
                        f"port-forward to {target} in {namespace} ({context}) failed: {reason}"
                    )
                if time.monotonic() > deadline:
                    raise PortForwardError(
                        f"port-forward to {target} in {namespace} ({context}): 127.0.0.1:{local} "
                        f"did not answer "
                        f"within {timeout:.0f} s"
                    )
                time.sleep(0.05)
            yield Forward(namespace, target, local, remote_port, process.pid)
        finally:
            proc.end_group(process)
