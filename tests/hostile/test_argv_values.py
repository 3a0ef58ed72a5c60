"""Issue 17, must show: no argv the tool builds holds a user value in a position where it could be read as an
option. Every command that starts child processes runs with option-looking values in each input a user, a
file or the environment controls; every argv started goes through proc.py, whose record (proc.recording, a
hook in the boundary, not a mock of subprocess) is checked word by word. And: nothing in src/ starts a
process any other way."""

from __future__ import annotations

import ast
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_poc import proc
from gitops_poc.cli import main
from tests.argvparts import ENDS
from tests.conftest import REPO_ROOT, require_binary
from tests.delivery.conftest import ServiceRemote, make_service_remote

MARK = "HOSTILE"  # in every hostile value, so its words can be found in any argv
HOSTILE = (f"-{MARK}", f"--{MARK}=1", f"--upload-pack=touch {MARK}")


def value_positions_only(argv: list[str], mark: str = MARK) -> list[str]:
    """The words of `argv` holding `mark` somewhere a program could read as an option (empty: none).
    A value is safe as an operand after `--`/`--end-of-options`, as the value of `--name=value` (the name
    being the tool's own, the word not the value itself), or as a word that does not start with '-'."""
    bad = []
    end = next((i for i, word in enumerate(argv) if word in ENDS), len(argv))
    for index, word in enumerate(argv):
        if mark not in word or index > end or not word.startswith("-"):
            continue
        name, equals, _value = word.partition("=")
        if not equals or not word.startswith("--") or mark in name or word.startswith(HOSTILE):
            bad.append(word)
    return bad


def test_the_check_itself_catches_a_value_in_an_option_position() -> None:
    assert value_positions_only(["git", "fetch", HOSTILE[2], "x"]) == [HOSTILE[2]]
    assert value_positions_only(["helm", f"-{MARK}", "--", f"-{MARK}"]) == [f"-{MARK}"]
    assert value_positions_only(["helm", f"--kube-context=-{MARK}", "--", f"-{MARK}", MARK]) == []
    assert value_positions_only(["helm", f"--kube-context={HOSTILE[2]}"]) == []


@pytest.fixture
def service_remote(tmp_path: Path) -> ServiceRemote:
    return make_service_remote(tmp_path)


def _run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], env: dict[str, str]
) -> tuple[int, str, list[list[str]]]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with proc.recording() as started:
        code = main(args)
    return code, capsys.readouterr().err, started


def _assert_held(code: int, err: str, started: list[list[str]], where: str) -> None:
    """Refused with one error line, or (where the value is allowed) only ever passed as a value."""
    for argv in started:
        assert value_positions_only(argv) == [], (where, argv)
    if code == 2:
        lines = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and "Traceback" not in err, (where, err)


# (name, args builder, env builder): every input of the git-driving ci commands a user controls.
CiCase = Callable[[ServiceRemote, str], tuple[list[str], dict[str, str]]]
CI_INPUTS: dict[str, CiCase] = {
    "--remote": lambda r, v: (["--push", "--remote", v], {}),
    "GITOPS_POC_REMOTE": lambda r, v: (["--push"], {"GITOPS_POC_REMOTE": v}),
    "--branch": lambda r, v: (["--push", f"--branch={v}"], {}),
    "CI_COMMIT_BRANCH": lambda r, v: (["--push"], {"CI_COMMIT_BRANCH": v}),
    "CI_DEFAULT_BRANCH": lambda r, v: (["--push"], {"CI_DEFAULT_BRANCH": v}),
    "CI_PROJECT_URL": lambda r, v: (["--push"], {"CI_PROJECT_URL": v}),
    "--env": lambda r, v: ([f"--env={v}"], {}),
    "--tag": lambda r, v: ([f"--tag={v}"], {}),
    "--repository": lambda r, v: (["--repository", v], {}),
}


# Every input each command takes (only bump takes an image: --tag and --repository).
CI_CASES = [
    (where, command)
    for where in sorted(CI_INPUTS)
    for command in ("bump", "pin", "unpin", "promote")
    if command == "bump" or where not in ("--tag", "--repository")
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(("where", "command"), CI_CASES)
def test_ci_commands_never_pass_a_value_as_an_option(
    service_remote: ServiceRemote,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    where: str,
    value: str,
) -> None:
    extra, env = CI_INPUTS[where](service_remote, value)
    base = {
        "bump": ["--env", "dev", "--tag", "2.0.0"],
        "pin": ["--env", "dev"],
        "unpin": ["--env", "dev"],
        "promote": ["--from", "dev", "--to", "staging"],
    }[command]
    given = {a.partition("=")[0] for a in extra}
    args = ["ci", command, "-C", str(service_remote.clone), *[a for a in base if a not in given], *extra]
    if where == "--env" and command == "promote":
        args = ["ci", command, "-C", str(service_remote.clone), f"--from={value}", "--to", "staging"]
    before = service_remote.head()
    code, err, started = _run(monkeypatch, capsys, args, env)
    _assert_held(code, err, started, where)
    assert code == 2, (where, err)  # none of these values is one a command can use
    assert service_remote.head() == before


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    "where",
    [
        "--service",
        "--env",
        "--kube-context",
        "KUBE_CONTEXT",
        "CHART_NAME",
        "CHART_VERSION",
        "--tag",
        "--repository",
    ],
)
def test_ci_deploy_dry_run_never_passes_a_value_as_an_option(
    generated_root: Path,
    k8app_repo: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
    value: str,
) -> None:
    require_binary("helm")
    service = generated_root / "services" / "api-gateway"
    options = {"--service": "api-gateway", "--env": "dev", "--tag": "1.0.0"}
    env = {"CHART_REPO": k8app_repo}
    if where.startswith("--"):
        options[where] = value
    else:
        env[where] = value
    args = ["ci", "deploy", "-C", str(service), "--dry-run", *[f"{k}={v}" for k, v in options.items()]]
    code, err, started = _run(monkeypatch, capsys, args, env)
    _assert_held(code, err, started, where)
    assert code == 2, (where, err)


