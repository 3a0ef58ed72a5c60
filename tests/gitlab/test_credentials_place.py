"""Issue #17 class 7: the issued tokens are written only to their own place. `gitlab bootstrap` refuses a
credentials file that is a symlink, or that a symlink in the platform folder leads outside it, before GitLab
is asked anything (a token issued and then not stored is lost); what it writes is 0600, whole, and leaves no
temporary file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gitops_poc.cli import main
from tests.gitlab.fake_gitlab import FakeGitLab


def bootstrap(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str]:
    code = main(["gitlab", "bootstrap", "--root", str(root), *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("link", ["file link", "folder link", "dangling link", "default .env link"])
def test_a_credentials_file_reached_through_a_link_is_refused_before_gitlab_is_asked(
    gitlab_env: FakeGitLab,
    generated_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    link: str,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    kept = outside / "team.env"
    kept.write_text("# kept\n")
    args: tuple[str, ...] = ()
    if link == "file link":
        named = generated_root / "creds.env"
        named.symlink_to(kept)
        args = ("--credentials-file", str(named))
    elif link == "folder link":
        named = generated_root / "secrets"
        named.symlink_to(outside)
        args = ("--credentials-file", str(named / "creds.env"))
    elif link == "dangling link":
        named = generated_root / "creds.env"
        named.symlink_to(outside / "not-yet.env")
        args = ("--credentials-file", str(named))
    else:
        named = generated_root / ".env"
        named.symlink_to(kept)
    code, err = bootstrap(capsys, generated_root, *args)
    assert code == 2, err
    assert str(named) in err and "symlink" in err, err
    assert gitlab_env.writes() == []  # nothing issued that could not be stored
    assert sorted(p.name for p in outside.iterdir()) == ["team.env"]
    assert kept.read_text() == "# kept\n"
    assert named.is_symlink()


@pytest.mark.parametrize("device", ["/dev/full", "/dev/null"])
def test_a_credentials_file_that_is_a_device_is_refused(
    gitlab_env: FakeGitLab, generated_root: Path, capsys: pytest.CaptureFixture[str], device: str
) -> None:
    code, err = bootstrap(capsys, generated_root, "--credentials-file", device)
    assert code == 2 and device in err and "not a regular file" in err, err
    assert gitlab_env.writes() == []


def test_credentials_go_to_a_private_file_outside_the_root_when_named_there(
    gitlab_env: FakeGitLab, generated_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A path the user names outside the platform folder is theirs to choose; it is written 0600 whole."""
    target = tmp_path / "elsewhere" / "gitlab.env"
    code, err = bootstrap(capsys, generated_root, "--credentials-file", str(target))
    assert code == 0, err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "GITLAB_DEPLOY_TOKEN=" in target.read_text()
    assert os.listdir(target.parent) == ["gitlab.env"]  # no temporary file left
