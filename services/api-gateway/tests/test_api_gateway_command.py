"""The generator and the image's entrypoint as commands: errors, atomic idempotent writes, exec of Envoy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_api_gateway_bootstrap import SMALL, platform_config_text

BIN = Path(sys.executable).parent


def run(command: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / command), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(platform_config_text())
    return path


def test_generate_writes_once_then_reports_unchanged_and_check_agrees(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "etc" / "envoy.yaml"
    first = run("api-gateway-config", "--config", str(config), "--output", str(out))
    assert first.returncode == 0 and first.stderr.strip() == f"wrote {out}"
    mtime = out.stat().st_mtime_ns
    second = run("api-gateway-config", "--config", str(config), "--output", str(out))
    assert second.stderr.strip() == f"unchanged {out}" and out.stat().st_mtime_ns == mtime
    assert run("api-gateway-config", "--check", "--config", str(config), "--output", str(out)).returncode == 0
    config.write_text(SMALL)
    stale = run("api-gateway-config", "--check", "--config", str(config), "--output", str(out))
    assert stale.returncode == 1 and "not up to date" in stale.stderr
    assert [p.name for p in out.parent.iterdir()] == ["envoy.yaml"]  # no temporary file left behind


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("apis: [{name: S}]\n", {}, "clusters: required"),
        ("clusters: [{name: c, addr: 'c:1'}]\napis: [{name: S}]\n", {}, "apis[0].cluster: required"),
        (
            "clusters: [{name: envoy_admin, addr: 'c:1'}]\napis: [{name: S, cluster: envoy_admin}]\n",
            {},
            "clusters[0].name: 'envoy_admin' is reserved",
        ),
        (
            "clusters: [{name: c, addr: c}]\napis: [{name: S, cluster: c}]\n",
            {},
            "clusters[0].addr: expected host:port",
        ),
        (None, {"OPEN_TELEMETRY_PORT": "otel"}, "environment: OPEN_TELEMETRY_PORT: expected a port"),
        (None, {"OPEN_TELEMETRY_PORT": "٤٣١٨"}, "environment: OPEN_TELEMETRY_PORT: expected a port"),
        (None, {"OPEN_TELEMETRY_PORT": "²"}, "environment: OPEN_TELEMETRY_PORT: expected a port"),
        (
            None,
            {"OPEN_TELEMETRY_ENABLE": "maybe"},
            "environment: OPEN_TELEMETRY_ENABLE: expected true or false",
        ),
    ],
)
def test_bad_input_exits_2_naming_the_place_and_writes_nothing(
    config: Path, tmp_path: Path, text: str | None, env: dict[str, str], message: str
) -> None:
    if text is not None:
        config.write_text(text)
    out = tmp_path / "envoy.yaml"
    result = run("api-gateway-config", "--config", str(config), "--output", str(out), env=env)
    assert result.returncode == 2
    assert message in result.stderr
    if text is not None:
        assert f"{config}: " in result.stderr
    assert not out.exists()


def stand_in_envoy(tmp_path: Path) -> Path:
    """No Envoy binary runs here; this records how it was started (its PID and argv) and exits."""
    script = tmp_path / "envoy"
    record = tmp_path / "envoy-started.json"
    script.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        f"json.dump({{'pid': os.getpid(), 'argv': sys.argv[1:]}}, open({str(record)!r}, 'w'))\n"
    )
    script.chmod(0o755)
    return script


def test_the_entrypoint_generates_then_execs_envoy_in_the_same_process(config: Path, tmp_path: Path) -> None:
    envoy = stand_in_envoy(tmp_path)
    out = tmp_path / "envoy.yaml"
    env = {**os.environ, "CONFIG_FILE": str(config), "ENVOY_CONFIG": str(out), "LOG_LEVEL": "warn",
           "PATH": f"{tmp_path}:{os.environ['PATH']}"}  # fmt: skip
    process = subprocess.Popen(
        [str(BIN / "api-gateway"), "--", "--drain-time-s", "5"], env=env, stderr=subprocess.PIPE
    )
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    started = json.loads((tmp_path / "envoy-started.json").read_text())
    assert started["pid"] == process.pid  # exec'd: Envoy is the process the container runtime signals
    assert started["argv"] == ["-c", str(out), "-l", "warn", "--drain-time-s", "5"]
    assert out.is_file() and envoy.exists()


def test_the_entrypoint_does_not_start_envoy_on_a_bad_config(config: Path, tmp_path: Path) -> None:
    stand_in_envoy(tmp_path)
    config.write_text("apis: []\n")
    env = {
        "CONFIG_FILE": str(config),
        "ENVOY_CONFIG": str(tmp_path / "envoy.yaml"),
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
    }
    result = run("api-gateway", env=env)
    assert result.returncode == 2 and "apis: required" in result.stderr
    assert not (tmp_path / "envoy-started.json").exists()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory", "not-utf8", "too-big"])
def test_a_config_that_is_not_a_small_regular_utf8_file_is_exit_2_naming_it(
    tmp_path: Path, kind: str
) -> None:
    config = tmp_path / "config.yaml"
    if kind == "fifo":
        os.mkfifo(config)  # nobody writes: reading it would block for ever
    elif kind == "dev-zero":
        config = Path("/dev/zero")  # reading it would never end
    elif kind == "directory":
        config.mkdir()
    elif kind == "not-utf8":
        config.write_bytes(platform_config_text().encode() + b"# caf\xe9\n")
    else:
        config.write_text(platform_config_text() + "#" * (1024 * 1024) + "\n")
    out = tmp_path / "envoy.yaml"
    result = run("api-gateway-config", "--config", str(config), "--output", str(out))
    reason = {
        "fifo": "not a regular file",
        "dev-zero": "not a regular file",
        "directory": "not a regular file",
        "not-utf8": "not UTF-8 text (byte",
        "too-big": "larger than 1048576 bytes",
    }[kind]
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"api-gateway: error: {config}: cannot read: {reason}") or (
        kind == "not-utf8" and result.stderr.startswith(f"api-gateway: error: {config}: {reason}")
    ), result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


@pytest.mark.parametrize("kind", ["dev-full", "dev-null", "fifo", "directory", "symlink"])
def test_an_output_that_is_not_a_regular_file_is_refused_and_left_alone(
    config: Path, tmp_path: Path, kind: str
) -> None:
    target = tmp_path / "envoy.yaml"
    if kind == "dev-full":
        target = Path("/dev/full")
    elif kind == "dev-null":
        target = Path("/dev/null")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    else:
        (tmp_path / "elsewhere.yaml").write_text("kept\n")
        target.symlink_to(tmp_path / "elsewhere.yaml")
    before = os.lstat(target)
    for extra in ((), ("--check",)):
        result = run("api-gateway-config", *extra, "--config", str(config), "--output", str(target))
        assert result.returncode == 2, result.stderr
        assert f"--output {target}: not a regular file" in result.stderr
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)
    if kind == "symlink":
        assert (tmp_path / "elsewhere.yaml").read_text() == "kept\n"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".envoy.yaml.")]
    assert leftovers == []


def test_a_write_that_fails_half_way_is_exit_2_and_the_old_bootstrap_stays(
    config: Path, tmp_path: Path
) -> None:
    """A full disk, as the kernel reports it: the file size limit makes write(2) fail (EFBIG) part way."""
    out = tmp_path / "envoy.yaml"
    out.write_text("old bootstrap\n")

    # Not preexec_fn: Python in a forked child of a worker that has used grpc can abort there (grpc's fork
    # handlers); a small program sets the limit and execs the command instead.
    limit = (
        "import os, resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "os.execv(sys.argv[1], sys.argv[1:])\n"
    )
    command = [str(BIN / "api-gateway-config"), "--config", str(config), "--output", str(out)]
    argv = [sys.executable, "-c", limit, *command]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"api-gateway: error: cannot write {out}: File too large")
    assert out.read_text() == "old bootstrap\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml", "envoy.yaml"]  # no temporary file
