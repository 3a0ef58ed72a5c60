"""`init`: the whole set of file changes for a platform root, computed without writing anything."""

from __future__ import annotations

import os
import re
from pathlib import Path

from gitops_poc import fileio
from gitops_poc.changes import FileChange, change_if_different
from gitops_poc.disruption import Budget, budget_from_values
from gitops_poc.generate.catalog import SERVICE_TEMPLATE, template_files
from gitops_poc.generate.delivery import render_delivery_files
from gitops_poc.generate.gitops_config import HEADER, render_files
from gitops_poc.generate.pipelines import SHARED_PIPELINE_FILE, render_pipeline_files
from gitops_poc.generate.services import Reader, TemplateRenderer, file_mode, plan_service
from gitops_poc.layout import (
    GITOPS_CONFIG_DIR,
    LOCAL_STATE,
    RELEASE_FILE,
    SERVICES_DIR,
    value_files,
)
from gitops_poc.platform import Platform
from gitops_poc.release.policy import parse_policy
from gitops_poc.secretnames import IGNORE_PATTERNS
from gitops_poc.vendoring import disk_reader, plan_vendor
from gitops_poc.yamlio import load_plain

TEMPLATE_DIR = Path("templates") / "service-repo"
GITIGNORE = Path(".gitignore")
# What an interrupted write leaves (changes.write_atomic): `.<name>.<8 random>.tmp`; the next run removes it.
TEMP_FILES = ".*.tmp"
_TEMP_FILE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def _gitignore(previous: str | None) -> str:
    """The root .gitignore with the credential files and interrupted writes listed; the team's other lines are
    kept."""
    text = previous or ""
    for comment, names in (
        (
            "# Credentials, secret values and copies of them: never commit them (added by gitops-poc init)",
            IGNORE_PATTERNS,
        ),
        ("# Files an interrupted run left behind (the next run removes them)", (TEMP_FILES,)),
        ("# State of this machine's runs (`gitops-poc up`, `publish`), not the platform's", LOCAL_STATE),
    ):
        present = {line.strip().lstrip("/") for line in text.splitlines()}
        missing = [name for name in names if name not in present]
        if missing:
            if text and not text.endswith("\n"):
                text += "\n"
            text += comment + "\n" + "".join(f"{m}\n" for m in missing)
    return text


def _interrupted_writes(root: Path, folders: set[Path]) -> list[FileChange]:
    """Temporary files a killed run left in the folders the generator writes to: removed by the next run,
    reported (and failing --check) until then."""
    found = []
    for folder in sorted(folders):
        try:
            entries = list(os.scandir(root / folder))
        except OSError:  # missing, or not a folder: nothing was written there
            continue
        for entry in entries:
            if _TEMP_FILE.match(entry.name) and entry.is_file(follow_symlinks=False):
                found.append(FileChange(folder / entry.name, None, "", "left by an interrupted run"))
    return sorted(found, key=lambda change: change.path)


GENERATED_FOLDERS = (
    GITOPS_CONFIG_DIR / "argocd",
    GITOPS_CONFIG_DIR / "platform",
    GITOPS_CONFIG_DIR / ".gitlab" / "agents",
    SHARED_PIPELINE_FILE.parent,
)


def _stale_generated_files(root: Path, generated: set[Path], read: Reader) -> list[FileChange]:
    """YAML files the generator wrote earlier (they carry its header) in the folders it owns but no longer
    produces, e.g. the ServiceAccount of a removed service: left in place, ArgoCD would keep syncing them."""
    stale = []
    for folder in GENERATED_FOLDERS:
        for path in sorted((root / folder).rglob("*.yaml")):
            relative = path.relative_to(root)
            if path.is_file() and relative not in generated and ".git" not in relative.parts:
                text = read(relative)
                if text is not None and text.startswith(HEADER):
                    stale.append(FileChange(relative, None, text, "no longer generated"))
    return stale


def _budgets(platform: Platform, planned: Reader) -> dict[tuple[str, str], Budget]:
    """The production disruption budget of every service, from its value files as they will be."""
    budgets = {}
    for service in platform.services:
        for env in platform.environments:
            if not platform.owns_disruption_budget(env):
                continue
            layers = []
            for relative in value_files(env):
                path = Path(SERVICES_DIR) / service / relative
                text = planned(path)
                data = load_plain(text, str(path)) if text else None
                layers.append((str(path), data if isinstance(data, dict) else None))
            budgets[(service, env)] = budget_from_values(layers, platform.default_disruption_budget())
    return budgets


def plan_init(platform: Platform, root: Path, reader: Reader | None = None) -> list[FileChange]:
    """Changes that bring `root` in line with the configuration; empty when it already is."""
    seen: set[Path] = set()
    read_file = reader or disk_reader(root)

    def read(relative: Path) -> str | None:
        seen.add(relative.parent)
        return read_file(relative)

    changes: list[FileChange] = []
    template_changes: list[FileChange] = []
    # The service template is the team's to adapt: created when missing, never overwritten.
    for relative, source in template_files(SERVICE_TEMPLATE):
        target = TEMPLATE_DIR / relative
        if read(target) is None:
            template_changes.append(
                FileChange(
                    target, fileio.read_text(source, fileio.TEMPLATE), None, "new file", file_mode(source)
                )
            )
    user_template = root / TEMPLATE_DIR
    template_dir = user_template if user_template.is_dir() else SERVICE_TEMPLATE
    renderer = TemplateRenderer()
    service_changes: list[FileChange] = []
    for service in platform.services:
        service_changes.extend(plan_service(platform, service, read, renderer, template_dir))
    planned = {change.path: change.content for change in service_changes}

    def planned_read(path: Path) -> str | None:
        return planned[path] if path in planned else read(path)

    # From the service files as they will be: a pyproject this run creates from a template counts.
    service_changes.extend(plan_vendor(root, platform.services, planned_read))

    release = parse_policy(read(RELEASE_FILE), str(RELEASE_FILE))
    generated = {
        **render_files(platform, release.windows),
        **render_delivery_files(platform, _budgets(platform, planned_read)),
        **render_pipeline_files(platform, release),
    }
    for path, content in generated.items():
        if change := change_if_different(path, content, read(path), "generated"):
            changes.append(change)
    changes.extend(_stale_generated_files(root, set(generated), read))
    previous = read(GITIGNORE)
    if change := change_if_different(
        GITIGNORE, _gitignore(previous), previous, "credential and temporary files ignored"
    ):
        changes.append(change)

    changes += template_changes + service_changes
    changes.extend(_interrupted_writes(root, seen | {change.path.parent for change in changes}))
    return changes
