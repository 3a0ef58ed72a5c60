"""How every command finds its configuration: --env-file, ROOT/.env, or the built-in defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.cli import main


def test_a_missing_env_file_given_explicitly_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "platform.env"
    assert main(["init", "-C", str(tmp_path), "--env-file", str(missing), "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"--env-file {missing}: no such file" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["init", "--check"], ["lint"]])
def test_a_missing_default_env_uses_the_defaults_with_one_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    main([*command, "-C", str(tmp_path)])
    err = capsys.readouterr().err
    note = f"no {tmp_path / '.env'}: using the built-in defaults (see .env.example)"
    assert err.count(note) == 1
    assert not (tmp_path / ".env").exists()


def test_no_note_when_the_env_file_exists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_text("GITLAB_GROUP=acme\n")
    assert main(["init", "-C", str(tmp_path), "--yes"]) == 0
    assert "built-in defaults" not in capsys.readouterr().err
    other = tmp_path / "platform.env"
    other.write_text("GITLAB_GROUP=acme\n")
    (tmp_path / ".env").unlink()
    assert main(["init", "-C", str(tmp_path), "--env-file", str(other), "--check"]) == 0
    assert "built-in defaults" not in capsys.readouterr().err
