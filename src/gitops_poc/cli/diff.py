"""`gitops-poc diff SERVICE`: what a change does to the desired state, before ArgoCD sees it."""

from __future__ import annotations

import difflib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer

from gitops_poc import gitrepo
from gitops_poc.cli.common import EnvFileOption, RootOption, load_platform
from gitops_poc.cli.output import OutputFormat, err, out, print_json
from gitops_poc.cli.render import (
    ChartOption,
    RenderKubeVersionOption,
    ServiceDirOption,
    chart_for,
    jsonable,
    require_chart,
    unavailable_note,
)
from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform
from gitops_poc.render.diff import Change, DiffReport, ValueChange, compare
from gitops_poc.render.helm import Helm
from gitops_poc.render.model import ChartResult, Rendered
from gitops_poc.render.service import (
    chart_ref,
    check_target,
    render_manifests,
    render_values,
    service_directory,
)
from gitops_poc.render.validate import parse_kube_version

MARK = {Change.ADDED: "+", Change.REMOVED: "-", Change.CHANGED: "~"}


def _pairs(
    envs: list[str], against: str | None, base: str | None, head: str | None
) -> list[tuple[tuple[str, str | None], tuple[str, str | None]]]:
    """(env, revision) of the base and the head side of every comparison."""
    if against is not None:
        return [((against, None), (envs[0], None))]
    return [((env, base), (env, head)) for env in envs]


def _check_options(
    env: str | None,
    against: str | None,
    base: str | None,
    head: str | None,
    chart_version: str | None = None,
) -> None:
    if chart_version is not None:
        if against is not None or base is not None or head is not None:
            raise UsageError(
                "--chart-version compares two chart versions on the working tree: leave out --against, "
                "--base and --head"
            )
        return
    if (against is None) == (base is None):
        raise UsageError(
            "give either --env ENV --against ENV2 (two environments), --base REV (two revisions) or "
            "--chart-version V (two chart versions)"
        )
    if against is not None and env is None:
        raise UsageError("--against needs --env: the environment to compare with")
    if head is not None and base is None:
        raise UsageError("--head needs --base")
    for option, revision in (("--base", base), ("--head", head)):
        if revision is not None:
            gitrepo.check_revision(revision, option)


def _value_text(value: Any) -> str:
    return json.dumps(jsonable(value))


def _show_value_change(change: ValueChange) -> None:
    mark = MARK[change.change]
    if (
        change.change is Change.CHANGED
        and isinstance(change.old, str)
        and isinstance(change.new, str)
        and ("\n" in change.old or "\n" in change.new)
    ):
        out.out(f"  {mark} {change.dotted}: (text)", highlight=False)
        lines = difflib.unified_diff(change.old.splitlines(), change.new.splitlines(), lineterm="", n=1)
        for line in list(lines)[2:]:
            out.out(f"      {line}", highlight=False)
        return
    if change.change is Change.ADDED:
        text = _value_text(change.new)
    elif change.change is Change.REMOVED:
        text = _value_text(change.old)
    else:
        text = f"{_value_text(change.old)} -> {_value_text(change.new)}"
    out.out(f"  {mark} {change.dotted}: {text}", highlight=False)


def show_report(report: DiffReport, chart: str | None, values_only: bool = False) -> None:
    if not report.changed:
        err.print(f"No differences: {report.service} {report.base} -> {report.head}", markup=False)
        return
    out.out(f"=== {report.service}: {report.base} -> {report.head}", highlight=False)
    out.out(f"Values: {len(report.values)} change(s)", highlight=False)
    for change in report.values:
        _show_value_change(change)
    if report.manifests is None:
        reason = "--values-only" if values_only else "chart unavailable"
        out.out(f"Manifests: not compared ({reason})", highlight=False)
        return
    source = f" ({chart})" if chart else ""
    out.out(f"Manifests: {len(report.manifests)} object(s) differ{source}", highlight=False)
    for manifest in report.manifests:
        out.out(f"  {MARK[manifest.change]} {manifest.key} ({manifest.change.value})", highlight=False)
    for manifest in report.manifests:
        out.out(manifest.diff, end="", highlight=False)


def _services(platform: Platform, service: str | None, every: bool, service_dir: Path | None) -> list[str]:
    if every == (service is not None):
        raise UsageError("name one SERVICE, or pass --all for every service")
    if every and service_dir is not None:
        raise UsageError("--service-dir points at one service's clone; it cannot go with --all")
    return list(platform.services) if every else [str(service)]


