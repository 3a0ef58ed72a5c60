"""The render cache: keyed by everything `helm template` output depends on; a hit runs no helm."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_poc.render.cache import RenderCache, render_key
from gitops_poc.render.helm import Helm, HelmNotFound
from gitops_poc.render.model import LocalChart, Rendered
from gitops_poc.render.service import render_manifests
from gitops_poc.values import ValuesFile, parse_values

pytestmark = pytest.mark.helm

VALUES = (
    "appName: web\nservice: {type: ClusterIP}\n"
    "image: {repository: registry.example.org/web, tag: '1.0'}\nreplicas: 2\n"
)


def rendered(folder: Path, text: str, namespace: str = "poc-dev", release: str = "web") -> Rendered:
    path = folder / f"values-{len(list(folder.glob('values-*')))}.yaml"
    path.write_text(text, encoding="utf-8")
    files = (ValuesFile(path, text, parse_values(text, str(path))),)
    return Rendered("web", "dev", namespace, release, None, files, dict(files[0].data))


def test_every_input_is_in_the_key(k8app_charts: Callable[[str], Path]) -> None:
    old, new = k8app_charts("3.12.1"), k8app_charts("3.13.0")
    key = render_key(old, [VALUES], "web", "poc-dev", "1.34.0")
    assert key == render_key(old, [VALUES], "web", "poc-dev", "1.34.0")
    others = {
        render_key(new, [VALUES], "web", "poc-dev", "1.34.0"),
        render_key(old, [VALUES + "# x\n"], "web", "poc-dev", "1.34.0"),
        render_key(old, [VALUES, ""], "web", "poc-dev", "1.34.0"),
        render_key(old, [VALUES], "web2", "poc-dev", "1.34.0"),
        render_key(old, [VALUES], "web", "poc-prod", "1.34.0"),
        render_key(old, [VALUES], "web", "poc-dev", "1.33.0"),
    }
    assert key not in others and len(others) == 6


def test_a_hit_runs_no_helm_and_gives_the_same_manifests(
    k8app_charts: Callable[[str], Path], helm: str, tmp_path: Path
) -> None:
    chart = LocalChart(k8app_charts("3.13.0"), "app 3.13.0")
    cache = RenderCache(tmp_path / "renders")
    first = render_manifests(rendered(tmp_path, VALUES), Helm(helm), chart, "1.34.0", cache)
    assert (cache.hits, cache.misses) == (0, 1)
    missing_helm = Helm(str(tmp_path / "no-helm"))
    second = render_manifests(rendered(tmp_path, VALUES), missing_helm, chart, "1.34.0", cache)
    assert (cache.hits, cache.misses) == (1, 1)
    assert first.manifests == second.manifests and first.manifests
    # Another value: a miss, rendered by helm (which is missing here: it fails).
    with pytest.raises(HelmNotFound):
        render_manifests(rendered(tmp_path, VALUES.replace("2", "3")), missing_helm, chart, "1.34.0", cache)
