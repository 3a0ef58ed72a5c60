"""Render one service in one environment the way ArgoCD does: values, chart, `helm template`, manifests."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from gitops_poc.config import SEMVER, environment_error
from gitops_poc.errors import UsageError
from gitops_poc.layout import service_dir
from gitops_poc.platform import Platform
from gitops_poc.render.cache import RenderCache, render_key
from gitops_poc.render.chart import cache_root, resolve_chart
from gitops_poc.render.helm import Helm, HelmError, find_helm
from gitops_poc.render.manifests import parse_manifests
from gitops_poc.render.model import ChartRef, ChartResult, ChartUnavailable, LocalChart, Rendered
from gitops_poc.servicerepo import read_values
from gitops_poc.values import merge_files


def check_target(platform: Platform, service: str, env: str) -> None:
    """Bad input is exit 2: a service or environment the platform does not have."""
    if service not in platform.services:
        raise UsageError(f"unknown service {service!r}; SERVICES has: {' '.join(platform.services)}")
    if problem := environment_error(env, platform.environments):
        raise UsageError(problem)


def service_directory(root: Path, service: str, override: Path | None = None) -> Path:
    """`<root>/services/<service>`, or a standalone clone given with `--service-dir`."""
    directory = override if override is not None else service_dir(root, service)
    if not directory.is_dir():
        what = "is not a folder" if os.path.lexists(directory) else "does not exist"
        raise UsageError(f"service folder {directory} {what} (pass --service-dir for a standalone clone)")
    return directory


def render_values(
    platform: Platform, directory: Path, service: str, env: str, revision: str | None = None
) -> Rendered:
    """Read the value files ArgoCD would pass and merge them. A missing file fails as it does in ArgoCD."""
    check_target(platform, service, env)
    files, _ = read_values(directory, env, revision)
    for values_file in files:
        if values_file.text is None:
            where = f"{values_file.path}@{revision}" if revision else str(values_file.path)
            raise UsageError(f"{where} does not exist; ArgoCD fails to render when a value file is missing")
    return Rendered(
        service,
        env,
        platform.namespace(env),
        platform.release_name(service),
        revision,
        tuple(files),
        merge_files(f.data for f in files),
    )


def chart_ref(platform: Platform, version: str | None = None, env: str | None = None) -> ChartRef:
    """The pinned chart (of `env`), or another version of it from the same repository (`--chart-version`)."""
    ref = ChartRef.from_config(platform.config, env)
    if version is None:
        return ref
    if not SEMVER.match(version):
        raise UsageError(f"--chart-version {version!r} is not an exact chart version such as 3.12.1")
    return replace(ref, version=version)


def prepare_chart(
    platform: Platform,
    root: Path,
    chart_path: Path | None,
    environ: Mapping[str, str] = os.environ,
    on_pull: Callable[[str], None] | None = None,
    version: str | None = None,
    env: str | None = None,
) -> tuple[Helm, ChartResult]:
    """The helm binary and the chart: `--chart PATH`, else the pinned chart of `env` (or `version` of it)
    from the cache or pulled once."""
    helm = Helm(find_helm(root))
    ref = chart_ref(platform, version, env)
    return helm, resolve_chart(
        ref, chart_path=chart_path, helm=helm, cache=cache_root(environ), on_pull=on_pull
    )


def _safe_name(revision: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", revision)[:60]


@dataclass(frozen=True)
class Output:
    """One render's `helm template` output, not parsed yet; `key` while it is still to be cached."""

    text: str
    key: str | None = None


def template_output(
    rendered: Rendered,
    helm: Helm,
    chart: LocalChart,
    kube_version: str | None,
    cache: RenderCache | None = None,
) -> Output:
    """`helm template` with the real value files (copies in a temp folder when read from a revision); with
    `cache`, an identical render done before is read back instead."""
    if cache is None:
        return Output(_template(rendered, helm, chart, kube_version))
    texts = [f.text or "" for f in rendered.value_files]
    key = render_key(chart.path, texts, rendered.release, rendered.namespace, kube_version)
    if (hit := cache.get(key)) is not None:
        return Output(hit)
    return Output(_template(rendered, helm, chart, kube_version), key)


def with_manifests(
    rendered: Rendered, chart: LocalChart, output: Output, cache: RenderCache | None = None
) -> Rendered:
    """`rendered` with the objects of `output`, which goes into `cache` first when helm made it (output that
    does not parse too: the same inputs fail the same way)."""
    if cache is not None and output.key is not None:
        cache.put(output.key, output.text)
    manifests = parse_manifests(output.text, f"{rendered.service}/{rendered.label}")
    return replace(rendered, chart=chart, manifests=tuple(manifests))


def render_manifests(
    rendered: Rendered,
    helm: Helm,
    chart: ChartResult,
    kube_version: str | None,
    cache: RenderCache | None = None,
) -> Rendered:
    """The objects `helm template` renders for `rendered` (template_output, then with_manifests)."""
    if isinstance(chart, ChartUnavailable):
        return replace(rendered, chart=chart)
    return with_manifests(rendered, chart, template_output(rendered, helm, chart, kube_version, cache), cache)


def _template(rendered: Rendered, helm: Helm, chart: LocalChart, kube_version: str | None) -> str:
    with _value_file_paths(rendered) as (paths, labels):
        try:
            return helm.template(rendered.release, chart.path, rendered.namespace, paths, kube_version)
        except HelmError as exc:
            message = str(exc)
            for path, label in zip(paths, labels, strict=True):
                message = message.replace(str(path), label)
            raise HelmError(
                f"rendering {rendered.service} for {rendered.label} with {chart.description} and "
                f"{', '.join(labels)}: {message}"
            ) from None


@contextmanager
def _value_file_paths(rendered: Rendered) -> Iterator[tuple[list[Path], list[str]]]:
    """The value files to pass helm: the files themselves, or copies in a temporary folder when read from a
    revision (only then: a review renders thousands from the working tree)."""
    labels = [rendered.file_label(f) for f in rendered.value_files]
    if rendered.revision is None:
        yield [f.path for f in rendered.value_files], labels
        return
    with tempfile.TemporaryDirectory(prefix="gitops-poc-values-") as tmp:
        folder = Path(tmp) / _safe_name(rendered.revision)
        folder.mkdir()
        paths = []
        for values_file in rendered.value_files:
            path = folder / values_file.path.name
            path.write_text(values_file.text or "", encoding="utf-8")
            paths.append(path)
        yield paths, labels


def render_service(
    platform: Platform,
    directory: Path,
    service: str,
    env: str,
    *,
    helm: Helm,
    chart: ChartResult,
    revision: str | None = None,
    kube_version: str | None = None,
) -> Rendered:
    """Values, then manifests where the chart is available."""
    return render_manifests(
        render_values(platform, directory, service, env, revision), helm, chart, kube_version
    )
