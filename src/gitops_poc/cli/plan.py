"""`gitops-poc plan`: the Applications the ApplicationSet generates, and what a change would do to them."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gitops_poc import gitrepo
from gitops_poc.argocd.applications import (
    Application,
    ChangedApplication,
    PlanResult,
    check_deletions,
    summary,
)
from gitops_poc.argocd.goyaml import dump_documents
from gitops_poc.argocd.preview import ImageReader, default_file, make_plan
from gitops_poc.cli.common import RootOption
from gitops_poc.cli.output import err, out
from gitops_poc.errors import UsageError


class PlanOutput(StrEnum):
    table = "table"
    yaml = "yaml"
    json = "json"


def _row(app: Application, images: ImageReader | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": app.name,
        "applicationSet": app.appset,
        "service": app.service,
        "environment": app.environment,
        "namespace": app.destination_namespace,
        "cluster": app.destination_cluster,
        "autoSync": app.auto_sync,
        "chartVersion": app.chart_version,
    }
    if images is not None:
        row["image"] = images.image(app)
    return row


def _value(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(value, sort_keys=True)


def _field_lines(change: ChangedApplication) -> list[str]:
    lines = []
    for fc in change.fields:
        if fc.added:
            lines.append(f"      + {fc.path}: {_value(fc.after)}")
        elif fc.removed:
            lines.append(f"      - {fc.path}: {_value(fc.before)}")
        else:
            lines.append(f"      ~ {fc.path}: {_value(fc.before)} -> {_value(fc.after)}")
    return lines


def _comparison_json(
    result: PlanResult, head_images: ImageReader, base_images: ImageReader, max_deletions: int | None
) -> dict[str, Any]:
    comparison = result.comparison
    assert comparison is not None
    return {
        "file": str(result.file),
        "base": result.base,
        "summary": summary(result.applications, comparison),
        "added": [_row(app, head_images) for app in comparison.added],
        "changed": [
            {
                **_row(c.after, head_images),
                "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in c.fields],
            }
            for c in comparison.changed
        ],
        "deleted": [
            {**_row(app, base_images), "deletesResources": app.cascades} for app in comparison.deleted
        ],
        "maxDeletions": max_deletions,
        "guardTripped": max_deletions is not None and len(comparison.deleted) > max_deletions,
    }


def _show_table(result: PlanResult, images: ImageReader) -> None:
    headers = ("SERVICE", "ENV", "APPLICATION", "CLUSTER", "NAMESPACE", "AUTO-SYNC", "CHART", "IMAGE")
    rows = [
        (
            app.service,
            app.environment,
            app.name,
            app.destination_cluster,
            app.destination_namespace,
            "yes" if app.auto_sync else "no",
            app.chart_version,
            images.image(app),
        )
        for app in result.applications
    ]
    table = Table(
        title=escape(f"{len(rows)} Application(s) from {result.file}"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for header in headers:
        table.add_column(header, no_wrap=True)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    # Piped output is never folded or cut: one Application per line stays greppable.
    width = sum(max([len(h)] + [len(r[i]) for r in rows]) + 3 for i, h in enumerate(headers)) + 4
    console = (
        out if out.is_terminal else Console(file=out.file, width=max(width, 80), highlight=False, emoji=False)
    )
    console.print(table)


def _show_comparison(result: PlanResult, base_images: ImageReader) -> None:
    comparison = result.comparison
    assert comparison is not None
    counts = summary(result.applications, comparison)
    out.print(
        f"Compared with {result.base}: {counts['added']} to add, {counts['changed']} to change, "
        f"{counts['deleted']} to delete, {counts['unchanged']} unchanged",
        markup=False,
        highlight=False,
    )
    for app in comparison.added:
        out.print(
            f"  + {app.name}  ({app.service}/{app.environment} -> {app.destination_namespace})",
            markup=False,
            highlight=False,
        )
    for change in comparison.changed:
        out.print(f"  ~ {change.name}", markup=False, highlight=False)
        for line in _field_lines(change):
            out.print(line, markup=False, highlight=False)
    for app in comparison.deleted:
        what = "its resources are deleted too" if app.cascades else "its resources are kept"
        out.print(
            f"  - {app.name}  ({app.service}/{app.environment} in {app.destination_namespace}, "
            f"image {base_images.image(app)}): {what}",
            markup=False,
            highlight=False,
        )


def plan(
    root: Path = RootOption,
    file: Path | None = typer.Option(
        None,
        "--file",
        "-f",
        dir_okay=False,
        help=(
            "ApplicationSet file (several YAML documents allowed; other kinds are ignored) "
            "[default: ROOT/gitops-config/argocd/applicationset.yaml]."
        ),
    ),
    output: PlanOutput = typer.Option(
        PlanOutput.table,
        "--output",
        "-o",
        help="table; yaml or json print the Application manifests (with --base, json prints the comparison).",
    ),
    base: str | None = typer.Option(
        None,
        "--base",
        help="Git revision of the file to compare with: Applications added, changed, deleted.",
    ),
    max_deletions: int | None = typer.Option(
        None,
        "--max-deletions",
        min=0,
        help="With --base: exit 1 when more Applications than this would be deleted.",
    ),
) -> int:
    """Expand the ApplicationSet as ArgoCD's controller does and list the Applications it generates.

    Supports list and matrix generators, `goTemplate` (Sprig, missingkey) and the default {{param}}
    templating, and templatePatch. With --base REV, compares with the file at that git revision: a renamed
    service or environment shows as a deletion plus an addition. Exit 0 ok, 1 when --max-deletions is
    exceeded, 2 on unusable input (YAML error, unsupported generator, template error).
    """
    if max_deletions is not None and base is None:
        raise UsageError("--max-deletions needs --base REV: deletions are counted against another revision")
    if base is not None:
        gitrepo.check_revision(base, "--base")
    path = file if file is not None else default_file(root)
    result = make_plan(path, base)
    head_images = ImageReader(root)
    base_images = ImageReader(root, base, path)
    try:
        _print(result, output, head_images, base_images, max_deletions)
    finally:
        base_images.close()
    if output is PlanOutput.table:
        _show_push_contexts(root)
    check_deletions(result, max_deletions)
    return 0


def _show_push_contexts(root: Path) -> None:
    """Push mode's side of the mapping: the agent (kube context) each environment's deploy job uses, from
    the shared pipeline in ROOT/gitops-config (skipped when there is none)."""
    from collections import defaultdict

    from gitops_poc.delivery.agents import deploy_contexts
    from gitops_poc.layout import SHARED_PIPELINE_FILE
    from gitops_poc.yamlio import load_plain, read_text

    pipeline_file = root / SHARED_PIPELINE_FILE
    text = read_text(pipeline_file)
    if text is None:
        return
    by_context: dict[str, list[str]] = defaultdict(list)
    for env, context in deploy_contexts(load_plain(text, str(pipeline_file))).items():
        by_context[context].append(env)
    if by_context:
        shown = "; ".join(f"{' '.join(envs)} through {context}" for context, envs in by_context.items())
        out.print(f"Push mode ({SHARED_PIPELINE_FILE}): {shown}", markup=False, highlight=False)


def _print(
    result: PlanResult,
    output: PlanOutput,
    head_images: ImageReader,
    base_images: ImageReader,
    max_deletions: int | None,
) -> None:
    if output is PlanOutput.json:
        if result.comparison is not None:
            data: Any = _comparison_json(result, head_images, base_images, max_deletions)
        else:
            data = [app.manifest for app in result.applications]
        typer.echo(json.dumps(data, indent=2))
    elif output is PlanOutput.yaml:
        typer.echo(dump_documents([app.manifest for app in result.applications]), nl=False)
    else:
        _show_table(result, head_images)
        if result.comparison is not None:
            _show_comparison(result, base_images)
    if result.comparison is not None and output is not PlanOutput.table:
        counts = summary(result.applications, result.comparison)
        err.print(
            f"Compared with {result.base}: {counts['added']} to add, {counts['changed']} to change, "
            f"{counts['deleted']} to delete",
            markup=False,
        )
