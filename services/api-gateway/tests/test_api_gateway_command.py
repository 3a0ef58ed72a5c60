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
