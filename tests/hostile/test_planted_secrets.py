"""Issue #8: known secret values planted everywhere a user keeps them (VAULT_TOKEN, GITLAB_TOKEN, the .env
credentials, the secrets file, a key referencing a credential), then every hostile-input error path run:
none of them may appear in stdout, stderr or a crash log."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import run_cli

from .conftest import HEALTHY
from .test_faults import alias_bomb

VAULT_TOKEN = "hvs.PLANTED-vault-token-1f4e"
GITLAB_TOKEN = "glpat-PLANTED-gitlab-token-77aa"
DEPLOY_TOKEN = "gldt-PLANTED-deploy-token-5c21"
AGENT_TOKEN = "glagent-PLANTED-agent-token-9d03"
FILE_VALUES = ("PLANTED-api-key-value-3b", "PLANTED-jwt-secret-value-8e", "PLANTED-second-value-0c")
URL_PASSWORD = "PLANTED-url-password-2b7e"
TOKEN_FILE_LINES = ("PLANTED-token-file-line-one-51", "PLANTED-token-file-line-two-52")
PASTED = "glpat-PLANTED-pasted-alone-0a9c"  # a token pasted on a .env line of its own: known to nothing
PLANTED = (
    VAULT_TOKEN,
    GITLAB_TOKEN,
    DEPLOY_TOKEN,
    AGENT_TOKEN,
    *FILE_VALUES,
    URL_PASSWORD,
    *TOKEN_FILE_LINES,
    PASTED,
)

DEV_VALUES = Path("services") / "api-gateway" / ".cicd" / "dev.yaml"
SECRETS = (
    "api-gateway:\n  dev:\n    API_KEY: {0}\n    API_KEY: {2}\nauth-adapter:\n  dev:\n    JWT_SECRET: {1}\n"
)

Setup = Callable[[Path, dict[str, str]], tuple[str, ...]]


def _secrets(root: Path, text: str) -> None:
    (root / ".secrets.yaml").write_text(text.format(*FILE_VALUES))


def duplicate_key(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    _secrets(root, SECRETS)
    return ("vault", "provision", "--dry-run")


def duplicate_block(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    _secrets(root, "api-gateway:\n  dev:\n    API_KEY: {0}\n  dev:\n    API_KEY: {1}\n")
    return ("vault", "provision", "--dry-run")


def null_key(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    _secrets(root, "api-gateway:\n  dev:\n    API_KEY: {0}\n    ~: {1}\n")
    return ("vault", "provision", "--dry-run")


def secrets_syntax_error(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    _secrets(root, 'api-gateway:\n  dev:\n    API_KEY: "{0}\n    JWT: {1}: {2}\n')
    return ("vault", "provision", "--dry-run")


def secret_value_is_a_mapping(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    _secrets(root, "api-gateway:\n  dev:\n    API_KEY: {{{0}: {1}}}\n")
    return ("vault", "provision", "--dry-run")


def key_references_a_credential(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    with (root / ".env").open("a") as handle:
        handle.write("GITLAB_GROUP=${GITLAB_DEPLOY_TOKEN}\n")
    return ("init", "--dry-run")


def registry_references_a_credential(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    env["DOCKER_REGISTRY"] = "${GITLAB_AGENT_TOKEN}"
    return ("lint",)


def credential_is_set_twice(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    with (root / ".env").open("a") as handle:
        handle.write(f"GITLAB_DEPLOY_TOKEN={FILE_VALUES[0]}\n")
    return ("init", "--check")


def empty_base(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    return ("plan", "--base", "", "--max-deletions", "0")


def symlink_outside(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "leak.yaml").write_text(f"token: {FILE_VALUES[0]}\n")
    shutil.rmtree(root / "services" / "web-http")
    (root / "services" / "web-http").symlink_to(outside)
    return ("init", "--yes")


def values_linked_outside(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    outside = root.parent / "private.yaml"
    outside.write_text(f"image:\n  tag: {FILE_VALUES[1]}\n")
    (root / DEV_VALUES).unlink()
    (root / DEV_VALUES).symlink_to(outside)
    return ("render", "api-gateway", "dev", "--values-only")


def bad_prefix(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    env["VAULT_PATH_PREFIX"] = "../x"
    _secrets(root, SECRETS.replace("    API_KEY: {2}\n", ""))
    return ("vault", "provision", "--dry-run")


def broken_values(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    (root / DEV_VALUES).write_text("image:\n\ttag: x\n")
    return ("plan",)


def not_utf8(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    (root / DEV_VALUES).write_bytes(b"image:\n  tag: \xff\n")
    return ("diff", "api-gateway", "--env", "dev", "--against", "prod", "--values-only")


def fifo(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    (root / DEV_VALUES).unlink()
    os.mkfifo(root / DEV_VALUES)
    return ("render", "api-gateway", "dev", "--values-only")


def alias_bomb_values(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    (root / DEV_VALUES).write_text(alias_bomb(9))
    return ("lint",)


def bad_vault_addr(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    env["VAULT_ADDR"] = "http://[::1"
    _secrets(root, SECRETS.replace("    API_KEY: {2}\n", ""))
    return ("vault", "provision", "--dry-run")


def unreachable_vault(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    env["VAULT_ADDR"] = "http://127.0.0.1:9"
    _secrets(root, SECRETS.replace("    API_KEY: {2}\n", ""))
    return ("vault", "check")


def vault_addr_with_a_password(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    env["VAULT_ADDR"] = f"http://vault:{URL_PASSWORD}@127.0.0.1:9"
    return ("vault", "check")


def remote_base_with_a_password(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    return ("publish", "--dry-run", "--remote-base", f"https://user:{URL_PASSWORD}@127.0.0.1:9/")


def gitlab_url_with_a_password(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    return ("gitlab", "check", "--url", f"http://user:{URL_PASSWORD}@127.0.0.1:9")


def status_remote_base_with_a_password(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    return ("status", "--remote-base", f"http://user:{URL_PASSWORD}@127.0.0.1:9/")


def token_pasted_alone(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    with (root / ".env").open("a") as handle:
        handle.write(f"{PASTED}\n")
    return ("init", "--dry-run")


def token_pasted_with_a_space(root: Path, env: dict[str, str]) -> tuple[str, ...]:
    with (root / ".env").open("a") as handle:
        handle.write(f"deploy {FILE_VALUES[0]}\n")
    return ("lint",)


SCENARIOS: list[Setup] = [
    vault_addr_with_a_password,
    remote_base_with_a_password,
    gitlab_url_with_a_password,
    status_remote_base_with_a_password,
    token_pasted_alone,
    token_pasted_with_a_space,
    duplicate_key,
    duplicate_block,
    null_key,
    secrets_syntax_error,
    secret_value_is_a_mapping,
    key_references_a_credential,
    registry_references_a_credential,
    credential_is_set_twice,
    empty_base,
    symlink_outside,
    values_linked_outside,
    bad_prefix,
    broken_values,
    not_utf8,
    fifo,
    alias_bomb_values,
    bad_vault_addr,
    unreachable_vault,
]


@pytest.fixture
def planted_root(platform_root: Path) -> Path:
    (platform_root / ".env").write_text(
        f"GITLAB_DEPLOY_TOKEN_USER=deployer\nGITLAB_DEPLOY_TOKEN={DEPLOY_TOKEN}\nGITLAB_AGENT_TOKEN={AGENT_TOKEN}\n"
    )
    return platform_root


def assert_nothing_planted(text: str) -> None:
    leaked = [secret for secret in PLANTED if secret in text]
    assert leaked == [], f"leaked {leaked} in:\n{text}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_no_planted_secret_in_any_error(planted_root: Path, crash_dir: Path, scenario: Setup) -> None:
    env = {
        "VAULT_TOKEN": VAULT_TOKEN,
        "GITLAB_TOKEN": GITLAB_TOKEN,
        "VAULT_ADDR": "http://127.0.0.1:9",
        "VAULT_CLIENT_TIMEOUT": "3",
    }
    args = scenario(planted_root, env)
    run = run_cli(*args, "-C", str(planted_root), env=env, tmpdir=crash_dir, timeout=60)
    assert run.code in (1, 2), run.text  # every path ends in an error, none in a crash
    assert "error" in run.text or run.code == 1
    assert_nothing_planted(run.text + "".join(run.crash_logs))


def test_wrong_shaped_vault_answers_leak_nothing(
    planted_root: Path, crash_dir: Path, fake_vault: Callable[..., str]
) -> None:
    _secrets(planted_root, SECRETS.replace("    API_KEY: {2}\n", ""))
    for path, answer in (
        ("/v1/sys/mounts", {"data": None}),
        ("/v1/auth/token/lookup-self", {"data": VAULT_TOKEN}),
    ):
        addr = fake_vault({path: answer})
        env = {"VAULT_ADDR": addr, "VAULT_TOKEN": VAULT_TOKEN, "GITLAB_TOKEN": GITLAB_TOKEN}
        run = run_cli("vault", "provision", "--dry-run", "-C", str(planted_root), env=env, tmpdir=crash_dir)
        assert run.code == 2, run.text
        assert_nothing_planted(run.text + "".join(run.crash_logs))
    drip = fake_vault({"/v1/sys/mounts": HEALTHY["/v1/sys/mounts"]}, 0.5)
    env = {"VAULT_ADDR": drip, "VAULT_TOKEN": VAULT_TOKEN, "VAULT_CLIENT_TIMEOUT": "2"}
    run = run_cli("vault", "provision", "--dry-run", "-C", str(planted_root), env=env, tmpdir=crash_dir)
    assert run.code == 2, run.text
    assert_nothing_planted(run.text)


def test_a_crash_log_holds_no_planted_secret(planted_root: Path, crash_dir: Path) -> None:
    """An internal error whose message carries the tokens: the crash log has the traceback, not them."""
    code = (
        "import sys, gitops_poc.generate.init_plan as plan\n"
        "def boom(*a, **k):\n"
        "    raise RuntimeError("
        f"'boom ' + {VAULT_TOKEN!r} + ' ' + {DEPLOY_TOKEN!r} + ' ' + {GITLAB_TOKEN!r})\n"
        "plan.plan_init = boom\n"
        "import gitops_poc.cli.init as init; init.plan_init = boom\n"
        "from gitops_poc.cli import main; sys.exit(main(sys.argv[1:]))\n"
    )
    crash_dir.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", code, "init", "--dry-run", "-C", str(planted_root)],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "VAULT_TOKEN": VAULT_TOKEN,
            "GITLAB_TOKEN": GITLAB_TOKEN,
            "TMPDIR": str(crash_dir),
        },
        timeout=60,
        check=False,
    )
    logs = [p.read_text() for p in crash_dir.glob("gitops-poc-crash-*")]
    assert result.returncode == 3 and len(logs) == 1, result.stderr
    assert "RuntimeError" in logs[0] and "boom" in logs[0]
    assert_nothing_planted(result.stdout + result.stderr + logs[0])


def _two_line_token_file(root: Path) -> Path:
    path = root.parent / "token"
    path.write_text("\n".join(TOKEN_FILE_LINES) + "\n")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ("gitlab", "check", "--url", "http://127.0.0.1:9"),
        ("gitlab", "bootstrap", "--dry-run", "--url", "http://127.0.0.1:9"),
        ("publish", "--dry-run", "--remote-base", "http://127.0.0.1:9"),
        ("vault", "check"),
        ("vault", "provision", "--dry-run"),
        ("setup", "push", "--dry-run"),
    ],
    ids=" ".join,
)
def test_a_token_file_of_two_lines_shows_neither_line(
    planted_root: Path, crash_dir: Path, command: tuple[str, ...]
) -> None:
    """Whatever the command makes of it (an error, or a crash whose log holds the traceback), neither line of
    the file reaches stdout, stderr or the crash log."""
    token_file = _two_line_token_file(planted_root)
    env = {"VAULT_ADDR": "http://127.0.0.1:9", "VAULT_CLIENT_TIMEOUT": "3", "GITOPS_POC_HTTP_DEADLINE": "3"}
    run = run_cli(
        *command,
        "--token-file",
        str(token_file),
        "-C",
        str(planted_root),
        env=env,
        tmpdir=crash_dir,
        timeout=60,
    )
    assert_nothing_planted(run.text + "".join(run.crash_logs))


def test_a_child_process_naming_a_url_password_shows_it_masked(
    planted_root: Path, crash_dir: Path, helm: str
) -> None:
    """helm repeats the chart repository URL, password included, in its own error (render shows it)."""
    env = {"CHART_REPO": f"http://reader:{URL_PASSWORD}@127.0.0.1:9/charts"}
    run = run_cli(
        "render", "api-gateway", "dev", "-C", str(planted_root), env=env, tmpdir=crash_dir, timeout=120
    )
    assert "reader:***@127.0.0.1:9" in run.text
    assert_nothing_planted(run.text + "".join(run.crash_logs))


def test_publish_pushes_no_planted_secret_from_a_look_alike_file(planted_root: Path, crash_dir: Path) -> None:
    """Every planted value, in files named like the credentials files in several spellings (the one list,
    secretnames), beside the generated files of a repository: the remote holds none of them."""
    from gitops_poc.secretnames import is_credential_name

    service = planted_root / "services" / "api-gateway"
    names = (
        ".env.local",
        ".ENV",
        ".env~",
        "prod.env",
        ".secrets.yaml.orig",
        "secrets.yml",
        ".vault-keys.json.bak",
    )
    for name in names:
        assert is_credential_name(name)
        (service / name).write_text("".join(f"KEY{i}={value}\n" for i, value in enumerate(PLANTED)))
    remotes = planted_root.parent / "remotes"
    run = run_cli(
        "publish", "--remote-base", str(remotes), "-C", str(planted_root), tmpdir=crash_dir, timeout=120
    )
    assert run.code == 0, run.text
    objects = subprocess.run(
        [
            "git",
            f"--git-dir={remotes / 'gitops-poc' / 'api-gateway.git'}",
            "cat-file",
            "--batch-all-objects",
            "--batch",
        ],
        capture_output=True,
        check=True,
    ).stdout.decode(errors="replace")
    assert "api-gateway/.cicd/dev.yaml" not in objects and "image:" in objects  # the real files went
    assert_nothing_planted(objects + run.text)
