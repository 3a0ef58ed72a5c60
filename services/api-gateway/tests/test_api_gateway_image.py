"""The Dockerfile's rules (docker cannot build here), and its entrypoint run as the image would run it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from test_api_gateway_bootstrap import platform_config_text
from test_api_gateway_command import stand_in_envoy

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"
PINNED = re.compile(r"[\w./-]+:v?\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?")


def instructions() -> list[tuple[str, str]]:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    return [
        (w.upper(), rest.strip()) for w, _, rest in (s.partition(" ") for s in lines if s and s[0] != "#")
    ]


def test_envoy_and_python_are_pinned_and_the_image_runs_as_a_numeric_non_root_user() -> None:
    steps = instructions()
    images = [rest.split()[0] for word, rest in steps if word == "FROM"]
    assert images[0] == "envoyproxy/envoy:v1.32.2" and all(PINNED.fullmatch(i) for i in images), images
    copies = [rest for word, rest in steps if word == "COPY"]
    assert "--from=envoy /usr/local/bin/envoy /usr/local/bin/envoy" in copies
    assert any(c.startswith("--from=gateway-config ") for c in copies)
    user = [rest for word, rest in steps if word == "USER"][-1].split(":")[0]
    assert user.isdigit() and int(user) != 0
    assert [rest for word, rest in steps if word == "EXPOSE"] == ["8080 8001"]  # never the admin port


def test_the_entrypoint_generates_the_bootstrap_and_execs_envoy(tmp_path: Path) -> None:
    (entry,) = [json.loads(rest) for word, rest in instructions() if word == "ENTRYPOINT"]  # exec form
    assert entry == ["/opt/venv/bin/api-gateway"]
    config = tmp_path / "config.yaml"
    config.write_text(platform_config_text())
    stand_in_envoy(tmp_path)
    out = tmp_path / "run" / "envoy.yaml"
    env = {
        **os.environ,
        "CONFIG_FILE": str(config),
        "ENVOY_CONFIG": str(out),
        "AUTH_ADAPTER_HOST": "auth-adapter-sv",
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
    }
    process = subprocess.Popen([str(Path(sys.executable).parent / Path(entry[0]).name)], env=env)
    assert process.wait(timeout=60) == 0
    started = json.loads((tmp_path / "envoy-started.json").read_text())
    assert started["pid"] == process.pid and started["argv"][:2] == ["-c", str(out)]
    assert "web_grpc_listener" in out.read_text()
