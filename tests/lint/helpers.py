"""Small builders for lint tests: write files into a platform root, lint it, pick findings."""

from __future__ import annotations

import shutil
from pathlib import Path

from gitops_poc.lint import Finding, lint_platform
from gitops_poc.platform import Platform

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "seed"
SEED_TEMPLATE_SERVICE = FIXTURES / "seed-template" / "my-service"


def write(root: Path, relative: str, text: str | None) -> None:
    """Create or replace a file; None deletes it (or the whole folder)."""
    path = root / relative
    if text is None:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def line_of(text: str, marker: str) -> int:
    """1-based line of the first line containing `marker` (`=text`: the line is exactly that, stripped).

    Tests say where a finding belongs, not which number it is."""
    exact = marker.startswith("=")
    for number, line in enumerate(text.splitlines(), start=1):
        if (line.strip() == marker[1:]) if exact else (marker in line):
            return number
    raise AssertionError(f"{marker!r} is not in the text")


def lint(platform: Platform, root: Path, *paths: Path) -> list[Finding]:
    return lint_platform(platform, root, list(paths))


def of_rule(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


def where(findings: list[Finding]) -> set[tuple[str, str, int | None]]:
    return {(f.rule_id, f.file, f.line) for f in findings}
