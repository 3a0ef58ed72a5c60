"""What `publish` takes from a repository's folder, checked on what the real bare remote holds after a real
push: what git would track there, never a credentials file in any spelling, links kept as links and never
one that leaves the folder, never a folder reached through a link."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.secretnames import is_credential_name
from tests.publish.conftest import git
from tests.test_secretnames import ISSUE_EXAMPLES

SECRET = "PLANTED-credential-value-6f1d"
SERVICE = "services/health-demo"
BARE = Path("gitops-poc") / "health-demo.git"

# The issue's examples, then spellings of our own, in subfolders too.
LOOK_ALIKES = (
    *ISSUE_EXAMPLES,
    *(".Env.Production", "staging.env", "#.secrets.yaml#", ".env.swo", "secrets.yml", ".SECRETS.YAML"),
    *(".vault-keys.json.1", ".cicd/.env-staging", "config/.env"),
)
PLAIN_NAMES = (".env.example", "environment.yaml", "docs/env.md", ".cicd/dev.yaml")


def publish(
    root: Path, remotes: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict, str]:
    code = main(["publish", "--root", str(root), "--remote-base", str(remotes), "-o", "json", *extra])
    captured = capsys.readouterr()
    data = json.loads(captured.out) if code == 0 else {}
    return code, data, captured.err


def remote_tree(bare: Path) -> dict[str, tuple[str, str]]:
    """path -> (mode, blob content) of the remote branch."""
    listing = git(f"--git-dir={bare}", "ls-tree", "-r", "-z", "main")
    tree = {}
    for entry in listing.split("\0"):
        if entry:
            meta, path = entry.split("\t", 1)
            mode, _, blob = meta.split()
            tree[path] = (mode, git(f"--git-dir={bare}", "cat-file", "blob", blob))
    return tree


def every_object(bare: Path) -> str:
    """The content of every object the remote holds, whatever references it."""
    result = subprocess.run(
        ["git", f"--git-dir={bare}", "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    )
    return result.stdout.decode(errors="replace")


def withheld(data: dict, name: str) -> dict[str, str]:
    for entry in data["repositories"]:
        if entry["repository"].endswith("/" + name):
            return {w["path"]: w["reason"] for w in entry["withheld"]}
    raise AssertionError(name)


@pytest.mark.parametrize("root_is_a_repository", [True, False], ids=["git-root", "plain-root"])
def test_no_credentials_file_in_any_spelling_reaches_the_remote(
    generated_root: Path, remotes: Path, capsys: pytest.CaptureFixture[str], root_is_a_repository: bool
) -> None:
    (generated_root / ".gitignore").unlink()  # init's ignores .env: here nothing but the names rule helps
    service = generated_root / SERVICE
    for name in (*LOOK_ALIKES, *PLAIN_NAMES):
        (service / name).parent.mkdir(parents=True, exist_ok=True)
        (service / name).write_text(f"TOKEN={SECRET}\n" if name in LOOK_ALIKES else "plain\n")
    (service / ".env").mkdir()  # a folder named like the credentials file: everything in it stays
    (service / ".env" / "prod").write_text(f"GITLAB_TOKEN={SECRET}\n")
    if root_is_a_repository:
        git("init", "--quiet", "-b", "main", cwd=generated_root)
        git("add", "--force", "--", f"{SERVICE}/.env.bak", cwd=generated_root)  # even a tracked one

    code, data, _ = publish(generated_root, remotes, capsys)

    assert code == 0
    bare = remotes / BARE
    tree = remote_tree(bare)
    assert SECRET not in every_object(bare)
    assert not [path for path in tree if any(is_credential_name(p) for p in Path(path).parts)]
    assert {name for name in PLAIN_NAMES} <= set(tree)
    assert set(withheld(data, "health-demo")) == {*LOOK_ALIKES, ".env/prod"}


def test_the_credentials_files_are_named_in_the_text_output(
    generated_root: Path, remotes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # init's .gitignore ignores `.env.local`; another case passes git's matching, not the names rule
    (generated_root / SERVICE / ".ENV.local").write_text(f"X={SECRET}\n")
    assert main(["publish", "--root", str(generated_root), "--remote-base", str(remotes)]) == 0
    text = capsys.readouterr().err
    assert f"withheld {SERVICE}/.ENV.local: a credentials file name" in text
    assert SECRET not in text


def test_the_gitignore_counts_when_the_root_is_not_a_repository(
    generated_root: Path, remotes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service = generated_root / SERVICE
    with (generated_root / ".gitignore").open("a") as handle:
        handle.write("*.log\n")
    (service / ".gitignore").write_text("build/\n!keep.log\n")
    for name in ("run.log", "keep.log", "build/out.txt", "notes.txt"):
        (service / name).parent.mkdir(parents=True, exist_ok=True)
        (service / name).write_text(name)
    assert not (generated_root / ".git").exists()

    code, _, _ = publish(generated_root, remotes, capsys)

    assert code == 0
    tree = remote_tree(remotes / BARE)
    assert {"keep.log", "notes.txt", ".gitignore"} <= set(tree)
    assert not {"run.log", "build/out.txt"} & set(tree)


def test_links_stay_links_and_a_link_leaving_the_folder_is_withheld(
    generated_root: Path, remotes: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.txt").write_text(SECRET)
    service = generated_root / SERVICE
    (service / "readme-link").symlink_to("README.md")
    (service / ".cicd" / "up-and-back").symlink_to("../README.md")
    (service / "absolute").symlink_to(outside / "private.txt")
    (service / "folder-outside").symlink_to(outside)
    (service / "sibling").symlink_to("../auth-adapter/README.md")
    (service / "dangling-up").symlink_to("../../../nowhere")

    code, data, _ = publish(generated_root, remotes, capsys)

    assert code == 0
    bare = remotes / BARE
    tree = remote_tree(bare)
    assert tree["readme-link"] == ("120000", "README.md")
    assert tree[".cicd/up-and-back"] == ("120000", "../README.md")
    assert SECRET not in every_object(bare)
    assert str(outside) not in every_object(bare)
    kept_back = withheld(data, "health-demo")
    assert set(kept_back) == {"absolute", "folder-outside", "sibling", "dangling-up"}
    assert kept_back["sibling"] == "a link to ../auth-adapter/README.md, outside the folder"


@pytest.mark.parametrize("linked", [SERVICE, "services"])
def test_a_repository_folder_reached_through_a_link_is_refused_before_any_push(
    generated_root: Path, remotes: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, linked: str
) -> None:
    outside = tmp_path / "elsewhere"
    (generated_root / linked).rename(outside)
    (generated_root / linked).symlink_to(outside)
    (outside / "private.txt").write_text(SECRET)

    code = main(["publish", "--root", str(generated_root), "--remote-base", str(remotes)])

    err = capsys.readouterr().err
    assert code == 2, err
    assert f"error: {generated_root / linked}: a link to {outside}" in err
    assert not remotes.exists() or not any(remotes.rglob("HEAD"))  # nothing created, nothing pushed


def test_the_root_itself_may_be_a_link(
    generated_root: Path, remotes: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(generated_root)
    code, _, _ = publish(alias, remotes, capsys)
    assert code == 0
    assert "README.md" in remote_tree(remotes / BARE)


def test_a_fifo_or_socket_in_the_folder_is_no_file_of_it(
    generated_root: Path, remotes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.mkfifo(generated_root / SERVICE / "pipe")
    code, _, _ = publish(generated_root, remotes, capsys)
    assert code == 0
    assert "pipe" not in remote_tree(remotes / BARE)
