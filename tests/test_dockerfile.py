"""The tool image's Dockerfile (no Docker engine runs here, so it is checked as text): pinned slim bases,
non-root user, exec-form entrypoint, helm and git inside, and a build context that has what it copies."""

from __future__ import annotations

import json
import re

from tests.conftest import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_bases_are_pinned_slim_releases() -> None:
    bases = [rest.split()[0] for keyword, rest in instructions() if keyword == "FROM"]
    assert bases and all(
        re.fullmatch(r"[a-z0-9./-]+:\d+\.\d+\.\d+-(slim-[a-z]+|[a-z]+-slim)(@sha256:[a-f0-9]{64})?", b)
        for b in bases
    )
    assert bases[-1].startswith("python:3.11.")


def test_runs_as_a_non_root_user_with_an_exec_form_entrypoint() -> None:
    steps = instructions()
    users = [rest for keyword, rest in steps if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    entrypoint = [rest for keyword, rest in steps if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint[-1]) == ["gitops-poc"]  # JSON (exec) form: signals reach the process


def test_helm_git_and_the_package_are_installed() -> None:
    text = DOCKERFILE.read_text()
    assert "/usr/local/bin/helm" in text and "install-tools.sh helm" in text
    assert re.search(r"apt-get install .*\bgit\b", text)
    assert "pip install --no-cache-dir /tmp/gitops-poc" in text


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    allowed = [
        line[1:].rstrip("/")
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    for keyword, rest in instructions():
        if keyword == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert (REPO_ROOT / source).exists(), source
                assert any(source == a or source.startswith(a + "/") for a in allowed), source
