"""The Dockerfile's rules (docker cannot build here), and its entrypoint run as the image would run it."""

from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import pytest
import setuptools
from auth_adapter_fixtures import CONFIG
from grpc_health.v1 import health_pb2, health_pb2_grpc
from test_auth_adapter_command import free_port

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    return [
        (w.upper(), rest.strip()) for w, _, rest in (s.partition(" ") for s in lines if s and s[0] != "#")
    ]


def test_pinned_bases_a_numeric_non_root_user_and_the_shared_library_as_a_named_context() -> None:
    steps = instructions()
    images = [rest.split()[0] for word, rest in steps if word == "FROM"]
    assert images and all(
        re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?", i) for i in images
    )
    # The build stage compiles auth_adapter._jws: a full image (with gcc), not a slim or alpine one.
    (build,) = [rest.split()[0] for word, rest in steps if word == "FROM" and rest.endswith(" AS build")]
    assert "slim" not in build and "alpine" not in build
    user = [rest for word, rest in steps if word == "USER"][-1].split(":")[0]
    assert user.isdigit() and int(user) != 0
    contexts = {rest.split()[0] for word, rest in steps if word == "COPY" and rest.startswith("--from=")}
    assert contexts == {"--from=build"}  # the build stage; the shared libraries come from vendor/
    assert not [rest for word, rest in steps if word == "CMD"]


def test_the_build_stage_copies_every_file_the_extension_is_built_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The service's files as the build stage's COPY instructions lay them out (vendor/ aside); setup.py
    # there names auth_adapter._jws and its sources, and they are all there. (An image built without
    # setup.py would have installed without the extension; its RUN import check now fails such a build.)
    here = DOCKERFILE.parent
    for word, rest in instructions():
        if word != "COPY" or rest.startswith("--"):
            continue
        *sources, destination = rest.split()
        if not destination.startswith("/src/auth-adapter"):
            continue
        target = tmp_path / destination.lstrip("/")
        for source in sources:
            if (here / source).is_dir():  # a folder's contents, as COPY copies them
                shutil.copytree(here / source, target, ignore=shutil.ignore_patterns("*.so", "*.egg-info"))
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(here / source, target / source)
    built = tmp_path / "src" / "auth-adapter"
    assert (built / "setup.py").is_file(), "the build stage does not copy setup.py"
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(setuptools, "setup", lambda **kwargs: calls.append(kwargs))
    monkeypatch.chdir(built)
    runpy.run_path("setup.py")
    (extension,) = calls[0]["ext_modules"]
    assert extension.name == "auth_adapter._jws"
    assert extension.sources and all((built / source).is_file() for source in extension.sources)
    assert 'RUN /opt/venv/bin/python -c "import auth_adapter._jws"' in DOCKERFILE.read_text()


def test_the_entrypoint_serves_with_the_mounted_config(tmp_path: Path) -> None:
    (entry,) = [json.loads(rest) for word, rest in instructions() if word == "ENTRYPOINT"]
    assert entry == ["/opt/venv/bin/auth-adapter"]  # exec form: a JSON list
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    port = free_port()
    command = [str(Path(sys.executable).parent / Path(entry[0]).name), "--host", "127.0.0.1"]
    env = {**os.environ, "CONFIG_FILE": str(config), "PORT": str(port), "JWT_SECRET": "x" * 32}
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=20)
            response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING
        process.terminate()
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.communicate()
