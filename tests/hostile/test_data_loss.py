"""Silent data loss (#17 class 3): what one run does never undoes another's work, and a file keeps its bytes.

Real git and local bare remotes throughout; each case runs the real command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import hvac
import pytest

from gitops_poc.demo.loop import STAND_IN_CA
from gitops_poc.demo.servers import openbao
from gitops_poc.publish.record import RECORD_FILE
from gitops_poc.vault.secrets_file import DEFAULT_SECRETS_FILE
from gitops_poc.yamlio import load_k8s
from tests.clirun import Run, run_cli
from tests.delivery.conftest import ServiceRemote, service_remote
from tests.delivery.conftest import git as dgit
from tests.hostile.conftest import generate, git
from tests.publish.conftest import assert_fast_forward_only, bare_head

__all__ = ["service_remote"]  # the fixture, used by name

SERVICE = "health-demo"


def publish(root: Path, remotes: Path, tmp_path: Path) -> Run:
    return run_cli("publish", "--root", str(root), "--remote-base", str(remotes), tmpdir=tmp_path / "crash")


def published(root: Path, remotes: Path, tmp_path: Path) -> None:
    run = publish(root, remotes, tmp_path)
    assert run.code == 0, run.text
    assert not run.crash_logs


def remote_files(remotes: Path, repo: str = SERVICE) -> dict[str, str]:
    bare = remotes / "gitops-poc" / f"{repo}.git"
    names = git(bare, "ls-tree", "-r", "--name-only", "main").splitlines()
    return {name: git(bare, "show", f"main:{name}").strip() for name in names}


def add(root: Path, name: str, text: str, repo: str = SERVICE) -> None:
    path = root / "services" / repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- publish: two checkouts of one root ------------------------------------------------------------------


def test_two_copies_publishing_in_turn_keep_each_others_new_files(tmp_path: Path) -> None:
    """The example: the second checkout's publish used to push its older tree over the first's new file."""
    first, second, remotes = tmp_path / "first", tmp_path / "second", tmp_path / "remotes"
    first.mkdir()
    generate(first)
    published(first, remotes, tmp_path)
    shutil.copytree(first, second)  # a copy made after that publish: both derive from it

    add(first, "docs/first.md", "the first checkout's new file\n")
    published(first, remotes, tmp_path)
    run = publish(second, remotes, tmp_path)  # nothing changed here: nothing to push, nothing reverted
    assert run.code == 0, run.text
    assert remote_files(remotes)["docs/first.md"] == "the first checkout's new file"

    add(second, "docs/second.md", "the second checkout's new file\n")
    (second / "services" / SERVICE / "README.md").unlink()  # its own deletion is its own change: it goes
    published(second, remotes, tmp_path)
    files = remote_files(remotes)
    assert files["docs/first.md"] == "the first checkout's new file"
    assert files["docs/second.md"] == "the second checkout's new file"
    assert "README.md" not in files

    published(first, remotes, tmp_path)  # and back: the first does not undo the second's file or deletion
    files = remote_files(remotes)
    assert "docs/second.md" in files and "README.md" not in files and "docs/first.md" in files
    assert_fast_forward_only(remotes / "gitops-poc" / f"{SERVICE}.git")


def test_fresh_clones_of_the_root_repository_merge_on_the_publish_their_commit_contains(
    platform_root: Path, tmp_path: Path
) -> None:
    """Clones have no record of earlier publishes: a publish of a clean commit names it, and a clone whose
    HEAD contains that commit merges on that publish, not on the newest one."""
    remotes = tmp_path / "remotes"
    published(platform_root, remotes, tmp_path)  # a clean checkout: the publish names its commit
    one, two = tmp_path / "one", tmp_path / "two"
    for clone in (one, two):
        subprocess.run(["git", "clone", "-q", str(platform_root), str(clone)], check=True)

    add(one, "docs/uncommitted.md", "published from a dirty checkout\n")
    published(one, remotes, tmp_path)
    published(two, remotes, tmp_path)  # a fresh clone that changed nothing
    assert "docs/uncommitted.md" in remote_files(remotes)

    readme = two / "services" / SERVICE / "README.md"
    readme.write_text(readme.read_text() + "\nA line the second clone commits.\n")
    git(two, "commit", "-qam", "README: a line")
    published(two, remotes, tmp_path)
    files = remote_files(remotes)
    assert files["docs/uncommitted.md"] == "published from a dirty checkout"
    assert files["README.md"].endswith("A line the second clone commits.")

    # The first clone publishes again (its record): the second's README line stays.
    add(one, "docs/uncommitted.md", "published from a dirty checkout, edited\n")
    published(one, remotes, tmp_path)
    files = remote_files(remotes)
    assert files["docs/uncommitted.md"] == "published from a dirty checkout, edited"
    assert files["README.md"].endswith("A line the second clone commits.")


def test_both_checkouts_add_one_file_differently_stop_with_exit_1_naming_it(tmp_path: Path) -> None:
    first, second, remotes = tmp_path / "first", tmp_path / "second", tmp_path / "remotes"
    first.mkdir()
    generate(first)
    published(first, remotes, tmp_path)
    shutil.copytree(first, second)
    add(first, "docs/notes.md", "first\n")
    add(second, "docs/notes.md", "second\n")
    published(first, remotes, tmp_path)
    bare = remotes / "gitops-poc" / f"{SERVICE}.git"
    before = bare_head(bare)
    run = publish(second, remotes, tmp_path)
    run.one_error(1, f"gitops-poc/{SERVICE}", "docs/notes.md", "nothing was pushed")
    assert bare_head(bare) == before
    assert remote_files(remotes)["docs/notes.md"] == "first"


def test_a_root_that_never_published_here_never_overwrites_what_differs(tmp_path: Path) -> None:
    """Two roots generated apart (no record, no git): no publish is known that the second derives from, so
    nothing of the remote is taken for its own to undo: a file held differently stops it (exit 1)."""
    first, second, remotes = tmp_path / "first", tmp_path / "second", tmp_path / "remotes"
    for root in (first, second):
        root.mkdir()
        generate(root)
    add(first, "docs/first.md", "first\n")
    published(first, remotes, tmp_path)
    readme = second / "services" / SERVICE / "README.md"
    original = readme.read_text()
    readme.write_text("the second root's README\n")
    bare = remotes / "gitops-poc" / f"{SERVICE}.git"
    before = bare_head(bare)
    run = publish(second, remotes, tmp_path)
    run.one_error(1, "README.md", "no publish is known")
    assert bare_head(bare) == before

    # Resolved as the message says: the remote's README back, publish (the same files, and one it does not
    # have: kept, and the merge recorded), then the change again: now a change of its own, merged.
    readme.write_text(original)
    published(second, remotes, tmp_path)
    assert "docs/first.md" in remote_files(remotes)
    readme.write_text("the second root's README\n")
    published(second, remotes, tmp_path)
    files = remote_files(remotes)
    assert files["README.md"] == "the second root's README" and files["docs/first.md"] == "first"


def test_two_checkouts_publishing_at_once_keep_both_files(tmp_path: Path) -> None:
    remotes = tmp_path / "remotes"
    base = tmp_path / "base"
    base.mkdir()
    generate(base)
    published(base, remotes, tmp_path)
    roots = [tmp_path / f"checkout-{n}" for n in range(3)]
    for n, root in enumerate(roots):
        shutil.copytree(base, root)
        add(root, f"docs/from-{n}.md", f"checkout {n}\n")
        add(root, f"docs/from-{n}.md", f"checkout {n}\n", repo="web-http")
    runs: dict[int, Run] = {}
    start = threading.Barrier(len(roots))

    def one(n: int) -> None:
        start.wait()
        runs[n] = publish(roots[n], remotes, tmp_path)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(roots))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n in range(len(roots)):
        assert runs[n].code == 0, runs[n].text
    for repo in (SERVICE, "web-http"):
        files = remote_files(remotes, repo)
        assert {f"docs/from-{n}.md" for n in range(len(roots))} <= set(files), repo
        assert_fast_forward_only(remotes / "gitops-poc" / f"{repo}.git")


@pytest.mark.parametrize("record", ["fifo", "junk"])
def test_a_record_that_is_not_ours_is_ignored_never_waited_on(tmp_path: Path, record: str) -> None:
    first, remotes = tmp_path / "first", tmp_path / "remotes"
    first.mkdir()
    generate(first)
    published(first, remotes, tmp_path)
    shutil.copytree(first, tmp_path / "second")
    second = tmp_path / "second"
    state = second / RECORD_FILE
    state.unlink()
    if record == "fifo":
        os.mkfifo(state)
    else:
        state.write_text("{not json")
    add(first, "docs/first.md", "first\n")
    published(first, remotes, tmp_path)
    run = publish(second, remotes, tmp_path)  # no record: no base; the same files and one it lacks: kept
    assert run.code == 0, run.text
    assert "docs/first.md" in remote_files(remotes)


# --- ci bump: only the intended key changes, and the file keeps its bytes --------------------------------

DEV_VALUES = ".cicd/dev.yaml"


def team_writes(remote: ServiceRemote, path: str, data: bytes) -> None:
    """A team member commits `path` with exactly these bytes (CRLF, a byte order mark) and pushes."""
    clone = remote.new_clone(f"team-{len(list(remote.tmp.glob('team-*')))}")
    (clone / path).write_bytes(data)
    dgit(clone, "-c", "core.autocrlf=false", "add", path)
    dgit(clone, "commit", "-qm", "team: values")
    dgit(clone, "push", "-q", "origin", "HEAD:main")


def remote_bytes(remote: ServiceRemote, path: str) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={remote.bare}", "cat-file", "blob", f"main:{path}"],
        capture_output=True,
        check=True,
    ).stdout


def bump(remote: ServiceRemote, tmp_path: Path, *args: str) -> Run:
    return run_cli(
        "ci", "bump", "-C", str(remote.clone), "--push", "--env", "dev", *args, tmpdir=tmp_path / "crash"
    )


@pytest.mark.parametrize(
    ("bom", "newline"),
    [(b"", b"\r\n"), (b"\xef\xbb\xbf", b"\n"), (b"\xef\xbb\xbf", b"\r\n")],
    ids=["crlf", "bom", "bom-crlf"],
)
def test_bump_keeps_the_line_endings_and_byte_order_mark(
    service_remote: ServiceRemote, tmp_path: Path, bom: bytes, newline: bytes
) -> None:
    text = (service_remote.clone / DEV_VALUES).read_bytes()
    team_writes(service_remote, DEV_VALUES, bom + text.replace(b"\n", newline))
    run = bump(service_remote, tmp_path, "--tag", "7.7.7", "--pipeline", "77")
    assert run.code == 0, run.text
    after = remote_bytes(service_remote, DEV_VALUES)
    assert after.startswith(bom) and (bom or not after.startswith(b"\xef\xbb\xbf"))
    body = after[len(bom) :]
    assert body.count(newline) == text.count(b"\n")  # every line, none lost, none added
    if newline == b"\r\n":
        assert b"\n" not in body.replace(b"\r\n", b"")
    else:
        assert b"\r" not in body
    expected = text.replace(b'tag: "0.1.0"', b'tag: "7.7.7" # gitops-poc: pipeline 77')
    assert body.replace(b"\r\n", b"\n") == expected
    # and a second bump reads what the first wrote: same form, only the tag line differs
    run = bump(service_remote, tmp_path, "--tag", "7.7.8", "--pipeline", "78")
    assert run.code == 0, run.text
    assert remote_bytes(service_remote, DEV_VALUES) == after.replace(b"7.7.7", b"7.7.8").replace(
        b"77\r", b"78\r"
    ).replace(b"pipeline 77", b"pipeline 78")


SHARED = """\
# the image every container of the pod runs
x-image: &image
  repository: registry.gitlab.com/gitops-poc/api-gateway
  tag: "0.1.0"
