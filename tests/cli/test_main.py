"""Exit codes and error output of the command line as a whole."""

from __future__ import annotations

import re
import stat
import tempfile
from pathlib import Path

import pytest

from gitops_poc.cli import init as init_module
from gitops_poc.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["init", "--bogus"],
        ["render"],
        ["lint", "--output", "xml"],
        ["plan", "--max-deletions", "-1"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_2_without_a_traceback(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert [line for line in captured.err.splitlines() if line.startswith("error:")], captured.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert re.fullmatch(r"gitops-poc \d+\.\d+\.\d+\n", capsys.readouterr().out)


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = [
        "init",
        "new-service",
        "lint",
        "plan",
        "render",
        "diff",
        "vault",
        "vault provision",
        "vault check",
    ]
    for command in commands:
        assert main([*command.split(), "--help"]) == 0, command
        assert "Usage: gitops-poc " + command in capsys.readouterr().out


def test_internal_error_exits_3_with_a_private_redacted_crash_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "hvs.not-a-real-token-but-secret"
    monkeypatch.setenv("VAULT_TOKEN", secret)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def explode(*_: object) -> None:
        raise RuntimeError(f"header carried {secret}")

    monkeypatch.setattr(init_module, "plan_init", explode)
    assert main(["init", "-C", str(tmp_path / "root"), "--yes"]) == 3
    err = capsys.readouterr().err
    assert secret not in err
    assert "internal error: RuntimeError" in err
    [log] = tmp_path.glob("gitops-poc-crash-*.log")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    assert "RuntimeError: header carried ***" in text
    assert secret not in text
