"""What ArgoCD renders for one Application: the chart source (repository, chart, version, release, value
files) and the values source it refers to as `$values`, read from one side's platform folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_poc.argocd.applications import Application
from gitops_poc.layout import service_dir
from gitops_poc.render.model import ChartRef, Rendered
from gitops_poc.servicerepo import read_values_file
from gitops_poc.values import ValuesFile, merge_files

VALUES_REF = "$values/"


@dataclass(frozen=True)
class RenderInput:
    """Everything `helm template` output depends on for one Application, except the chart's own files."""

    chart: ChartRef
    release: str
    namespace: str
    value_files: tuple[ValuesFile, ...]

    def identity(self) -> tuple[Any, ...]:
        """Equal identities render equally: the Application is unaffected by the change."""
        return (self.chart, self.release, self.namespace, tuple(f.text for f in self.value_files))

    def rendered(self, app: Application) -> Rendered:
        files = self.value_files
        return Rendered(
            app.service,
            app.environment,
            self.namespace,
            self.release,
            None,
            files,
            merge_files(f.data for f in files),
        )


def _chart_source(app: Application) -> dict[str, Any] | None:
    sources = app.spec.get("sources")
    candidates = sources if isinstance(sources, list) else [app.spec.get("source")]
    for source in candidates:
        if isinstance(source, dict) and source.get("chart"):
            return source
    return None


def render_input(app: Application, tree: Path) -> RenderInput | str:
    """The render input of `app` with its values read from `tree`, or why it cannot be rendered offline."""
    source = _chart_source(app)
    if source is None:
        return "not a Helm chart Application: its objects are not rendered here"
    helm = source.get("helm") if isinstance(source.get("helm"), dict) else {}
    assert isinstance(helm, dict)
    folder = service_dir(tree, app.service)
    files = []
    for entry in helm.get("valueFiles") or []:
        text = str(entry)
        if not text.startswith(VALUES_REF):
            return f"value file {text} is not in the service repository ($values/...): not rendered here"
        path = folder / text.removeprefix(VALUES_REF)
        values_file = read_values_file(path, within=folder)
        if values_file.text is None:
            return f"value file {text} does not exist in services/{app.service}: ArgoCD fails to render it"
        files.append(values_file)
    return RenderInput(
        ChartRef(str(source.get("repoURL", "")), str(source["chart"]), str(source.get("targetRevision", ""))),
        str(helm.get("releaseName") or app.name),
        app.destination_namespace,
        tuple(files),
    )
