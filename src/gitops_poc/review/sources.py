"""What ArgoCD renders for one Application: the chart source (repository, chart, version, release, value
files) and the values source it refers to as `$values`, read from one side's platform folder."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_poc.argocd.applications import Application
from gitops_poc.layout import service_dir, value_files
from gitops_poc.platform import Platform
from gitops_poc.render.model import ChartRef, Rendered
from gitops_poc.values import ValuesFile, merge_files, parse_values
from gitops_poc.yamlio import read_text

VALUES_REF = "$values/"


@dataclass(frozen=True)
class RenderInput:
    """Everything `helm template` output depends on for one Application, except the chart's own files.
    Value files are kept as text: comparing two sides needs no YAML parsing."""

    chart: ChartRef
    release: str
    namespace: str
    value_texts: tuple[tuple[Path, str], ...]

    def identity(self) -> tuple[Any, ...]:
        """Equal identities render equally: the Application is unaffected by the change."""
        return (self.chart, self.release, self.namespace, tuple(text for _, text in self.value_texts))

    def rendered(self, service: str, env: str) -> Rendered:
        """The values parsed (UsageError on a file that does not parse), ready for `helm template`."""
        files = tuple(_values_file(path, text) for path, text in self.value_texts)
        return Rendered(
            service,
            env,
            self.namespace,
            self.release,
            None,
            files,
            merge_files(f.data for f in files),
        )


@functools.lru_cache(maxsize=4096)
def _values_file(path: Path, text: str) -> ValuesFile:
    # A chart bump renders every file on both sides and a service's shared file in every environment: each
    # distinct file is parsed once. Nothing changes a parsed file (merge_files copies).
    return ValuesFile(path, text, parse_values(text, str(path)))


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
        content = read_text(path, folder)
        if content is None:
            return f"value file {text} does not exist in services/{app.service}: ArgoCD fails to render it"
        files.append((path, content))
    return RenderInput(
        ChartRef(str(source.get("repoURL", "")), str(source["chart"]), str(source.get("targetRevision", ""))),
        str(helm.get("releaseName") or app.name),
        app.destination_namespace,
        tuple(files),
    )


def service_inputs(
    platform: Platform, folder: Path, service: str, env: str, chart: ChartRef
) -> RenderInput | str:
    """The render input of `service` in `env` with `chart`, its value files read from the service folder,
    or why it cannot be rendered (a value file missing fails in Argo CD too)."""
    texts = []
    for name in value_files(env):
        text = read_text(folder / name, folder)
        if text is None:
            return f"{name} does not exist: ArgoCD fails to render {env}"
        texts.append((folder / name, text))
    return RenderInput(chart, platform.release_name(service), platform.namespace(env), tuple(texts))
