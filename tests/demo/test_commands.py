"""How the demo runs and shows commands: exit codes checked, every output logged."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.demo.commands import DemoFailed, Shell, base_env


class Recorder:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, number: int, total: int, title: str) -> None:
        self.lines.append(f"step {number}/{total} {title}")

    def command(self, shown: str) -> None:
        self.lines.append(f"$ {shown}")

    def output(self, line: str) -> None:
        self.lines.append(f"  {line}")

    def note(self, text: str) -> None:
        self.lines.append(f"> {text}")


def test_the_tool_runs_in_this_interpreter_and_output_is_logged(tmp_path: Path) -> None:
    shown = Recorder()
    shell = Shell(shown, tmp_path / "logs", base_env([]))
    result = shell.run(["gitops-poc", "--version"])
    assert result.code == 0 and result.stdout.startswith("gitops-poc ")
    assert shown.lines == ["$ gitops-poc --version", f"  {result.stdout.strip()}"]
    (log,) = (tmp_path / "logs").iterdir()
    assert log.name == "01-gitops-poc.log" and "# exit 0" in log.read_text()


def test_an_unexpected_exit_code_fails_with_the_command_and_its_log(tmp_path: Path) -> None:
    shell = Shell(Recorder(), tmp_path / "logs", base_env([]))
    with pytest.raises(DemoFailed, match=r"`git rev-parse --verify nothing-here` exited 128 \(expected 0\)"):
        shell.run(["git", "rev-parse", "--verify", "nothing-here"], cwd=tmp_path)
    assert (
        shell.run(["git", "rev-parse", "--verify", "nothing-here"], cwd=tmp_path, expect=(128,)).code == 128
    )


def test_long_output_is_cut_and_filtered(tmp_path: Path) -> None:
    shown = Recorder()
    shell = Shell(shown, tmp_path / "logs", base_env([]))
    shell.run(["python3", "-c", "for i in range(30): print('line', i)"], show=3)
    assert shown.lines[1:4] == ["  line 0", "  line 1", "  line 2"] and "27 more lines" in shown.lines[4]
    shown.lines.clear()
    shell.run(["python3", "-c", "for i in range(30): print('line', i)"], grep="line 2", show=2)
    assert shown.lines[1:] == [
        "  line 2",
        "  line 20",
        "  ... (9 more lines in " + str(tmp_path / "logs" / "02-python3.log") + ")",
    ]


def test_credentials_of_the_users_shell_do_not_reach_the_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "s.users-own")
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-users-own")
    env = base_env([Path("/opt/tools")])
    assert "VAULT_TOKEN" not in env and "GITLAB_TOKEN" not in env
    assert env["PATH"].split(":")[1] == "/opt/tools"
