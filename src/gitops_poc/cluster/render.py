"""Render an infrastructure release offline with its real pinned chart and validate the objects.

`helm pull --repo URL --version V` into the chart cache (as users pull it), `helm template` with the
release's values files, then the schemas of the configured Kubernetes version. Also reports values keys the
chart does not know (Helm would ignore them silently).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gitops_poc import fileio
from gitops_poc.argv import Opt, Part, Value
from gitops_poc.cluster.model import HelmRelease, nested
from gitops_poc.cluster.values_keys import unknown_keys
from gitops_poc.errors import GitopsError
from gitops_poc.render.chart import cache_root, resolve_chart
from gitops_poc.render.crdschema import CrdSchemas, schemas_of
from gitops_poc.render.helm import Helm
from gitops_poc.render.manifests import Manifest, parse_manifests
from gitops_poc.render.model import ChartRef, ChartUnavailable
from gitops_poc.render.validate import ValidationReport, validate_manifests
from gitops_poc.yamlio import load_k8s


@dataclass(frozen=True)
class RenderedRelease:
    release: HelmRelease
    manifests: tuple[Manifest, ...]
    validation: ValidationReport
    unknown_values: tuple[str, ...]  # "file: dotted.key"

    @property
    def ok(self) -> bool:
        return self.validation.ok and not self.unknown_values


def _load(path: Path) -> object:
    return load_k8s(fileio.read_text(path, fileio.YAML_FILE), str(path))


def own_crds(release: HelmRelease, manifests: tuple[Manifest, ...], crds: CrdSchemas | None) -> CrdSchemas:
    """`crds` (the pinned charts' CRDs, when given) plus the CRDs the release itself installs: its custom
    resources (the operator's default VaultConnection) are validated against its own chart's."""
    found = CrdSchemas(dict(crds.schemas), dict(crds.groups)) if crds is not None else CrdSchemas()
    bodies = [m.body for m in manifests if m.kind == "CustomResourceDefinition"]
    for schema in schemas_of(bodies, f"{release.chart} {release.version}"):
        found.add(schema)
    return found


def render_release(
    release: HelmRelease,
    helm: Helm,
    kube_version: str,
    environ: Mapping[str, str],
    extra_values: tuple[Path, ...] = (),
    crds: CrdSchemas | None = None,
) -> RenderedRelease:
    """Pull, template and validate `release` as it would be installed (private values as extra files,
    --set-string values as given); custom resources against the release's own CRDs and `crds`."""
    chart = resolve_chart(
        ChartRef(release.repo, release.chart, release.version),
        chart_path=None,
        helm=helm,
        cache=cache_root(environ),
    )
    if isinstance(chart, ChartUnavailable):
        raise GitopsError(chart.note)
    files = [Path(p) for p in release.values_files] + list(extra_values)
    defaults = _load(chart.path / "values.yaml")
    unknown = tuple(
        f"{path.name}: {key}"
        for path in files
        for key in unknown_keys(defaults, _load(path), chart=release.chart)
    ) + tuple(
        f"--set-string: {key}"
        for key in unknown_keys(defaults, nested(dict(release.set_strings)), chart=release.chart)
    )
    args: list[Part] = [
        "template",
        Opt("--namespace", release.namespace),
        "--include-crds",
        Opt("--kube-version", kube_version),
    ]
    args += [Opt("--values", path) for path in files]
    args += [Opt("--set-string", f"{key}={value}") for key, value in release.set_strings]
    args += ["--", Value(release.name, "release"), chart.path]
    manifests = tuple(parse_manifests(helm.run(args), f"{release.chart} {release.version}"))
    validation = validate_manifests(manifests, kube_version, own_crds(release, manifests, crds))
    return RenderedRelease(release, manifests, validation, unknown)
