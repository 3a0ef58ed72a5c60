"""The schemas of the platform's custom resources: the CustomResourceDefinitions the pinned charts ship.

The Vault Secrets Operator chart (VSO_CHART_VERSION) defines VaultAuth, VaultStaticSecret, VaultConnection,
...; the Argo CD chart (ARGOCD_CHART_VERSION) defines Application, ApplicationSet and AppProject. Each chart
is pulled into the chart cache as `render` pulls the k8app chart, its CRDs are extracted with
`helm template --include-crds` (the VSO chart keeps them in crds/, Argo CD's in templates/crds/), and each
served version's `openAPIV3Schema` is stored beside the cached chart (`.gitops-poc-crds.json`), so a later
run reads one JSON file and needs no helm. Never a hand-written schema: what the API server of a cluster
with those CRDs installed accepts is what the charts say."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gitops_poc import fileio
from gitops_poc.config import Config
from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.render.chart import cache_root, cached_chart, resolve_chart
from gitops_poc.render.crdschema import CrdSchema, CrdSchemas, schemas_of
from gitops_poc.render.helm import Helm
from gitops_poc.render.model import ChartRef, ChartUnavailable

CACHE_FILE = ".gitops-poc-crds.json"  # beside the cached chart, so it follows the chart's repository marker
CACHE_FORMAT = 1
CRD_KIND = "CustomResourceDefinition"


def crd_charts(config: Config) -> tuple[ChartRef, ...]:
    """The pinned charts whose CRDs the platform's objects use."""
    return (
        ChartRef(config.hashicorp_helm_repo, "vault-secrets-operator", config.vso_chart_version),
        ChartRef(config.argo_helm_repo, "argo-cd", config.argocd_chart_version),
    )


def extract_crds(chart_path: Path, helm: Helm) -> list[dict[str, Any]]:
    """The CustomResourceDefinition documents the chart installs (crds/ and templates alike)."""
    from gitops_poc.render.manifests import DOCUMENT_SEPARATOR, SOURCE_LINE
    from gitops_poc.yamlio import load_k8s

    output = helm.run(["template", "--include-crds", "--", "crds", chart_path])
    crds = []
    for chunk in DOCUMENT_SEPARATOR.split(output):
        # Parse only the CRDs: the rest of a chart like Argo CD's is most of the text.
        if f"kind: {CRD_KIND}" not in chunk:
            continue
        body = load_k8s(SOURCE_LINE.sub("", chunk), f"{chart_path}: CRD")
        if isinstance(body, dict) and body.get("kind") == CRD_KIND:
            crds.append(body)
    return crds


def _read_cache(path: Path) -> list[CrdSchema] | None:
    try:
        data = json.loads(fileio.read_bytes(path, fileio.CRD_CACHE))
    except (UsageError, ValueError):  # absent, not a file, too big, damaged: extract again
        return None
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        return None
    items = data.get("schemas")
    fields = ("group", "version", "kind", "chart")
    if not isinstance(items, list) or not items:
        return None
    for item in items:  # anything else than what _write_cache wrote: extract again
        if not (
            isinstance(item, dict)
            and all(isinstance(item.get(f), str) for f in fields)
            and isinstance(item.get("schema"), dict)
        ):
            return None
    return [
        CrdSchema(item["group"], item["version"], item["kind"], item["schema"], item["chart"])
        for item in items
    ]


def _write_cache(path: Path, schemas: list[CrdSchema]) -> None:
    """Temporary file + rename: a concurrent reader sees the whole file or none."""
    data = {"format": CACHE_FORMAT, "schemas": [s.__dict__ for s in schemas]}
    with contextlib.suppress(UsageError):  # a read-only or full cache: extract again next time
        fileio.write_atomic(path, json.dumps(data))


def chart_schemas(
    ref: ChartRef, helm: Helm, cache: Path, on_pull: Callable[[str], None] | None = None
) -> list[CrdSchema] | str:
    """The CRD schemas of one pinned chart (cached), or why they could not be had."""
    chart = resolve_chart(ref, chart_path=None, helm=helm, cache=cache, on_pull=on_pull)
    if isinstance(chart, ChartUnavailable):
        return chart.note
    cached = chart.path / CACHE_FILE
    if (found := _read_cache(cached)) is not None:
        return found
    try:
        schemas = schemas_of(extract_crds(chart.path, helm), f"{ref.name} {ref.version}")
    except GitopsError as exc:
        return f"cannot extract the CRDs of {ref.name} {ref.version}: {exc}"
    if not schemas:
        return f"chart {ref.name} {ref.version} ships no CustomResourceDefinition"
    _write_cache(cached, schemas)
    return schemas


def load_crd_schemas(
    config: Config,
    helm: Helm | None,
    environ: Mapping[str, str],
    on_pull: Callable[[str], None] | None = None,
) -> CrdSchemas:
    """The CRD schemas of the platform's pinned charts (VSO, Argo CD); a chart that cannot be had (no helm,
    no network) leaves its custom resources not validated, with the reason."""
    result = CrdSchemas()
    for ref in crd_charts(config):
        if helm is None:
            hit = cached_chart(ref, cache_root(environ))
            cached = None if hit is None else _read_cache(hit.path / CACHE_FILE)
            found: list[CrdSchema] | str = cached if cached is not None else "helm is not installed"
        else:
            found = chart_schemas(ref, helm, cache_root(environ), on_pull)
        if isinstance(found, str):
            result.unavailable.append(f"{ref.name} {ref.version}: {found}")
        else:
            for schema in found:
                result.add(schema)
    return result
