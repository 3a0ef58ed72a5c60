"""The Dockerfile's rules (docker cannot build here), and its entrypoint run as the image would run it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from test_health_demo_server import free_port

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(word.upper(), rest.strip()) for word, _, rest in (line.partition(" ") for line in lines)]


def test_every_base_is_pinned_and_the_image_runs_as_a_numeric_non_root_user() -> None:
    steps = instructions()
    stages = [rest.split()[0] for word, rest in steps if word == "FROM"]
    assert len(stages) == 2
    for image in stages:
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?", image), image
    contexts = {rest.split()[0] for word, rest in steps if word == "COPY" and rest.startswith("--from=")}
    assert contexts == {"--from=build"}  # the build stage; the shared library comes from vendor/
    users = [rest for word, rest in steps if word == "USER"]
    assert users and users[-1].split(":")[0].isdigit() and users[-1].split(":")[0] != "0"


def exec_form(word: str) -> list[str]:
    values = [rest for w, rest in instructions() if w == word]
    assert len(values) == 1, f"one {word} expected"
    parsed = json.loads(values[0])  # shell form would not parse as JSON
    assert isinstance(parsed, list) and all(isinstance(p, str) for p in parsed)
    return parsed


def test_the_entrypoint_serves_health_when_run_as_the_image_runs_it() -> None:
    entrypoint, cmd = exec_form("ENTRYPOINT"), exec_form("CMD")
    assert entrypoint == ["/opt/venv/bin/health-demo"] and cmd == ["-port=8081"]
    # The image's venv is this one; the chart's `args` replace CMD with the same flag on another port.
    command = [
        str(Path(sys.executable).parent / Path(entrypoint[0]).name),
        f"-port={free_port()}",
        "--host",
        "127.0.0.1",
    ]
    port = int(command[1].split("=")[1])
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, env={**os.environ, "SHUTDOWN_DRAIN": "0.1"}
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=15)
            response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING
        process.terminate()
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
        process.communicate()