def diff(
    service: str | None = typer.Argument(None, help="Service name (one of SERVICES); or --all."),
    every: bool = typer.Option(False, "--all", help="Every service in SERVICES."),
    env: str | None = typer.Option(
        None, "--env", "-e", help="Environment; with --base and no --env, every environment is compared."
    ),
    against: str | None = typer.Option(
        None, "--against", help="Compare --env with this environment (the base)."
    ),
    base: str | None = typer.Option(
        None, "--base", help="Git revision of the service repository to compare from."
    ),
    head: str | None = typer.Option(
        None, "--head", help="Git revision to compare to (default: the working tree)."
    ),
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    service_dir: Path | None = ServiceDirOption,
    chart: Path | None = ChartOption,
    chart_version: str | None = typer.Option(
        None,
        "--chart-version",
        help="Compare the pinned chart (base) with this version of it (head): an upgrade preview.",
    ),
    kube_version: str | None = RenderKubeVersionOption,
    values_only: bool = typer.Option(
        False, "--values-only", help="Compare merged values only; no chart, no helm."
    ),
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text, or json for scripts."
    ),
) -> int:
    """Show what a change does to SERVICE's desired state, before ArgoCD sees it.

    \b
    Two environments at the working tree:
      --env staging --against prod    (prod is the base)
    Two git revisions of the service repository:
      --env dev --base main --head HEAD
      (no --head: the working tree; no --env: every environment)
    Two versions of the chart, before bumping CHART_VERSION:
      --chart-version 3.12.1    (the pinned version is the base; --all: every service)

    Merged values always; rendered manifests where the chart is available.
    Formatting (whitespace, key order) is never a difference.
    Exit 0 when nothing differs, 1 when something does, 2 on bad input.
    """
    _check_options(env, against, base, head, chart_version)
    if chart_version is not None and (values_only or chart is not None):
        raise UsageError("--chart-version compares rendered manifests: leave out --values-only and --chart")
    if kube_version is not None and not values_only:
        parse_kube_version(kube_version, for_validation=False)  # bad input before any work
    platform = load_platform(root, env_file)
    kube_version = kube_version or platform.config.kubernetes_version
    if not values_only:
        parse_kube_version(kube_version, for_validation=False)
    services = _services(platform, service, every, service_dir)
    if chart_version is not None:
        chart_ref(platform, chart_version)
    envs = [env] if env is not None else list(platform.environments)
    directories = {}
    for name in services:
        for env_name in [*envs, *([against] if against else [])]:
            check_target(platform, name, env_name)
        directories[name] = service_directory(root, name, service_dir)
        for revision in (base, head):
            if revision is not None:
                gitrepo.resolve(directories[name], revision)  # bad input, before any rendering

    helm_chart = None if values_only else chart_for(platform, root, chart)
    # Each environment renders with its own chart version (CHART_VERSIONS), pulled once per version.
    by_version = {platform.config.chart_version: helm_chart}

    def env_chart(env_name: str) -> tuple[Helm, ChartResult] | None:
        version = platform.config.chart_version_of(env_name)
        if helm_chart is None or chart is not None or version in by_version:
            return by_version.get(version, helm_chart)
        by_version[version] = chart_for(platform, root, None, None, env_name)
        return by_version[version]

    # --chart-version: (helm, chart, label) of the base (pinned) and the head (version V) side
    two_charts = []
    if chart_version is not None and helm_chart is not None:
        name = platform.config.chart_name
        for version in (platform.config.chart_version, chart_version):
            helm, one_chart = (
                helm_chart
                if version == platform.config.chart_version
                else chart_for(platform, root, None, version)
            )
            require_chart(one_chart)
            two_charts.append((helm, one_chart, f"{name}-{version}"))
    reports = []
    for name in services:
        for sides in _pairs(envs, against, base, head):
            rendered: list[Rendered] = []
            for index, (side_env, revision) in enumerate(sides):
                one = render_values(platform, directories[name], name, side_env, revision)
                if two_charts:  # the same values through the pinned chart, then through version V
                    helm, side_chart, label = two_charts[index]
                    one = replace(render_manifests(one, helm, side_chart, kube_version), chart_label=label)
                elif (env_side := env_chart(side_env)) is not None:
                    one = render_manifests(one, env_side[0], env_side[1], kube_version)
                rendered.append(one)
            reports.append(compare(rendered[0], rendered[1]))

    chart_result = helm_chart[1] if helm_chart is not None else None
    if two_charts:
        chart_result = None  # two charts: each side's label names its own
    if chart_result is not None and (note := unavailable_note(chart_result)):
        err.print(f"note: {note}", markup=False)
    if output is OutputFormat.json:
        print_json({"changed": any(r.changed for r in reports), "reports": [r.as_dict() for r in reports]})
    else:
        for report in reports:
            show_report(report, getattr(chart_result, "description", None), values_only)
    return 1 if any(r.changed for r in reports) else 0
