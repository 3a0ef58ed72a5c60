"""Issue #17, unbounded reads: every command that reads a file, given /dev/zero or a FIFO nobody writes in its
place, exits 2 at once with one error line naming the file, never waits and never fills memory.

The files are read through one boundary (src/gitops_poc/fileio for the tool, gateway_config.files for the
services). This test drives the real commands in child processes, each under a deadline and an address-space
limit, so a regression fails here in seconds instead of hanging the run or exhausting the machine's memory.
`test_every_command_that_reads_a_file_is_covered` fails when a command or a file option is added without a
case here (or a reason why it reads no file).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer
from typer import _click as click

from gitops_poc.cli import app
from tests.childlimits import limited
from tests.hostile.conftest import generate, git

DEADLINE = 60.0  # seconds: a refusal takes ~1 s, 8 s on a machine loaded 8x; a blocked read never ends
MEMORY = 4 << 30  # address space of each child: reading /dev/zero would hit it long before the machine's
REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
KINDS = ("dev-zero", "fifo")


@dataclass(frozen=True)
class Reads:
    """One file a command reads: through `option` (a path argument), or at `in_root` (a path in the platform
    folder) or `in_home` (a path under $HOME). `args` holds {file} and {root}."""

    command: str
    option: str
    args: tuple[str, ...]
    in_root: str | None = None
    in_home: str | None = None
    env: dict[str, str] = field(default_factory=dict)  # {file} allowed in values
    vault: bool = False  # reached only after Vault answered: run against the Vault stand-in

    @property
    def id(self) -> str:
        return f"{self.command} {self.option}"


def _option(command: str, option: str, *extra: str, **more: Any) -> Reads:
    """`command -C ROOT EXTRA OPTION FILE`."""
    return Reads(command, option, (*command.split(), "-C", "{root}", *extra, option, "{file}"), **more)


def _in_root(command: str, relative: str, *extra: str) -> Reads:
    """`command -C ROOT EXTRA` with the file at `relative` in the platform folder."""
    return Reads(command, relative, (*command.split(), "-C", "{root}", *extra), in_root=relative)


def _release(command: str, *extra: str) -> Reads:
    """`ci COMMAND --repo-dir SERVICE-REPOSITORY EXTRA --release-config FILE`."""
    return Reads(
        f"ci {command}",
        "--release-config",
        ("ci", command, "--repo-dir", "{svc}", *extra, "--release-config", "{file}"),
    )


GITLAB = ("--dry-run", "--url", "http://127.0.0.1:9")  # never reached: the file is refused first
VALUES = "services/web-http/.cicd/dev.yaml"
CASES = (
    _option("init", "--env-file", "--check"),
    _in_root("init", ".env", "--check"),
    _option("new-service", "--env-file", "billing", "--yes"),
    _option("plan", "--file"),
    _in_root("plan", "gitops-config/argocd/applicationset.yaml"),
    _in_root("plan", "gitops-config/ci/service.gitlab-ci.yml"),
    _option("lint", "--env-file"),
    Reads("lint", "paths", ("lint", "-C", "{root}", "{file}")),
    _in_root("lint", VALUES),
    _option("render", "--env-file", "web-http", "dev"),
    _in_root("render", VALUES, "web-http", "dev"),
    _option("diff", "--env-file", "web-http", "--env", "dev", "--against", "prod"),
    _option("vault provision", "--env-file", "--dry-run"),
    _option("vault provision", "--secrets-file", "--dry-run"),
    _in_root("vault provision", ".secrets.yaml", "--dry-run"),
    _option("vault provision", "--kubernetes-ca-file", "--dry-run"),
    _option("vault provision", "--token-file", "--dry-run"),
    Reads(
        "vault provision",
        "KUBECONFIG",
        ("vault", "provision", "-C", "{root}", "--dry-run"),
        env={"KUBECONFIG": "{file}", "VAULT_TOKEN": "x"},
        vault=True,
    ),
    _option("vault check", "--env-file"),
    _option("vault check", "--token-file"),
    Reads("vault check", "~/.vault-token", ("vault", "check", "-C", "{root}"), in_home=".vault-token"),
    Reads(
        "ci deploy",
        "--env-file",
        ("ci", "deploy", "--env", "dev", "--service", "web-http", "--dry-run", "--env-file", "{file}"),
    ),
    _option("publish", "--env-file", "--dry-run"),
    _option("publish", "--token-file", "--dry-run"),
    _option("doctor", "--env-file"),
    _option("setup infrastructure", "--env-file", "--dry-run"),
    _option("setup registry", "--env-file", "--dry-run"),
    _option("setup pull", "--env-file", "--dry-run"),
    _option("setup push", "--env-file", "--dry-run"),
    _option("setup push", "--token-file", "--dry-run"),
    _option("verify", "--env-file"),
    _option("up", "--env-file", "--dry-run"),
    _option("proxy", "--env-file", "vault"),
    _option("build-images", "--env-file", "--dry-run"),
    _option("gitlab bootstrap", "--env-file", *GITLAB),
    _option("gitlab bootstrap", "--token-file", *GITLAB),
    _option("gitlab bootstrap", "--push-token-file", *GITLAB),
    _option("gitlab bootstrap", "--credentials-file", *GITLAB),
    _option("gitlab check", "--env-file", *GITLAB[1:]),
    _option("gitlab check", "--token-file", *GITLAB[1:]),
    Reads("review", "--env-file", ("review", "-C", "{root}", "--base", "HEAD", "--env-file", "{file}")),
    _option("status", "--env-file"),
    _option("report", "--env-file", "--html", "{root}/site"),
    _option("report", "--vault-json", "--html", "{root}/site"),
    _option("rollout chart", "--env-file", "3.13.0", "--dry-run"),
    _option("rollout chart", "--token-file", "3.13.0", "--dry-run"),
    _option("rollout template", "--env-file", "--dry-run"),
    _option("rollout template", "--token-file", "--dry-run"),
    _release("bump", "--env", "dev", "--tag", "9.9.9"),
    _release("promote", "--from", "dev", "--to", "staging"),
    _release("rollback", "--env", "dev"),
    _release("deploy", "--env", "dev", "--service", "web-http"),
)

# Path options that are not files read by the command, and why.
NOT_READ = {
    "--root": "the platform folder",
    "--repo-dir": "a service repository folder (its files are read as committed blobs through git)",
    "--workspace": "demo's own folder",
    "--service-dir": "a service repository folder (its values files are covered through the platform's)",
    "--chart": "a chart folder or .tgz handed to helm: render/chart.local_chart refuses anything else",
    "--junit": "written, never read (fileio.write_atomic: tests/test_fileio.py)",
    "--report": "review writes it (fileio.write_atomic)",
    "--codequality": "review writes it (fileio.write_atomic)",
    "--html": "report writes a page into this folder (fileio.write_atomic)",
}
# Commands whose options include no file they read.
NO_FILE = {
    "ci pin": "reads the committed values files through git (git show), no path",
    "ci unpin": "as ci pin",
    "demo": "reads only files it generates in its own workspace",
}

SERVICE_CASES = {  # console script: its file option
    "api-gateway-config": ("--config", "--output", "{out}"),
    "api-gateway": ("--config", "--output", "{out}"),
    "auth-adapter": ("--config", "--port", "0"),
}
SERVICE_NO_FILE = {"health-demo": "takes no file: flags and environment only"}


def _leaf_commands() -> dict[str, list[str]]:
    """Every command of the CLI with its path-typed options (and arguments), from the CLI itself."""
    found: dict[str, list[str]] = {}

    def walk(command: object, path: list[str]) -> None:
        if hasattr(command, "list_commands"):
            context = click.Context(command)  # type: ignore[arg-type]
            for name in command.list_commands(context):
                walk(command.get_command(context, name), [*path, name])  # type: ignore[attr-defined]
            return
        found[" ".join(path)] = [
            (param.opts[0] if param.opts and param.opts[0].startswith("-") else str(param.name))
            for param in command.params  # type: ignore[attr-defined]
            if "Path" in str(param.type_descriptor.annotation)
        ]

    walk(typer.main.get_command(app), [])
    return found


def _bad_file(kind: str, tmp_path: Path, at: Path | None = None) -> Path:
    """/dev/zero (a link to it when `at` is given) or a FIFO nobody writes, at `at` or in tmp_path."""
    if at is not None:
        at.parent.mkdir(parents=True, exist_ok=True)
        if at.exists() or at.is_symlink():
            at.unlink()
    if kind == "dev-zero":
        if at is None:
            return Path("/dev/zero")
        at.symlink_to("/dev/zero")
        return at
    target = at or tmp_path / "nobody-writes"
    os.mkfifo(target)
    return target


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "VAULT_ADDR": "http://127.0.0.1:9", **env}
    if "VAULT_TOKEN" not in env:
        environ.pop("VAULT_TOKEN", None)
    return subprocess.run(
        limited(argv, address_space=MEMORY),  # the limit keeps a regression from starving the machine
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=DEADLINE,  # a read that waits or never ends fails the test here
        check=False,
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated platform in a git repository, and a service repository with two images for dev (one to
    roll back to)."""
    root = tmp_path_factory.mktemp("generated") / "platform"
    root.mkdir()
    generate(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "platform")
    service = root.parent / "web-http"
    shutil.copytree(root / "services" / "web-http", service)
    git(service, "init", "-q", "-b", "main")
    git(service, "add", "-A")
    git(service, "commit", "-q", "-m", "service")
    bump = ("ci", "bump", "--repo-dir", str(service), "--env", "dev", "--tag", "0.2.0")
    assert (
        subprocess.run(
            [sys.executable, "-m", "gitops_poc", *bump], capture_output=True, check=False
        ).returncode
        == 0
    )
    return root, service


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_file_that_never_ends_is_exit_2_naming_it_at_once(
    case: Reads, kind: str, generated: tuple[Path, Path], tmp_path: Path, fake_vault: Callable[..., str]
) -> None:
    platform_root, service = tmp_path / "platform", tmp_path / "web-http"
    shutil.copytree(generated[0], platform_root, symlinks=True)
    shutil.copytree(generated[1], service, symlinks=True)
    home = Path(os.environ["HOME"])
    if case.in_root:
        bad = _bad_file(kind, tmp_path, platform_root / case.in_root)
    elif case.in_home:
        bad = _bad_file(kind, tmp_path, home / case.in_home)
    else:
        bad = _bad_file(kind, tmp_path)
    fill = {"file": str(bad), "root": str(platform_root), "svc": str(service)}
    args = [a.format(**fill) for a in case.args]
    env = {k: v.format(**fill) for k, v in case.env.items()}
    if case.vault:
        env["VAULT_ADDR"] = fake_vault({})
    crash = tmp_path / "crash"
    crash.mkdir()
    result = _run([sys.executable, "-m", "gitops_poc", *args], {**env, "TMPDIR": str(crash)}, tmp_path)
    text = result.stdout + result.stderr
    assert result.returncode == 2, text
    assert "Traceback" not in text and not list(crash.iterdir()), text
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    named = str(bad) if not case.in_root else case.in_root
    assert named in errors[0], errors[0]


