"""Validation that let bad values through (#17 class 4): each kind of value is checked at the one boundary it
enters by, and the real command line refuses it with one `error:` line naming it, exit 2, nothing written.

Real git and local bare remotes throughout (tests/delivery's service remote).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitops_poc.argocd.preview import ImageReader, default_file, read_applications
from gitops_poc.config import ConfigError, environments_of
from gitops_poc.delivery.target import pipeline_number
from gitops_poc.delivery.values import read_image
from gitops_poc.digits import natural
from gitops_poc.errors import UsageError
from gitops_poc.vault.provision_plan import parse_duration
from tests.clirun import Run, run_cli
from tests.delivery.conftest import ServiceRemote, service_remote
from tests.delivery.conftest import git as dgit
from tests.hostile.conftest import platform_root

__all__ = ["platform_root", "service_remote"]  # the fixtures, used by name

# Digits of other scripts and forms: str.isdigit() takes every one of them, int() all but the superscript.
NOT_ASCII = ["٤٢", "４２", "४२", "²", "𝟒𝟐"]
NOT_PLAIN = ["1_000", " 42", "42\n", "+42", "-1", "4 2", ""]


def ci(remote: ServiceRemote, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    return run_cli("ci", *args, "-C", str(remote.clone), "--push", env=env, tmpdir=tmp_path / "crash")


# --- numbers: ASCII digits only ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", NOT_ASCII + NOT_PLAIN)
def test_only_ascii_digits_make_a_number(text: str) -> None:
    assert natural(text) is None
    with pytest.raises(UsageError, match="pipeline number"):
        pipeline_number(text or " ")


@pytest.mark.parametrize("iid", ["٤٢", "²", "4_2"])
def test_a_merge_request_number_in_other_digits_is_no_merge_request(iid: str) -> None:
    from gitops_poc.review.post import target_from

    environ = {
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_PROJECT_ID": "7",
        "CI_MERGE_REQUEST_IID": iid,
    }
    with pytest.raises(UsageError, match="merge-request pipeline"):
        target_from(environ)
    assert target_from({**environ, "CI_MERGE_REQUEST_IID": "42"}).merge_request == 42


def test_ascii_digits_make_the_number_they_spell() -> None:
    assert natural("0042") == 42 and pipeline_number("7") == 7 and pipeline_number(None) is None


@pytest.mark.parametrize("text", ["٤٢", "²", "1_000s", "١h"])
def test_a_duration_in_other_digits_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="not a duration"):
        parse_duration(text)


def test_a_pipeline_record_in_other_digits_is_no_record() -> None:
    text = 'image:\n  repository: r.example.com/a/b\n  tag: "1.0.0" # gitops-poc: pipeline ٤٢\n'
    assert read_image(text, "dev.yaml").pipeline is None
    assert read_image(text.replace("٤٢", "42"), "dev.yaml").pipeline == 42


@pytest.mark.parametrize("pipeline", ["٤٢", "²", "４２"])
def test_bump_with_a_pipeline_number_in_other_digits_is_exit_2_and_pushes_nothing(
    service_remote: ServiceRemote, tmp_path: Path, pipeline: str
) -> None:
    head = service_remote.head()
    run = ci(
        service_remote, tmp_path, "bump", "--env", "dev", "--tag", "1.2.3", env={"CI_PIPELINE_IID": pipeline}
    )
    run.one_error(2, "--pipeline", repr(pipeline))
    assert service_remote.head() == head


# --- environments: only those of ENVIRONMENTS ---------------------------------------------------------------


def add_values_file(remote: ServiceRemote, env: str) -> None:
    """A values file for an environment the platform does not have (left from a removed one)."""
    text = (remote.clone / ".cicd" / "dev.yaml").read_text()
    (remote.clone / ".cicd" / f"{env}.yaml").write_text(text)
    dgit(remote.clone, "add", ".cicd")
    dgit(remote.clone, "commit", "-qm", f"values for {env}")
    dgit(remote.clone, "push", "-q", "origin", "HEAD:main")


@pytest.mark.parametrize(
    "command",
    [
        ["bump", "--env", "qa", "--tag", "1.2.3"],
        ["pin", "--env", "qa", "--reason", "freeze"],
        ["unpin", "--env", "qa"],
        ["promote", "--from", "dev", "--to", "qa", "--allow-skip"],
        ["promote", "--from", "qa", "--to", "prod", "--allow-skip"],
    ],
    ids=["bump", "pin", "unpin", "promote-to", "promote-from"],
)
@pytest.mark.parametrize("environments", [None, "dev staging prod"], ids=["default", "ENVIRONMENTS"])
def test_an_environment_outside_environments_is_exit_2_even_with_its_values_file(
    service_remote: ServiceRemote, tmp_path: Path, command: list[str], environments: str | None
) -> None:
    add_values_file(service_remote, "qa")
    head = service_remote.head()
    run = ci(service_remote, tmp_path, *command, env={"ENVIRONMENTS": environments} if environments else None)
    run.one_error(2, "unknown environment 'qa'", "dev staging prod")
    assert service_remote.head() == head


def test_an_environment_of_environments_is_written(service_remote: ServiceRemote, tmp_path: Path) -> None:
    add_values_file(service_remote, "qa")
    run = ci(
        service_remote, tmp_path, "bump", "--env", "qa", "--tag", "1.2.3", env={"ENVIRONMENTS": "dev qa prod"}
    )
    assert run.code == 0, run.text
    assert 'tag: "1.2.3"' in service_remote.remote_file(".cicd/qa.yaml")


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "empty"),
        ("dev Prod", "not a valid Kubernetes name"),
        ("dev dev", "twice"),
        ("default", "reserved"),
    ],
)
def test_an_environments_list_is_checked_as_the_env_file_checks_it(raw: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why) as caught:
        environments_of(raw)
    assert "ENVIRONMENTS" in str(caught.value)


def test_a_bad_environments_variable_is_exit_2_naming_it(
    service_remote: ServiceRemote, tmp_path: Path
) -> None:
    run = ci(
        service_remote, tmp_path, "bump", "--env", "dev", "--tag", "1.2.3", env={"ENVIRONMENTS": "dev QA"}
    )
    run.one_error(2, "ENVIRONMENTS", "'QA'")


# --- revisions: exactly one commit -----------------------------------------------------------------------


@pytest.mark.parametrize("base", ["^HEAD", "HEAD..HEAD", "HEAD^@", "HEAD^{tree}"])
def test_plan_against_a_base_that_is_not_one_commit_is_exit_2_not_a_pass_of_the_guard(
    platform_root: Path, tmp_path: Path, base: str
) -> None:
    run = run_cli(
        "plan", "-C", str(platform_root), "--base", base, "--max-deletions", "0", tmpdir=tmp_path / "c"
    )
    run.one_error(2, repr(base), "exactly one commit")
    assert "to delete" not in run.text
    assert run_cli("plan", "-C", str(platform_root), "--base", "HEAD", "--max-deletions", "0").code == 0


# --- images: one parser (imageref) for every image, registry and tag ---------------------------------------


@pytest.mark.parametrize(
    "repository", ["MyOrg/app", "registry.example.com/Team/app", "registry.example.com:99999/app", "r.io:0/a"]
)
def test_bump_and_deploy_refuse_a_repository_the_grammar_refuses(
    service_remote: ServiceRemote, tmp_path: Path, repository: str
) -> None:
    head = service_remote.head()
    run = ci(service_remote, tmp_path, "bump", "--env", "dev", "--tag", "1.2.3", "--repository", repository)
    run.one_error(2, "--repository", repr(repository))
    assert service_remote.head() == head
    deploy = ["deploy", "-C", str(service_remote.clone), "--env", "dev", "--service", "api-gateway"]
    run = run_cli(
        "ci", *deploy, "--dry-run", "--tag", "1.2", "--repository", repository, tmpdir=tmp_path / "c"
    )
    run.one_error(2, "--repository", repr(repository))


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("DOCKER_REGISTRY", "registry.example.com:99999", "port '99999'"),
        ("DOCKER_REGISTRY", "registry.example.com/Team", "'Team' is not a path part"),
        ("GITLAB_HOST", "gitlab.example.com:65536", "from 1 to 65535"),
        ("CI_TOOL_IMAGE", "registry.example.com:70000/g/gitops-poc:1.0", "port '70000'"),
        ("CI_TOOL_IMAGE", "Registry/gitops-poc:1.0", "'Registry' is not a path part"),
        ("GITLAB_GROUP", "a..b", "image repository"),
    ],
)
def test_a_registry_or_image_in_the_env_file_is_checked_by_the_same_grammar(
    platform_root: Path, tmp_path: Path, key: str, value: str, why: str
) -> None:
    (platform_root / ".env").write_text(f"{key}={value}\n")
    run = run_cli("init", "--check", "-C", str(platform_root), tmpdir=tmp_path / "crash")
    run.one_error(2, f".env:1: {key}={value!r}", why)


def test_build_images_refuses_a_tag_the_grammar_refuses(platform_root: Path, tmp_path: Path) -> None:
    run = run_cli("build-images", "-C", str(platform_root), "--dry-run", "--tag", "-x", tmpdir=tmp_path / "c")
    run.one_error(2, "--tag '-x'")


def test_lint_reports_a_boolean_tag_as_an_error_at_its_line(platform_root: Path, tmp_path: Path) -> None:
    values = platform_root / "services" / "health-demo" / ".cicd" / "dev.yaml"
    lines = values.read_text().splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.strip().startswith("tag:"))
    lines[number - 1] = "  tag: yes"
    values.write_text("\n".join(lines) + "\n")
    run = run_cli("lint", "-C", str(platform_root), tmpdir=tmp_path / "crash")
    assert run.code == 1, run.text
    assert f"services/health-demo/.cicd/dev.yaml:{number}" in run.out
    assert "text-key-not-text" in run.out and "image.tag is the boolean true" in run.out


# --- .env values: one line each, a bounded line -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "env", "needles"),
    [
        (
            'SERVICES="api-gateway\nhealth-demo"\n',
            {},
            [".env:1: SERVICES='api-gateway\\nhealth-demo'", "line break"],
        ),
        (
            'GITLAB_DEPLOY_TOKEN_USER="bot\\nx"\n',
            {},
            [".env:1: GITLAB_DEPLOY_TOKEN_USER='bot\\nx'", "line break"],
        ),
        ("", {"ENVIRONMENTS": "dev\nprod"}, ["environment variable ENVIRONMENTS", "line break"]),
        (
            'GITLAB_DEPLOY_TOKEN="glpat-secret\nsecond"\n',
            {},
            [".env:1: GITLAB_DEPLOY_TOKEN='***'", "line break"],
        ),
        (
            "GITLAB_GROUP=a" + " " * 10_000_000 + "b\n",
            {},
            [".env: larger than 1048576 bytes"],  # the whole file's cap, before any line is looked at
        ),
        ("GITLAB_GROUP=a" + " " * 60_000 + "b\n", {}, [".env:1:", "60000 blanks in a row", "at most 64"]),
        ("GITLAB_GROUP=" + "g" * 300_000 + "\n", {}, [".env:1:", "300013 characters", "at most 262144"]),
    ],
    ids=[
        "quoted-two-lines",
        "escaped-newline",
        "environment",
        "token-hidden",
        "10MB-line",
        "blank-run",
        "long-line",
    ],
)
def test_a_value_over_two_lines_or_too_long_is_exit_2_at_once(
    platform_root: Path, tmp_path: Path, text: str, env: dict[str, str], needles: list[str]
) -> None:
    if text:
        (platform_root / ".env").write_text(text)
    # 10 MB of blanks took python-dotenv 93 s; the line cap refuses it before the parser runs.
    run = run_cli("init", "--check", "-C", str(platform_root), env=env, timeout=20, tmpdir=tmp_path / "crash")
    run.one_error(2, *needles)
    assert "glpat-secret" not in run.text and "second" not in run.text


# --- services/<svc>: a folder, never a file taken for "no service here" -------------------------------------


@pytest.mark.parametrize("kind", ["file", "link to a file", "dangling link"])
def test_a_service_path_that_is_a_file_is_exit_2_for_plan_and_render_and_a_finding_for_lint(
    platform_root: Path, tmp_path: Path, kind: str
) -> None:
    service = platform_root / "services" / "health-demo"
    subprocess.run(["rm", "-rf", str(service)], check=True)
    if kind == "file":
        service.write_text("not a folder\n")
    else:
        target = tmp_path / "elsewhere.txt"
        if kind == "link to a file":
            target.write_text("x\n")
        service.symlink_to(target)
    run = run_cli("plan", "-C", str(platform_root), tmpdir=tmp_path / "crash")
    run.one_error(2, "services/health-demo", "is a file, not the folder of service health-demo")
    run = run_cli("render", "-C", str(platform_root), "health-demo", "dev", tmpdir=tmp_path / "crash")
    run.one_error(2, "services/health-demo", "is not a folder")
    run = run_cli("lint", "-C", str(platform_root), tmpdir=tmp_path / "crash")
    # lint reads the service's pipeline file through it (exit 2) or reports the service (exit 1): never a pass
    assert run.code in (1, 2) and "services/health-demo" in run.text and "is a file" in run.text, run.text


def test_a_service_path_that_was_a_file_at_the_base_revision_is_exit_2(
    platform_root: Path, tmp_path: Path
) -> None:
    service = platform_root / "services" / "health-demo"
    subprocess.run(["git", "-C", str(platform_root), "rm", "-rq", str(service)], check=True)
    service.write_text("not a folder\n")
    subprocess.run(["git", "-C", str(platform_root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(platform_root), "commit", "-qm", "file"], check=True)
    base = subprocess.run(
        ["git", "-C", str(platform_root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run(
        ["git", "-C", str(platform_root), "revert", "--no-edit", "HEAD"], capture_output=True, check=True
    )
    # what `plan --base` reads for a deleted Application's image
    file = default_file(platform_root)
    app = next(a for a in read_applications(file) if a.service == "health-demo")
    reader = ImageReader(platform_root, base, file)
    try:
        with pytest.raises(UsageError, match=f"health-demo at {base} is a file, not the folder"):
            reader.image(app)
    finally:
        reader.close()
    head = ImageReader(platform_root, "HEAD", file)
    try:
        assert head.image(app).endswith(":0.1.0")  # the folder restored: its image again
    finally:
        head.close()
