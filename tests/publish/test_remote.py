"""Where each repository is pushed: `--remote-base` parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.errors import UsageError
from gitops_poc.publish.remote import parse_remote_base


def test_default_is_a_folder_in_the_root(tmp_path: Path) -> None:
    base = parse_remote_base(None, tmp_path)
    assert base.is_local and base.location("team/app/gitops-config") == str(
        tmp_path / ".remotes/team/app/gitops-config.git"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://gitlab.example.com/", "https://gitlab.example.com/grp/svc.git"),
        ("https://gitlab.example.com/prefix", "https://gitlab.example.com/prefix/grp/svc.git"),
        ("ssh://git@gitlab.example.com:2222", "ssh://git@gitlab.example.com:2222/grp/svc.git"),
        ("git@gitlab.example.com:", "git@gitlab.example.com:grp/svc.git"),
    ],
)
def test_urls(value: str, expected: str, tmp_path: Path) -> None:
    base = parse_remote_base(value, tmp_path)
    assert not base.is_local and base.location("grp/svc") == expected


def test_file_urls_and_paths_are_folders(tmp_path: Path) -> None:
    assert parse_remote_base(f"file://{tmp_path}/r", tmp_path).folder == tmp_path / "r"
    assert parse_remote_base(str(tmp_path / "r"), tmp_path).folder == tmp_path / "r"


@pytest.mark.parametrize(
    "value", ["https://oauth2:glpat-secret123@gitlab.com", "https://glpat-secret123@gitlab.com"]
)
def test_credentials_in_the_url_are_refused_without_repeating_them(value: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        parse_remote_base(value, tmp_path)
    assert "glpat-secret123" not in str(caught.value) and "GITLAB_TOKEN" in str(caught.value)


def test_cli_exit_2_and_no_echo(generated_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["publish", "--root", str(generated_root), "--remote-base", "https://u:glpat-secret123@h.example"]
    )
    captured = capsys.readouterr()
    assert code == 2 and "glpat-secret123" not in captured.out + captured.err


def test_unsupported_scheme(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unsupported scheme 'ftp'"):
        parse_remote_base("ftp://host/x", tmp_path)


def test_an_unreachable_remote_is_a_clear_error(
    generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["publish", "--root", str(generated_root), "--remote-base", "http://127.0.0.1:9"])
    captured = capsys.readouterr()
    assert code == 2  # the remote failed: never 1, which means a merge conflict
    assert (
        "gitops-poc/gitops-config: cannot read http://127.0.0.1:9/gitops-poc/gitops-config.git"
        in captured.err
    )
