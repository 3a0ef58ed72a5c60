"""Debian's chromium driven by Playwright for Python (no browser download), and axe-core from its npm
package (both installed by `scripts/install-tools.sh browser`). Missing: fails under CI=true, else skips."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, REPO_ROOT

AXE = REPO_ROOT / ".tools" / "node" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS_VARIABLE = "GITOPS_POC_TEST_ARTIFACTS"  # where screenshots go (default: the test's tmp folder)


def _missing(what: str) -> None:
    message = f"{what} (run `scripts/install-tools.sh browser`, which `make test` runs)"
    if IN_CI:
        pytest.fail(message + " - CI must have every real component")
    pytest.skip(message)


def chromium_path() -> str:
    found = shutil.which("chromium")
    if found is None:
        _missing("no chromium browser")
    assert found is not None
    return found


def axe_script() -> Path:
    if not AXE.is_file():
        _missing(f"axe-core is not installed ({AXE})")
    return AXE


def artifacts(tmp_path: Path) -> Path:
    folder = (
        Path(os.environ[ARTIFACTS_VARIABLE]) if os.environ.get(ARTIFACTS_VARIABLE) else tmp_path / "artifacts"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def browser_page(width: int = 1280, height: int = 800) -> Iterator[Any]:
    """A page of headless chromium at width x height."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed (the test extra)")
    executable = chromium_path()
    with sync_playwright() as pw:
        # --no-sandbox: the sandbox cannot start as root (CI containers).
        browser = pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()
