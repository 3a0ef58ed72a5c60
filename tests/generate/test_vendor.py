"""Shared libraries vendored into the services: one source (libs/), copies that cannot drift."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitops_poc.changes import apply_changes
from gitops_poc.cli import main
from gitops_poc.errors import UsageError
from gitops_poc.vendoring import disk_reader, plan_vendor

REPO_ROOT = Path(__file__).resolve().parents[2]
LOADER = Path("src/gateway_config/loader.py")


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def library(root: Path, folder: str, name: str, deps: str = "") -> None:
    write(root, f"libs/{folder}/pyproject.toml", f'[project]\nname = "{name}"\ndependencies = [{deps}]\n')
    write(root, f"libs/{folder}/README.md", f"# {name}\n")
    module = name.replace("-", "_").replace(".", "_").lower()
    write(root, f"libs/{folder}/src/{module}/__init__.py", f"NAME = {name!r}\n")
    write(root, f"libs/{folder}/tests/test_{module}.py", "def test_x() -> None: ...\n")
    write(root, f"libs/{folder}/src/{module}/__pycache__/x.cpython-311.pyc", "")
    write(root, f"libs/{folder}/src/{module}.egg-info/PKG-INFO", "built\n")


def service(root: Path, name: str, deps: str) -> None:
    write(root, f"services/{name}/pyproject.toml", f'[project]\nname = "{name}"\ndependencies = [{deps}]\n')


def vendor(root: Path, services: tuple[str, ...] = ("svc",)) -> list[str]:
    changes = plan_vendor(root, services, disk_reader(root))
    apply_changes(root, changes)
    return sorted(f"{c.action.value} {c.path}" for c in changes)


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_a_service_gets_the_libraries_it_depends_on_and_theirs_without_tests_or_build_artefacts(
    tmp_path: Path,
) -> None:
    library(tmp_path, "runtime", "Service_Runtime")
    library(tmp_path, "config", "gateway-config", '"service-runtime>=0.1", "ruamel.yaml<1"')
    library(tmp_path, "unused", "unused-lib")
    service(tmp_path, "svc", '"gateway-config>=0.1,<0.2", "grpcio>=1.70"')
    vendor(tmp_path)
    assert listing(tmp_path / "services/svc/vendor") == [
        "README.md",
        "config/README.md",
        "config/pyproject.toml",
        "config/src/gateway_config/__init__.py",
        "runtime/README.md",
        "runtime/pyproject.toml",
        "runtime/src/service_runtime/__init__.py",
    ]
    note = (tmp_path / "services/svc/vendor/README.md").read_text()
    assert "do not edit" in note and "`libs/config/`" in note and "`libs/runtime/`" in note
    assert vendor(tmp_path) == []  # a second run changes nothing


def test_a_changed_library_is_drift_until_init_rewrites_the_copy(tmp_path: Path) -> None:
    library(tmp_path, "runtime", "service-runtime")
    service(tmp_path, "svc", '"service-runtime"')
    vendor(tmp_path)
    write(tmp_path, "libs/runtime/src/service_runtime/__init__.py", "NAME = 'changed'\n")
    write(tmp_path, "libs/runtime/src/service_runtime/new.py", "X = 1\n")
    (tmp_path / "libs/runtime/README.md").unlink()
    # An edit made in the copy is drift too: it is overwritten from libs/.
    write(tmp_path, "services/svc/vendor/runtime/pyproject.toml", "edited in place\n")
    assert vendor(tmp_path) == [
        "create services/svc/vendor/runtime/src/service_runtime/new.py",
        "delete services/svc/vendor/runtime/README.md",
        "update services/svc/vendor/runtime/pyproject.toml",
        "update services/svc/vendor/runtime/src/service_runtime/__init__.py",
    ]
    assert listing(tmp_path / "services/svc/vendor/runtime") == [
        "pyproject.toml",
        "src/service_runtime/__init__.py",
        "src/service_runtime/new.py",
    ]
    assert (tmp_path / "services/svc/vendor/runtime/src/service_runtime/__init__.py").read_text() == (
        "NAME = 'changed'\n"
    )


def test_a_library_no_longer_needed_is_removed_and_a_service_without_pyproject_gets_none(
    tmp_path: Path,
) -> None:
    library(tmp_path, "runtime", "service-runtime")
    service(tmp_path, "svc", '"service-runtime"')
    vendor(tmp_path)
    service(tmp_path, "svc", '"grpcio"')
    changes = vendor(tmp_path)
    assert changes and all(c.startswith("delete ") for c in changes)
    assert listing(tmp_path / "services/svc/vendor") == []
    assert vendor(tmp_path, ("svc", "web-http")) == []  # no pyproject.toml: a published image, nothing


def test_a_broken_pyproject_is_named_in_the_error(tmp_path: Path) -> None:
    library(tmp_path, "runtime", "service-runtime")
    write(tmp_path, "services/svc/pyproject.toml", "[project\n")
    with pytest.raises(UsageError, match=r"services/svc/pyproject.toml: not valid TOML"):
        vendor(tmp_path)
    service(tmp_path, "svc", "")
    write(tmp_path, "libs/runtime/pyproject.toml", "[project]\ndependencies = 'x'\n")
    with pytest.raises(UsageError, match=r"libs/runtime/pyproject.toml: project.dependencies must be a list"):
        vendor(tmp_path)


def test_editing_libs_fails_init_check_on_the_platform_until_init_updates_vendor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The repository as committed: in line; a library edit makes `init --check` fail for every service that
    vendors it, and one `init` brings the copies up to date."""
    root = tmp_path / "copy"
    root.mkdir()
    for name in ("gitops-config", "services", "templates", "libs"):
        shutil.copytree(
            REPO_ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
        )
    shutil.copy(REPO_ROOT / ".gitignore", root / ".gitignore")
    env = ["--env-file", str(REPO_ROOT / ".env.example")]
    assert main(["init", "-C", str(root), *env, "--check"]) == 0
    loader = root / "libs/gateway-config" / LOADER
    loader.write_text(loader.read_text() + "\n# a change made where the library lives\n")
    capsys.readouterr()
    assert main(["init", "-C", str(root), *env, "--check"]) == 1
    err = capsys.readouterr().err
    for svc in ("api-gateway", "auth-adapter"):
        assert f"update services/{svc}/vendor/gateway-config/{LOADER}" in err
    assert "health-demo/vendor" not in err  # it does not use the config loader
    assert main(["init", "-C", str(root), *env, "--yes"]) == 0
    for svc in ("api-gateway", "auth-adapter"):
        assert (root / "services" / svc / "vendor/gateway-config" / LOADER).read_text() == loader.read_text()
    assert main(["init", "-C", str(root), *env, "--check"]) == 0


def test_every_committed_service_vendors_exactly_the_libraries_init_would_write() -> None:
    changes = plan_vendor(REPO_ROOT, ("api-gateway", "auth-adapter", "health-demo"), disk_reader(REPO_ROOT))
    assert [f"{c.action} {c.path}" for c in changes] == []
    for svc, libs in {
        "api-gateway": ["gateway-config"],
        "auth-adapter": ["gateway-config", "service-runtime"],
        "health-demo": ["service-runtime"],
    }.items():
        vendored = sorted(p.name for p in (REPO_ROOT / "services" / svc / "vendor").iterdir() if p.is_dir())
        assert vendored == libs


def test_without_libs_the_root_is_not_the_source_and_its_copies_are_left_alone(tmp_path: Path) -> None:
    library(tmp_path, "runtime", "service-runtime")
    service(tmp_path, "svc", '"service-runtime"')
    vendor(tmp_path)
    shutil.rmtree(tmp_path / "libs")
    assert vendor(tmp_path) == []
    assert "runtime/pyproject.toml" in listing(tmp_path / "services/svc/vendor")
