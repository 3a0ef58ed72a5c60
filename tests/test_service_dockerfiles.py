"""Every service Dockerfile builds with a plain `docker build .` from its own folder, as the generated CI job
and `build-images` run it (no Docker engine here, so checked as text): each COPY/ADD source lies inside the
folder and survives .dockerignore, `--from` names only the file's own stages (no `--build-context`), and the
libraries the image installs from vendor/ are the ones the package depends on."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCKERFILES = sorted(REPO_ROOT.glob("services/*/Dockerfile"))


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (w.upper(), rest.strip()) for w, _, rest in (s.partition(" ") for s in lines if s and s[0] != "#")
    ]


def test_the_platform_services_have_dockerfiles() -> None:
    assert {d.parent.name for d in DOCKERFILES} >= {"api-gateway", "auth-adapter", "health-demo"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda d: d.parent.name)
def test_the_service_folder_alone_is_the_build_context(dockerfile: Path) -> None:
    folder = dockerfile.parent
    steps = instructions(dockerfile)
    stages = {rest.split()[-1] for word, rest in steps if word == "FROM" and " as " in rest.lower()}
    ignore = folder / ".dockerignore"
    ignored = (
        {line.strip().strip("/") for line in ignore.read_text().splitlines()} if ignore.exists() else set()
    )
    for word, rest in (step for step in steps if step[0] in ("COPY", "ADD")):
        args = rest.split()
        stage = [a.split("=", 1)[1] for a in args if a.startswith("--from=")]
        if stage:
            assert stage[0] in stages, f"{dockerfile}: {word} {rest}: --from names no stage of this file"
            continue
        for source in [a for a in args if not a.startswith("--")][:-1]:
            path = PurePosixPath(source)
            assert not path.is_absolute() and ".." not in path.parts, (
                f"{dockerfile}: {source} leaves the folder"
            )
            assert (folder / source).exists(), f"{dockerfile}: {source} is not in {folder.name}/"
            assert path.parts[0] not in ignored, f"{dockerfile}: {source} is excluded by .dockerignore"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda d: d.parent.name)
def test_what_vendor_holds_is_what_the_package_depends_on(dockerfile: Path) -> None:
    folder = dockerfile.parent
    if not (folder / "pyproject.toml").exists():
        pytest.skip(f"{folder.name} is not a Python package")
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    wanted = {re.split(r"[^\w.-]", d, maxsplit=1)[0] for d in project["dependencies"]}
    libs = {tomllib.loads(p.read_text())["project"]["name"] for p in REPO_ROOT.glob("libs/*/pyproject.toml")}
    vendored = {
        tomllib.loads(p.read_text())["project"]["name"] for p in folder.glob("vendor/*/pyproject.toml")
    }
    assert vendored == wanted & libs  # no transitive library dependencies among libs/ today
    if vendored:
        assert "vendor /src/vendor" in [rest for word, rest in instructions(dockerfile) if word == "COPY"]