def test_ci_deploy_dry_run_with_good_values_passes_each_as_a_value(
    generated_root: Path, k8app_repo: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same command with values that are allowed: it runs helm, and each of them reaches it as a value."""
    require_binary("helm")
    service = generated_root / "services" / "api-gateway"
    args = ["ci", "deploy", "-C", str(service), "--dry-run", "--service=api-gateway", "--env=dev"]
    args += ["--tag=1.0.0-hostile", "--kube-context=ctx-HOSTILE"]
    code, err, started = _run(monkeypatch, capsys, args, {"CHART_REPO": k8app_repo})
    assert code == 0, err
    helm = [argv for argv in started if Path(argv[0]).name == "helm"]
    assert any("template" in argv for argv in helm) and any("pull" in argv for argv in helm)
    for argv in started:
        assert value_positions_only(argv) == [], argv
        assert value_positions_only(argv, "hostile") == [], argv


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("where", ["GIT_BRANCH", "--remote-base", "GITLAB_GROUP"])
def test_publish_never_passes_a_value_as_an_option(
    platform_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    where: str,
    value: str,
) -> None:
    args = ["publish", "--root", str(platform_root)]
    env: dict[str, str] = {}
    if where == "--remote-base":
        args += ["--remote-base", value]
    else:
        env[where] = value
    monkeypatch.chdir(tmp_path)  # a relative --remote-base is a folder here, never an option
    code, err, started = _run(monkeypatch, capsys, args, env)
    _assert_held(code, err, started, where)


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("command", [["plan"], ["diff", "--env", "dev"]])
def test_revisions_never_pass_as_options(
    platform_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    value: str,
) -> None:
    if command[0] == "diff":
        args = ["diff", "api-gateway", "--root", str(platform_root), "--base", value, "--values-only"]
    else:
        args = ["plan", "--root", str(platform_root), "--base", value]
    code, err, started = _run(monkeypatch, capsys, args, {})
    _assert_held(code, err, started, "--base")
    assert code == 2, err


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("where", ["KUBE_CONTEXT", "CLUSTER_CONTEXTS"])
def test_cluster_commands_never_pass_a_context_as_an_option(
    platform_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
    value: str,
) -> None:
    env = {where: value}
    if where == "CLUSTER_CONTEXTS":
        env.update(ENVIRONMENT_CLUSTERS="prod=eu", CLUSTER_CONTEXTS=f"eu={value}")
    for args in (
        ["doctor", "--root", str(platform_root)],
        ["setup", "infrastructure", "--root", str(platform_root), "--dry-run"],
        ["proxy", "--root", str(platform_root), "vault"],
        ["build-images", "--root", str(platform_root), "--dry-run"],
    ):
        code, err, started = _run(monkeypatch, capsys, args, env)
        _assert_held(code, err, started, f"{' '.join(args[:2])} {where}")
        assert code == 2, (args, err)


def test_kubectl_token_source_passes_names_as_values(tmp_path: Path) -> None:
    from gitops_poc.errors import UsageError
    from gitops_poc.vault.kube_tokens import kubectl_jwt_source

    source = kubectl_jwt_source(f"-{MARK}-context", kubectl="/bin/false")
    with proc.recording() as started, pytest.raises(UsageError, match="service account"):
        source("poc-dev", f"-{MARK}", "vault")
    assert started == []
    with proc.recording() as started, pytest.raises(Exception, match="failed"):
        source(f"--{MARK}=ns", "api-gateway", f"-{MARK}-aud")
    assert [value_positions_only(argv) for argv in started] == [[]]


# --- nothing starts a process but the boundary --------------------------------------------------------------
STARTERS = {
    ("subprocess", "run"),
    ("subprocess", "Popen"),
    ("subprocess", "call"),
    ("subprocess", "check_call"),
    ("subprocess", "check_output"),
    ("subprocess", "getoutput"),
    ("subprocess", "getstatusoutput"),
    ("os", "system"),
    ("os", "popen"),
    ("asyncio", "create_subprocess_exec"),
    ("asyncio", "create_subprocess_shell"),
}


def _starts_a_process(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        pair = (func.value.id, func.attr)
        return pair in STARTERS or (
            func.value.id == "os" and func.attr.startswith(("exec", "spawn", "posix_spawn"))
        )
    return False


def test_every_child_process_of_the_tool_starts_in_proc_py() -> None:
    found = []
    for path in sorted((REPO_ROOT / "src" / "gitops_poc").rglob("*.py")):
        if path.name == "proc.py" and path.parent.name == "gitops_poc":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module in ("subprocess", "os", "asyncio")
            for alias in node.names
        }
        starters = {name for _, name in STARTERS} | {"execv", "execvp", "execve", "spawnv"}
        assert not imported & starters, (path, imported & starters)
        found += [
            f"{path.relative_to(REPO_ROOT)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _starts_a_process(node)
        ]
    assert found == []


def test_the_guard_sees_a_direct_start() -> None:
    tree = ast.parse("import subprocess\nsubprocess.run(['git'])\n")
    assert any(isinstance(n, ast.Call) and _starts_a_process(n) for n in ast.walk(tree))
    assert subprocess  # the module the guard is about