environment: dev
image: *image
migrations:
  image: *image
sidecar:
  image:
    <<: *image
    pullPolicy: Always
"""

ANCHORED_HERE = """\
environment: dev
image: &image
  repository: registry.gitlab.com/gitops-poc/api-gateway
  tag: "0.1.0"  # the release
migrations:
  image: *image
"""


@pytest.mark.parametrize("text", [SHARED, ANCHORED_HERE], ids=["image-is-an-alias", "image-holds-the-anchor"])
def test_bump_of_an_image_shared_through_an_anchor_changes_image_alone(
    service_remote: ServiceRemote, tmp_path: Path, text: str
) -> None:
    team_writes(service_remote, DEV_VALUES, text.encode())
    before = load_k8s(text, DEV_VALUES)
    run = bump(service_remote, tmp_path, "--tag", "9.9.9")
    assert run.code == 0, run.text
    after_text = remote_bytes(service_remote, DEV_VALUES).decode()
    after = load_k8s(after_text, DEV_VALUES)
    assert after["image"]["tag"] == "9.9.9"
    before["image"] = {**before["image"], "tag": "9.9.9"}
    assert after == before, after_text  # the other keys mean what they meant
    assert after_text.startswith(text.splitlines()[0])  # comments kept


@pytest.mark.parametrize("branch", ["", "  "])
def test_bump_to_an_empty_branch_is_refused_and_pushes_nothing(
    service_remote: ServiceRemote, tmp_path: Path, branch: str
) -> None:
    head = service_remote.head()
    for command in (["bump", "--tag", "1.2.3"], ["pin", "--reason", "hold"]):
        run = run_cli(
            "ci",
            command[0],
            "-C",
            str(service_remote.clone),
            "--push",
            "--env",
            "dev",
            *command[1:],
            "--branch",
            branch,
            tmpdir=tmp_path / "crash",
        )
        run.one_error(2, "--branch", "empty")
    assert service_remote.head() == head
    assert len(dgit(service_remote.bare, "for-each-ref", "refs/heads").splitlines()) == 1


# --- vault provision: a .secrets.yaml it cannot read is an error, never "generate the values" -------------


@pytest.mark.parametrize("kind", ["folder", "link to a folder", "fifo"])
def test_a_secrets_file_that_is_not_a_file_stops_provision_before_vault_is_written(
    platform_root: Path, tmp_path: Path, kind: str
) -> None:
    secrets = platform_root / DEFAULT_SECRETS_FILE
    if kind == "folder":
        secrets.mkdir()
        (secrets / "web-http.yaml").write_text("API_KEY: the team's real key\n")
    elif kind == "link to a folder":
        (tmp_path / "elsewhere").mkdir()
        secrets.symlink_to(tmp_path / "elsewhere")
    else:
        os.mkfifo(secrets)
    with openbao(tmp_path / "bao-home") as bao:
        env = {"VAULT_ADDR": bao.addr, "VAULT_TOKEN": bao.token}
        args = ("vault", "provision", "--root", str(platform_root), "--kubernetes-ca-file", str(STAND_IN_CA))
        run = run_cli(*args, env=env, tmpdir=tmp_path / "crash", timeout=30)
        run.one_error(2, DEFAULT_SECRETS_FILE)
        client = hvac.Client(bao.addr, bao.token)
        assert "kubernetes/" not in client.sys.list_auth_methods()["data"]  # nothing written
        assert not [p for p in client.sys.list_policies()["data"]["policies"] if p.startswith("gitops-poc")]
        # The same run with a readable file provisions: the refusal was the file's doing.
        if secrets.is_dir() and not secrets.is_symlink():
            shutil.rmtree(secrets)
        else:
            secrets.unlink()
        run = run_cli(*args, env=env, tmpdir=tmp_path / "crash", timeout=60)
        assert run.code == 0, run.text


# --- init: its in-place edits keep the file's form and meaning -------------------------------------------


@pytest.mark.parametrize(
    ("bom", "newline"),
    [(b"", b"\r\n"), (b"\xef\xbb\xbf", b"\n"), (b"\xef\xbb\xbf", b"\r\n")],
    ids=["crlf", "bom", "bom-crlf"],
)
def test_init_rewriting_a_team_file_keeps_its_line_endings_and_byte_order_mark(
    tmp_path: Path, bom: bytes, newline: bytes
) -> None:
    root = tmp_path / "platform"
    root.mkdir()
    generate(root)
    values = root / "services" / SERVICE / ".cicd" / "dev.yaml"
    ignore = root / ".gitignore"
    text = values.read_bytes().replace(b"environment: dev", b"environment: wrong")
    values.write_bytes(bom + text.replace(b"\n", newline))
    ignore.write_bytes(bom + b"node_modules/" + newline + b"*.log" + newline)  # init adds its lines
    run = run_cli("init", "--root", str(root), "--yes", tmpdir=tmp_path / "crash")
    assert run.code == 0, run.text
    for path in (values, ignore):
        data = path.read_bytes()
        assert data.startswith(bom) and data[len(bom) :][:3] != b"\xef\xbb\xbf", path
        lines = data[len(bom) :].split(b"\n")[:-1]
        assert lines and all(line.endswith(b"\r") == (newline == b"\r\n") for line in lines), data
    assert b"environment: dev" + newline in values.read_bytes()
    assert values.read_bytes().replace(b"\r\n", b"\n")[len(bom) :] == text.replace(
        b"environment: wrong", b"environment: dev"
    )
    again = run_cli("init", "--root", str(root), "--check", tmpdir=tmp_path / "crash")
    assert again.code == 0, again.text  # and it stays up to date: the form is no change


def test_init_setting_a_managed_key_in_a_block_shared_through_an_anchor_changes_that_key_alone(
    tmp_path: Path,
) -> None:
    root = tmp_path / "platform"
    root.mkdir()
    generate(root)
    values = root / "services" / SERVICE / ".cicd" / "dev.yaml"
    text = (
        "environment: dev\n"
        "x-image: &image\n"
        "  repository: registry.example.com/old/health-demo\n"
        '  tag: "0.1.0"\n'
        "image: *image\n"
        "jobs:\n"
        "  migrate:\n"
        "    image: *image\n"
    )
    values.write_text(text)
    run = run_cli("init", "--root", str(root), "--yes", tmpdir=tmp_path / "crash")
    assert run.code == 0, run.text
    after = load_k8s(values.read_text(), "dev.yaml")
    before = load_k8s(text, "dev.yaml")
    assert after["image"]["repository"] != before["image"]["repository"]  # the managed key follows .env
    assert after["jobs"] == before["jobs"] and after["x-image"] == before["x-image"]  # the others do not
    assert after["image"]["tag"] == "0.1.0"
