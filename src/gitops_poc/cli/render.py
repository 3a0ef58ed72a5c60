"""`gitops-poc render SERVICE ENV`: the manifests ArgoCD would apply, validated offline."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from gitops_poc.cli.common import EnvFileOption, RootOption, load_platform
from gitops_poc.cli.output import err, out, print_json
from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.platform import Platform
from gitops_poc.render.crds import load_crd_schemas
from gitops_poc.render.findings import ManifestSeverity
from gitops_poc.render.helm import Helm
from gitops_poc.render.model import ChartResult, ChartUnavailable, Rendered
from gitops_poc.render.references import with_platform_objects
from gitops_poc.render.service import (
    chart_ref,
    check_target,
    prepare_chart,
    render_manifests,
    render_values,
    service_directory,
)
from gitops_poc.render.validate import (
    ValidationReport,
    parse_kube_version,
    validate_manifests,
)
from gitops_poc.yamlio import dump

ServiceDirOption = typer.Option(
    None,
    "--service-dir",
    help="A standalone clone of the service repository (default: ROOT/services/SERVICE).",
    file_okay=False,
)
ChartOption = typer.Option(
    None,
    "--chart",
    help="Render with this chart folder or .tgz instead of the pinned CHART_REPO/NAME/VERSION.",
)
ChartVersionOption = typer.Option(
    None,
    "--chart-version",
    help="Render with this version of the pinned chart (same CHART_REPO/CHART_NAME), e.g. to try an upgrade.",
)
RenderKubeVersionOption = typer.Option(
    None,
    "--kube-version",
    help="Kubernetes version to render and validate for (default: KUBERNETES_VERSION of the configuration).",
)
SEVERITY_STYLE = {
    ManifestSeverity.ERROR: "red",
    ManifestSeverity.WARNING: "yellow",
    ManifestSeverity.SKIPPED: "dim",
}


class RenderFormat(StrEnum):
    yaml = "yaml"
    json = "json"


class ValidationFailed(GitopsError):
    """Rendered manifests the API server would reject."""


def jsonable(data: Any) -> Any:
    """Values files may hold YAML timestamps and the like; JSON gets their text."""
    return json.loads(json.dumps(data, default=str))


def chart_for(
    platform: Platform, root: Path, chart: Path | None, version: str | None = None, env: str | None = None
) -> tuple[Helm, ChartResult]:
    """helm plus the chart (of `env`), with progress on stderr when a pull is needed."""
    if chart is not None and version is not None:
        raise UsageError("give --chart PATH or --chart-version VERSION, not both")
    return prepare_chart(platform, root, chart, on_pull=progress, version=version, env=env)


def progress(message: str) -> None:
    err.print(message, markup=False)


def require_chart(chart: ChartResult) -> None:
    """A chart version asked for by name must be had: without it there is nothing to show."""
    if isinstance(chart, ChartUnavailable):
        raise UsageError(f"{chart.note}; check --chart-version against the versions CHART_REPO offers")


def unavailable_note(chart: ChartResult) -> str | None:
    if isinstance(chart, ChartUnavailable):
        return (
            f"{chart.note}. Showing merged values only; pass --chart PATH to render with a local copy of the"
            " chart."
        )
    return None


def show_findings(report: ValidationReport) -> None:
    for finding in report.findings:
        style = SEVERITY_STYLE[finding.severity]
        err.print(f"[{style}]{finding.severity.value:7}[/] ", end="")
        err.print(str(finding), markup=False)
    err.print(
        f"Validated for Kubernetes {report.kube_version} (schemas {report.schema_version}): "
        f"{report.validated} checked against a schema, {len(report.errors)} error(s), "
        f"{len(report.warnings)} warning(s), {len(report.skipped)} not validated (custom resources)",
        markup=False,
    )


def manifests_yaml(rendered: Rendered) -> str:
    return "".join(f"---\n# Source: {m.source}\n{m.text}" for m in rendered.manifests or ())


def rendered_json(rendered: Rendered, report: ValidationReport | None) -> dict[str, Any]:
    chart = rendered.chart
    return {
        "service": rendered.service,
        "environment": rendered.env,
        "namespace": rendered.namespace,
        "release": rendered.release,
        "revision": rendered.revision,
        "valueFiles": [rendered.file_label(f) for f in rendered.value_files],
        "values": jsonable(rendered.values),
        "chart": chart.description if chart is not None and not isinstance(chart, ChartUnavailable) else None,
        "note": unavailable_note(chart) if chart is not None else None,
        "manifests": None if rendered.manifests is None else [jsonable(m.body) for m in rendered.manifests],
        "validation": (
            None
            if report is None
            else {
                "kubeVersion": report.kube_version,
                "schemaVersion": report.schema_version,
                "ok": report.ok,
                "findings": [
                    {
                        "severity": f.severity.value,
                        "manifest": f.manifest,
                        "source": f.source,
                        "message": f.message,
                    }
                    for f in report.findings
                ],
            }
        ),
    }


def render(
    service: str = typer.Argument(..., help="Service name (one of SERVICES)."),
    env: str = typer.Argument(..., help="Environment (one of ENVIRONMENTS)."),
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    service_dir: Path | None = ServiceDirOption,
    chart: Path | None = ChartOption,
    chart_version: str | None = ChartVersionOption,
    kube_version: str | None = RenderKubeVersionOption,
    values_only: bool = typer.Option(
        False, "--values-only", help="Only merge the value files; no chart, no helm."
    ),
    no_validate: bool = typer.Option(
        False, "--no-validate", help="Skip the offline validation of the manifests."
    ),
    output: RenderFormat = typer.Option(
        RenderFormat.yaml, "--output", "-o", help="yaml, or json for scripts."
    ),
) -> int:
    """Render SERVICE for ENV as ArgoCD would; validate the manifests offline.

    Value files .cicd/default.yaml then .cicd/ENV.yaml, merged as Helm does.
    helm template with ArgoCD's release name, namespace and value-file order.
    Objects checked against the Kubernetes schemas and the API server's rules.
    --chart-version V: another version of the pinned chart (an upgrade preview).
    No chart (no network, no --chart): the merged values and a note, exit 0.
    Exit 1 when a manifest would be rejected, 2 on bad input.
    """
    if kube_version is not None and not values_only:
        parse_kube_version(kube_version, for_validation=not no_validate)  # bad input before any work
    platform = load_platform(root, env_file)
    kube_version = kube_version or platform.config.kubernetes_version
    if not values_only:
        parse_kube_version(kube_version, for_validation=not no_validate)
        if chart_version is not None:
            chart_ref(platform, chart_version)
    check_target(platform, service, env)
    rendered = render_values(platform, service_directory(root, service, service_dir), service, env)
    if not values_only:
        helm, chart_result = chart_for(platform, root, chart, chart_version, env)
        if chart_version is not None:
            require_chart(chart_result)
        rendered = render_manifests(rendered, helm, chart_result, kube_version)
    report = None
    if rendered.manifests is not None and not no_validate:
        crds = load_crd_schemas(platform.config, helm, os.environ, on_pull=progress)
        report = validate_manifests(rendered.manifests, kube_version, crds)
        production = platform.owns_disruption_budget(env)
        report = with_platform_objects(report, rendered, root, kube_version, production, crds)

    if rendered.chart is not None and (note := unavailable_note(rendered.chart)):
        err.print(f"note: {note}", markup=False)
    if output is RenderFormat.json:
        print_json(rendered_json(rendered, report))
    elif rendered.manifests is None:
        out.out(dump(rendered.values), end="", highlight=False)
    else:
        out.out(manifests_yaml(rendered), end="", highlight=False)
    if rendered.manifests is not None:
        err.print(
            f"Rendered {service} for {env}: {len(rendered.manifests)} object(s), release {rendered.release}, "
            f"namespace {rendered.namespace}, {getattr(rendered.chart, 'description', '')}",
            markup=False,
        )
    if report is not None:
        show_findings(report)
        if not report.ok:
            files = ", ".join(rendered.file_label(f) for f in rendered.value_files)
            raise ValidationFailed(
                f"{service} for {env}: {len(report.errors)} problem(s) the Kubernetes {report.kube_version}"
                f" API server would reject (values from {files})"
            )
    return 0
