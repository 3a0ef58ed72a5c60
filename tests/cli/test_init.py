from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitops_poc.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_init_yes_then_check_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--root", str(tmp_path), "--yes"]) == 0
    written = len(snapshot(tmp_path))
    assert written > 40
    assert f"Wrote {written} file(s)." in capsys.readouterr().err
    assert main(["init", "--root", str(tmp_path), "--check"]) == 0
    assert "Nothing to change" in capsys.readouterr().err


def test_check_fails_and_writes_nothing_when_files_would_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "-C", str(tmp_path), "--yes"]) == 0
    (tmp_path / ".env").write_text("GITLAB_GROUP=acme\n")
    before = snapshot(tmp_path)
    assert main(["init", "-C", str(tmp_path), "--check", "--diff"]) == 1
    captured = capsys.readouterr()
    assert "would change" in captured.err
    assert "-  repository: registry.gitlab.com/gitops-poc/api-gateway" in captured.out
    assert "+  repository: registry.gitlab.com/acme/api-gateway" in captured.out
    assert snapshot(tmp_path) == before


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    assert main(["init", "-C", str(tmp_path), "--dry-run"]) == 0
    assert list(tmp_path.iterdir()) == []


def test_without_a_terminal_init_asks_for_yes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "-C", str(tmp_path)]) == 2
    assert "pass --yes" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_json_output_lists_the_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "-C", str(tmp_path), "--output", "json"]) == 2  # JSON is no consent to write
    assert list(tmp_path.iterdir()) == []
    capsys.readouterr()
    assert main(["init", "-C", str(tmp_path), "--output", "json", "--yes"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["applied"] is True
    assert report["summary"] == {"create": len(snapshot(tmp_path)), "update": 0, "delete": 0}
    assert {"path": "gitops-config/argocd/project.yaml", "action": "create", "reason": "generated"} in report[
        "changes"
    ]


@pytest.mark.parametrize(
    ("env_text", "expected"),
    [
        ('SERVICES="api-gateway Bad_Name"\n', "SERVICES='api-gateway Bad_Name': service name 'Bad_Name'"),
        ('SERVICES="web web"\n', "'web' is listed twice"),
        ("SERVICS=web\n", "unknown key SERVICS; did you mean SERVICES?"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], env_text: str, expected: str
) -> None:
    assert main(["init", "-C", str(tmp_path), "--yes"]) == 0
    (tmp_path / ".env").write_text(env_text)
    before = snapshot(tmp_path)
    capsys.readouterr()
    assert main(["init", "-C", str(tmp_path), "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1
    assert expected in err.replace("\n", "")
    assert str(tmp_path / ".env") in err.replace("\n", "")
    assert snapshot(tmp_path) == before


def test_committed_platform_matches_the_example_configuration(tmp_path: Path) -> None:
    """The repository carries init's output for .env.example; it must stay in line."""
    root = tmp_path / "copy"
    root.mkdir()
    for name in ("gitops-config", "services", "templates", "libs"):  # libs/: what services/*/vendor copies
        shutil.copytree(REPO_ROOT / name, root / name)
    shutil.copy(REPO_ROOT / ".gitignore", root / ".gitignore")
    assert main(["init", "-C", str(root), "--env-file", str(REPO_ROOT / ".env.example"), "--check"]) == 0


def test_help_describes_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--check", "--diff", "--dry-run", "--yes", "--output", "--root"):
        assert option in out
