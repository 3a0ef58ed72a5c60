"""Issue #8, crashes and hangs: files that are not what they should be, Vault answers of the wrong shape or
speed, YAML alias bombs. Each: exit 2 (or lint's 1 with a finding), one message naming the path or the
endpoint, no traceback or crash log, nothing changed, within a time bound."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import Run, run_cli, tree

from .conftest import HEALTHY

SERVICE = Path("services") / "api-gateway"
DEV_VALUES = SERVICE / ".cicd" / "dev.yaml"
APPSET = Path("gitops-config") / "argocd" / "applicationset.yaml"
BOUND = 30  # seconds: far above a normal run (~1 s), far below "hangs"

RENDER = ("render", "api-gateway", "dev", "--values-only")
PLAN = ("plan",)
DIFF = ("diff", "api-gateway", "--env", "dev", "--against", "prod", "--values-only")
INIT = ("init", "--yes")


def bounded(root: Path, crash_dir: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    started = time.monotonic()
    run = run_cli(*args, "-C", str(root), tmpdir=crash_dir, env=env, timeout=BOUND + 30)
    assert time.monotonic() - started < BOUND, f"{args} took {time.monotonic() - started:.0f} s"
    return run


# --- 13. files that are not what they should be ----------------------------------------------------------
@pytest.mark.parametrize("command", [RENDER, PLAN, DIFF, INIT], ids=" ".join)
def test_a_values_file_that_is_not_utf8(
    platform_root: Path, crash_dir: Path, command: tuple[str, ...]
) -> None:
    (platform_root / DEV_VALUES).write_bytes(b"image:\n  tag: \xff\xfe\n")
    before = tree(platform_root)
    run = bounded(platform_root, crash_dir, *command)
    run.one_error(2, str(DEV_VALUES), "UTF-8")
    assert tree(platform_root) == before


def test_an_applicationset_that_is_not_utf8(platform_root: Path, crash_dir: Path) -> None:
    (platform_root / APPSET).write_bytes(b"kind: ApplicationSet\nname: \xff\n")
    bounded(platform_root, crash_dir, *PLAN).one_error(2, str(APPSET), "UTF-8")


@pytest.mark.parametrize("command", [RENDER, PLAN, INIT], ids=" ".join)
def test_a_folder_where_a_values_file_belongs(
    platform_root: Path, crash_dir: Path, command: tuple[str, ...]
) -> None:
    (platform_root / DEV_VALUES).unlink()
    (platform_root / DEV_VALUES).mkdir()
    before = tree(platform_root)
    run = bounded(platform_root, crash_dir, *command)
    run.one_error(2, str(DEV_VALUES), "folder")
    assert tree(platform_root) == before


def test_a_folder_where_the_applicationset_belongs(platform_root: Path, crash_dir: Path) -> None:
    (platform_root / APPSET).unlink()
    (platform_root / APPSET).mkdir()
    bounded(platform_root, crash_dir, *PLAN).one_error(2, str(APPSET), "folder")


@pytest.mark.parametrize("command", [RENDER, INIT], ids=" ".join)
@pytest.mark.parametrize("replaced", [SERVICE / ".cicd", SERVICE], ids=str)
def test_a_file_where_a_folder_belongs(
    platform_root: Path, crash_dir: Path, command: tuple[str, ...], replaced: Path
) -> None:
    import shutil

    shutil.rmtree(platform_root / replaced)
    (platform_root / replaced).write_text("not a folder\n")
    before = tree(platform_root)
    run = bounded(platform_root, crash_dir, *command)
    run.one_error(2, str(replaced))
    assert tree(platform_root) == before


# --- 14. hangs: FIFOs and alias bombs --------------------------------------------------------------------
@pytest.mark.parametrize("command", [RENDER, INIT, PLAN], ids=" ".join)
def test_a_fifo_where_a_values_file_belongs(
    platform_root: Path, crash_dir: Path, command: tuple[str, ...]
) -> None:
    (platform_root / DEV_VALUES).unlink()
    os.mkfifo(platform_root / DEV_VALUES)
    run = bounded(platform_root, crash_dir, *command)
    run.one_error(2, str(DEV_VALUES), "regular file")


def alias_bomb(levels: int) -> str:
    lines = ["image:", '  tag: "1.0.0"', "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("command", [("lint",), PLAN, RENDER], ids=" ".join)
def test_an_alias_bomb_is_refused_quickly(
    platform_root: Path, crash_dir: Path, command: tuple[str, ...]
) -> None:
    bomb = alias_bomb(9)  # 10^9 nodes when expanded, in a few hundred bytes
    assert len(bomb) < 1000
    (platform_root / DEV_VALUES).write_text(bomb)
    run = bounded(platform_root, crash_dir, *command)
    assert "Traceback" not in run.text and not run.crash_logs
    assert "excessive aliasing" in run.text and str(DEV_VALUES) in run.text, run.text
    assert run.code == (1 if command == ("lint",) else 2)


def test_ordinary_anchors_still_load(platform_root: Path, crash_dir: Path) -> None:
    """Anchors as people use them (a shared block, merged twice) are far from the bound."""
    values = platform_root / DEV_VALUES
    values.write_text(
        values.read_text() + "common: &common {a: 1, b: 2}\none: *common\ntwo:\n  <<: *common\n  c: 3\n"
    )
    run = bounded(platform_root, crash_dir, *RENDER)
    assert run.code == 0 and "excessive" not in run.text, run.text


# --- Vault: answers of the wrong shape, a bad address, a server that drips -------------------------------
PROVISION = ("vault", "provision", "--dry-run")


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        ("/v1/sys/mounts", {"data": None}),
        ("/v1/sys/mounts", [1, 2]),
        ("/v1/sys/auth", {"data": "kubernetes"}),
        ("/v1/auth/token/lookup-self", {"data": None}),
        ("/v1/auth/token/lookup-self", {"data": {"policies": 7}}),
        ("/v1/sys/policies/acl", {"data": {"keys": 7}}),
    ],
)
def test_a_vault_answer_of_the_wrong_shape(
    tmp_path: Path, crash_dir: Path, fake_vault: Callable[..., str], path: str, answer: object
) -> None:
    addr = fake_vault({path: answer})
    run = bounded(
        tmp_path, crash_dir, *PROVISION, env={"VAULT_ADDR": addr, "VAULT_TOKEN": "hvs.planted-token"}
    )
    run.one_error(2, path.removeprefix("/v1/"), "unexpected shape")
    assert "planted-token" not in run.text


@pytest.mark.parametrize("addr", ["http://[::1", "http://exa mple:8200", "http://host:99999"])
def test_a_malformed_vault_address(tmp_path: Path, crash_dir: Path, addr: str) -> None:
    run = bounded(
        tmp_path, crash_dir, *PROVISION, env={"VAULT_ADDR": addr, "VAULT_TOKEN": "hvs.planted-token"}
    )
    run.one_error(2, "VAULT_ADDR")


def test_a_vault_that_drips_its_answer_meets_the_deadline(
    tmp_path: Path, crash_dir: Path, fake_vault: Callable[..., str]
) -> None:
    addr = fake_vault({"/v1/sys/mounts": HEALTHY["/v1/sys/mounts"]}, 0.5)  # ~70 bytes: 35 s to send
    started = time.monotonic()
    run = bounded(
        tmp_path,
        crash_dir,
        *PROVISION,
        env={"VAULT_ADDR": addr, "VAULT_TOKEN": "hvs.planted-token", "VAULT_CLIENT_TIMEOUT": "3"},
    )
    assert time.monotonic() - started < 15
    run.one_error(2, "sys/mounts", "3 s")
