"""`gitops-poc lint [PATH...]`: check values files and ArgoCD objects against the platform's rules."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from itertools import groupby
from pathlib import Path

import typer
from rich.markup import escape

from gitops_poc.cli.common import (
    EnvFileOption,
    ReadRemoteBaseOption,
    RootOption,
    load_platform,
    platform_checkout,
)
from gitops_poc.cli.output import OutputFormat, err, out, print_json
from gitops_poc.lint import Finding, Severity, lint_platform
from gitops_poc.lint.findings import count
from gitops_poc.platform import Platform
from gitops_poc.render.crdschema import CrdSchemas


class MinimumSeverity(StrEnum):
    error = "error"
    warning = "warning"


STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow"}


def _print_text(findings: list[Finding]) -> None:
    for file, group in groupby(findings, key=lambda f: f.file):
        out.print(f"[bold]{escape(file)}[/]")
        for f in group:
            hint = f" [dim](hint: {escape(f.hint)})[/]" if f.hint else ""
            out.print(
                f"  {escape(f.location)}: [{STYLE[f.severity]}]{f.severity.value}[/] {f.rule_id}"
                f" {escape(f.message)}{hint}"
            )


def platform_crds(platform: Platform, root: Path) -> CrdSchemas:
    """The pinned charts' CRD schemas (cached after the first pull); without helm, only what is cached."""
    import os

    from gitops_poc.render.crds import load_crd_schemas
    from gitops_poc.render.helm import Helm, HelmNotFound, find_helm

    try:
        helm: Helm | None = Helm(find_helm(root))
    except HelmNotFound:
        helm = None
    return load_crd_schemas(
        platform.config, helm, os.environ, on_pull=lambda message: err.print(message, markup=False)
    )


def lint(
    paths: list[Path] = typer.Argument(
        None,
        help="Service folders, values files or gitops-config files to check (default: the whole platform).",
    ),
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    remote_base: str | None = ReadRemoteBaseOption,
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text, or json for scripts."
    ),
    severity: MinimumSeverity = typer.Option(
        MinimumSeverity.warning,
        "--severity",
        help="Show findings of this severity and worse (error hides warnings).",
    ),
) -> int:
    """Check every service's values files and the ArgoCD ApplicationSet/AppProject, offline.

    Rules: the seed README's configuration principles and the k8app chart contract (docs/lint.md).

    Each finding names its rule, file:line, the problem and a fix. In a clone of the published gitops-config
    repository, gitops-config is linted, with the services' value files read from --remote-base.

    Exit 0: no errors (warnings allowed). 1: errors found (a YAML syntax error is one).
    2: unusable input (no platform root, a missing path, a bad .env).
    """
    platform = load_platform(root, env_file)
    with platform_checkout(platform, root, remote_base) as checkout:
        given = [checkout.inside(root, p) for p in paths] if paths else checkout.lint_paths()
        found = lint_platform(platform, checkout.root, given, lambda: platform_crds(platform, root))
        findings = [replace(f, file=checkout.shown(f.file)) for f in found]
    shown = [f for f in findings if severity is MinimumSeverity.warning or f.severity is Severity.ERROR]
    errors, warnings = count(findings, Severity.ERROR), count(findings, Severity.WARNING)
    if output is OutputFormat.json:
        print_json(
            {
                "root": str(root),
                "summary": {"errors": errors, "warnings": warnings, "files": len({f.file for f in findings})},
                "findings": [f.to_dict() for f in shown],
            }
        )
    else:
        _print_text(shown)
        style = "red" if errors else "yellow" if warnings else "green"
        err.print(f"[{style}]{errors} error(s), {warnings} warning(s)[/]")
    return 1 if errors else 0
