"""Class 4, command-line option values: the CLI library's own errors look like every other error (one
`error:` line, exit 2, no box: fixed once in gitops_poc.cli._main), and option values that no command can
use are refused before anything runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirun import run_cli
from tests.conftest import require_binary


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["ci", "bump", "--env", "dev", "--tag", "1", "--attempts", "0"], "--attempts"),
        (["ci", "bump", "--env", "dev", "--tag", "1", "--attempts", "many"], "--attempts"),
        (["ci", "bump", "--env", "dev", "--nosuch"], "--nosuch"),
        (["ci", "bump", "--tag", "1"], "--env"),
        (["nosuch"], "nosuch"),
        (["proxy", "--local-port", "-1", "vault"], "--local-port"),
        (["proxy", "--local-port", "0", "vault"], "--local-port"),
        (["proxy", "--local-port", "70000", "vault"], "--local-port"),
        (["plan", "--output", "xml"], "--output"),
        (["vault", "provision", "--no-such-flag"], "--no-such-flag"),
    ],
)
def test_the_cli_librarys_errors_are_one_error_line(tmp_path: Path, args: list[str], needle: str) -> None:
    run = run_cli(*args, cwd=tmp_path, tmpdir=tmp_path / "t")
    run.one_error(2, needle, "--help")
    assert "Usage:" not in run.text and "╭" not in run.text and "Error:" not in run.text


def test_no_arguments_still_shows_the_help(tmp_path: Path) -> None:
    run = run_cli("ci", cwd=tmp_path)
    assert "Usage: gitops-poc ci" in run.text and "error:" not in run.text


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--service", "", "--service"),
        ("--service", "no-such-service", "not in SERVICES"),
        ("--kube-context", "--kubeconfig=/tmp/x", "--kube-context"),
        ("--kube-context", "", "--kube-context"),
        ("--repository", "Registry/UPPER", "--repository"),
        ("--repository", "registry.example.com:70000/x", "--repository"),
    ],
)
def test_ci_deploy_dry_run_refuses_what_no_deploy_can_use(
    generated_root: Path, tmp_path: Path, option: str, value: str, needle: str
) -> None:
    require_binary("helm")
    service = generated_root / "services" / "api-gateway"
    args = ["ci", "deploy", "-C", str(service), "--env", "dev", "--tag", "1.0.0", "--dry-run"]
    if option != "--service":
        args += ["--service", "api-gateway"]
    run = run_cli(*args, f"{option}={value}", tmpdir=tmp_path / "t")
    run.one_error(2, needle)


@pytest.mark.parametrize("service", ["health-demo", "auth-adapter"])
@pytest.mark.parametrize("port", ["70000", "-1", "65536"])
def test_the_services_refuse_a_port_out_of_range(service: str, port: str) -> None:
    binary = Path(sys.executable).parent / service
    result = subprocess.run(
        [str(binary), f"--port={port}"], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2 and "--port" in result.stderr, result.stderr