@pytest.mark.parametrize("kind", (*KINDS, "folder", "not-utf8"))
@pytest.mark.parametrize("script", sorted(SERVICE_CASES))
def test_a_service_given_a_file_that_never_ends_is_exit_2_naming_it(
    script: str, kind: str, tmp_path: Path
) -> None:
    if kind == "folder":
        bad = tmp_path / "config.yaml"
        bad.mkdir()
    elif kind == "not-utf8":
        bad = tmp_path / "config.yaml"
        bad.write_bytes(b"apis: []\n# caf\xe9\n")
    else:
        bad = _bad_file(kind, tmp_path)
    option, *rest = SERVICE_CASES[script]
    args = [a.format(out=tmp_path / "envoy.yaml") for a in rest]
    result = _run([str(BIN / script), option, str(bad), *args], {"ENVOY_BIN": "/bin/false"}, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line and str(bad) in line]
    assert len(errors) == 1, result.stderr  # auth-adapter logs it as JSON, the others as "<prog>: error:"
    if kind == "not-utf8":
        assert "line 2, column 6" in errors[0], errors[0]  # where the bad byte is: "# caf" then it
    assert not (tmp_path / "envoy.yaml").exists()


def test_every_command_that_reads_a_file_is_covered() -> None:
    """A new command, or a new path option of a command, needs a case above (or a reason in NOT_READ or
    NO_FILE): this is the guard that keeps the test above complete."""
    commands = _leaf_commands()
    assert len(commands) > 20  # the walk found the CLI
    covered: dict[str, set[str]] = {}
    for case in CASES:
        assert case.command in commands, f"{case.command}: no such command"
        covered.setdefault(case.command, set()).add(case.option)
    for command, options in commands.items():
        missing = [o for o in options if o not in covered.get(command, set()) and o not in NOT_READ]
        assert not missing, f"{command}: path options {missing} have no case in CASES (or reason in NOT_READ)"
        assert command in covered or command in NO_FILE, (
            f"{command}: no case in CASES and no reason in NO_FILE"
        )
    assert not set(NO_FILE) - set(commands), "NO_FILE names a command that is gone"
    scripts = {
        name
        for pyproject in REPO.glob("services/*/pyproject.toml")
        for name in tomllib.loads(pyproject.read_text())["project"].get("scripts", {})
    }
    assert scripts, "no service console scripts found"
    assert scripts == set(SERVICE_CASES) | set(SERVICE_NO_FILE), scripts
