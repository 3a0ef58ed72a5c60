"""A service repository with a real bare remote, seeded with the generated values files of api-gateway."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SEED = REPO_ROOT / "services" / "api-gateway" / ".cicd"
ENVIRONMENTS = ("dev", "staging", "prod")


def git(cwd: Path, *args: str, input: str | None = None) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True, input=input
    ).stdout


@dataclass
class ServiceRemote:
    bare: Path
    clone: Path
    tmp: Path

    def new_clone(self, name: str) -> Path:
        path = self.tmp / name
        subprocess.run(["git", "clone", "-q", str(self.bare), str(path)], check=True, capture_output=True)
        return path

    def remote_file(self, path: str, ref: str = "main") -> str:
        return git(self.bare, "show", f"{ref}:{path}")

    def log(self, ref: str = "main") -> list[str]:
        return git(self.bare, "log", "--format=%H %s", ref).splitlines()

    def head(self) -> str:
        return git(self.bare, "rev-parse", "main").strip()


def make_service_remote(tmp: Path) -> ServiceRemote:
    bare = tmp / "api-gateway.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    git(bare, "config", "core.logAllRefUpdates", "true")  # the reflog proves there was no forced update
    seed = tmp / "seed"
    subprocess.run(["git", "init", "-q", "-b", "main", str(seed)], check=True)
    (seed / ".cicd").mkdir()
    for name in ("default", *ENVIRONMENTS):
        (seed / ".cicd" / f"{name}.yaml").write_text((SEED / f"{name}.yaml").read_text())
    git(seed, "add", ".")
    git(seed, "commit", "-q", "-m", "initial values")
    git(seed, "push", "-q", str(bare), "main")
    remote = ServiceRemote(bare, tmp / "clone", tmp)
    remote.new_clone("clone")
    return remote


@pytest.fixture
def service_remote(tmp_path: Path) -> ServiceRemote:
    return make_service_remote(tmp_path)
