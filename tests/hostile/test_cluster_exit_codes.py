"""Exit codes of the cluster commands (#17 class 6, docs/exit-codes.md): with no cluster, `setup`, `up`,
`proxy` and `build-images` could not do their job: exit 2 with one `error:` line, never 1 (a finding) or 0.

No cluster here is the point: KUBECONFIG names a file that does not exist, minikube is either absent or a
stand-in that reports its profile stopped; kubectl is the real one when `make tools` installed it.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clirun import Run, run_cli
from tests.hostile.conftest import platform_root

__all__ = ["platform_root"]  # the fixture, used by name

STOPPED_MINIKUBE = """#!{python}
import json, sys
if sys.argv[1:2] == ["status"]:
    print(json.dumps({{"Name": "minikube", "Host": "Stopped"}}))
    sys.exit(7)
open({log!r}, "a").write(" ".join(sys.argv[1:]) + "\\n")
sys.exit(1)
"""


@pytest.fixture
def no_cluster(tmp_path: Path) -> dict[str, str]:
    """The environment of a machine with no cluster: an empty kubeconfig path, no minikube on PATH."""
    bin_dir = tmp_path / "no-minikube-bin"
    bin_dir.mkdir()
    path = ":".join(p for p in os.environ.get("PATH", "").split(":") if not (Path(p) / "minikube").exists())
    return {"KUBECONFIG": str(tmp_path / "no-kubeconfig"), "PATH": f"{bin_dir}:{path}"}


def cli(root: Path, tmp_path: Path, env: dict[str, str], *args: str) -> Run:
    return run_cli(*args, "-C", str(root), env=env, timeout=120, tmpdir=tmp_path / "crash")


def test_setup_infrastructure_without_a_cluster_is_exit_2(
    platform_root: Path, tmp_path: Path, no_cluster: dict[str, str]
) -> None:
    cli(platform_root, tmp_path, no_cluster, "setup", "infrastructure").one_error(2, "minikube")


def test_up_stopped_by_doctor_is_exit_2(
    platform_root: Path, tmp_path: Path, no_cluster: dict[str, str]
) -> None:
    cli(platform_root, tmp_path, no_cluster, "up").one_error(2, "doctor found something required missing")


def test_proxy_without_a_cluster_is_exit_2(
    platform_root: Path, tmp_path: Path, no_cluster: dict[str, str]
) -> None:
    run = cli(platform_root, tmp_path, no_cluster, "proxy", "vault", "--for", "1")
    run.one_error(2, "vault")
    assert "Forwarding" not in run.text


def test_build_images_without_minikube_is_exit_2_and_builds_nothing(
    platform_root: Path, tmp_path: Path, no_cluster: dict[str, str]
) -> None:
    (platform_root / "services" / "health-demo" / "Dockerfile").write_text("FROM scratch\n")
    cli(platform_root, tmp_path, no_cluster, "build-images").one_error(2, "minikube is not installed")
    # with minikube there but its profile stopped: the same, and no build was attempted
    log = tmp_path / "minikube.log"
    stand_in = Path(no_cluster["PATH"].split(":")[0]) / "minikube"
    stand_in.write_text(STOPPED_MINIKUBE.format(python=sys.executable, log=str(log)))
    stand_in.chmod(0o755)
    cli(platform_root, tmp_path, no_cluster, "build-images").one_error(2, "'minikube' is not running")
    assert not log.exists()


@pytest.fixture
def held_port() -> Iterator[int]:
    """A local port another process (this test) listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_proxy_on_a_port_another_process_holds_is_exit_2_not_forwarding(
    platform_root: Path, tmp_path: Path, no_cluster: dict[str, str], held_port: int
) -> None:
    # Before: the other process answered on the port, so "Forwarding" was printed and the exit was 0.
    run = cli(
        platform_root, tmp_path, no_cluster, "proxy", "vault", "--for", "1", "--local-port", str(held_port)
    )
    run.one_error(2, f"127.0.0.1:{held_port} is in use by another process")
    assert "Forwarding" not in run.text
