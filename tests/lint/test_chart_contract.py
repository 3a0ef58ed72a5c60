"""The chart contract lint relies on (lint/chart.py, k8app.py), checked against the published chart itself.

The keys are read from the real templates and values.yaml of the pinned version, so the contract data
and the chart cannot drift apart unnoticed; what a version needs to render is checked by rendering it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitops_poc import k8app
from gitops_poc.lint import chart
from gitops_poc.yamlio import load_all_plain, load_plain

pytestmark = pytest.mark.helm

# `.Values.a.b`, `$.Values.a.b`, `$root.Values.a.b`: the top-level key and the path below it.
READ = re.compile(r"\bValues\.([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)*)")
NOTES = "NOTES.txt"  # renders no object, but can make a render fail


def reads(chart_dir: Path, *, notes: bool = True) -> dict[str, set[str]]:
    """Top-level key -> the sub-keys the templates read under it."""
    found: dict[str, set[str]] = {}
    for path in sorted((chart_dir / "templates").rglob("*")):
        if not path.is_file() or (path.name == NOTES and not notes):
            continue
        for top, rest in READ.findall(path.read_text(encoding="utf-8")):
            subkeys = found.setdefault(top, set())
            if rest:
                subkeys.add(rest.split(".")[1])
    return found


def values_yaml(chart_dir: Path) -> dict[str, Any]:
    data = load_plain((chart_dir / "values.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_top_level_keys_are_exactly_what_the_chart_reads(k8app_chart: Path) -> None:
    in_chart = set(reads(k8app_chart)) | set(values_yaml(k8app_chart))
    assert "valult" in in_chart  # read only to fail on purpose: lint reports it as a foreign key
    assert set(chart.KNOWN_TOP_LEVEL) == in_chart - {"valult"}
    assert not set(chart.UNSUPPORTED_TOP_LEVEL) & in_chart
    assert set(chart.FOREIGN_KEY_HINTS) & in_chart == {"valult"}


@pytest.mark.parametrize("block", sorted(chart.KNOWN_SUBKEYS))
def test_documented_blocks_list_every_subkey_the_chart_reads(block: str, k8app_chart: Path) -> None:
    defaults = values_yaml(k8app_chart).get(block) or {}
    in_chart = reads(k8app_chart)[block] | set(defaults)
    if block in chart.PROBES:
        # The mode names are sub-keys too (httpGet, tcpSocket, ...), read with `eq .Values.<probe>.mode "x"`.
        assert set(chart.KNOWN_SUBKEYS[block]) == in_chart | set(chart.PROBE_MODES)
    elif block == "hpa":
        # minReplicas is read by NOTES.txt only, for display: the HPA takes its minimum from `replicas`.
        assert reads(k8app_chart, notes=False)["hpa"] & set(chart.IGNORED_HPA_KEYS) == set()
        assert set(chart.KNOWN_SUBKEYS[block]) == in_chart - set(chart.IGNORED_HPA_KEYS)
    else:
        assert set(chart.KNOWN_SUBKEYS[block]) == in_chart


def test_probe_modes_and_service_port_keys(k8app_chart: Path) -> None:
    deployment = (k8app_chart / "templates" / "deployment.yaml").read_text(encoding="utf-8")
    for probe in chart.PROBES:
        modes = set(re.findall(rf'eq \.Values\.{probe}\.mode "(\w+)"', deployment))
        assert modes == set(chart.PROBE_MODES)
    service = (k8app_chart / "templates" / "service.yaml").read_text(encoding="utf-8")
    assert set(re.findall(r"\$value\.(\w+)", service)) == set(chart.SERVICE_PORT_KEYS)
    assert f"default {chart.DEFAULT_SERVICE_PORT} $value.externalPort" in service


def test_dead_keys_are_in_values_yaml_but_not_read_where_claimed(k8app_chart: Path) -> None:
    assert list(chart.DEAD_KEYS) == [("nodeSelector",)]
    assert "nodeSelector" in values_yaml(k8app_chart)
    deployment = (k8app_chart / "templates" / "deployment.yaml").read_text(encoding="utf-8")
    assert "nodeSelector" not in deployment


def _leaves(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    out: dict[tuple[str, ...], Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_leaves(value, (*prefix, key)))
        else:
            out[(*prefix, key)] = value
    return out


def test_defaults_are_the_charts(k8app_chart: Path) -> None:
    chart_values = _leaves(values_yaml(k8app_chart))
    templates = "".join(p.read_text(encoding="utf-8") for p in (k8app_chart / "templates").rglob("*.yaml"))
    for path, value in _leaves(chart.DEFAULTS).items():
        if path in chart_values:
            assert chart_values[path] == value, path
        else:  # a default the template writes: `default "policy/v1" .Values.pdb.apiVersion`
            assert f'default "{value}" .Values.{".".join(path)}' in templates, path


def render(helm: str, chart_dir: Path, values: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "values.yaml"
    path.write_text(values)
    return subprocess.run(
        [helm, "template", "rel", str(chart_dir), "-n", "ns", "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


MINIMAL = "appName: demo\nimage: {repository: demo, tag: '1'}\n"


@pytest.mark.parametrize("version", ["3.12.1", "3.13.0"])
def test_required_keys_are_what_each_version_cannot_render_without(
    version: str, helm: str, k8app_charts: Callable[[str], Path], tmp_path: Path
) -> None:
    chart_dir = k8app_charts(version)
    required = k8app.required_keys(version)
    without = render(helm, chart_dir, MINIMAL, tmp_path)
    if not required:
        assert without.returncode == 0, without.stderr
        return
    assert without.returncode != 0 and "wrong type for value; expected string" in without.stderr
    lines = "".join(f"{keys[0]}: {{{keys[1]}: {value}}}\n" for keys, value in required.items())
    with_keys = render(helm, chart_dir, MINIMAL + lines, tmp_path)
    assert with_keys.returncode == 0, with_keys.stderr
    for keys, (text, _) in k8app.failing_values(version).items():
        failing = render(helm, chart_dir, MINIMAL + f"{keys[0]}: {{{keys[1]}: {text}}}\n", tmp_path)
        assert failing.returncode != 0 and "NOTES.txt" in failing.stderr
    for keys in required:
        assert keys[1] not in (values_yaml(chart_dir).get(keys[0]) or {})


def test_pod_selector_labels_are_the_charts(helm: str, k8app_chart: Path, tmp_path: Path) -> None:
    result = render(helm, k8app_chart, MINIMAL + "service: {type: ClusterIP}\n", tmp_path)
    [deployment] = [d for d in load_all_plain(result.stdout) if d and d["kind"] == "Deployment"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert tuple(sorted(selector)) == tuple(sorted(k8app.POD_SELECTOR_LABELS))
    assert selector == {"app": "demo", "release": "rel"}
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


DEFECT_VALUES = {
    k8app.HPA_BEHAVIOR: (
        "hpa: {enabled: true, behavior: {scaleDown: {stabilizationWindowSeconds: 300}}}\n",
        "hpa: {enabled: true}\n",
        "kube-hpa.yaml",
    ),
    k8app.RBAC_NO_RESOURCES: (
        "rbac: {create: true}\n",
        "rbac: {create: true, resources: [pods]}\n",
        "rbac.yaml",
    ),
}


@pytest.mark.parametrize("version", ["3.12.1", "3.13.0"])
@pytest.mark.parametrize("defect", sorted(DEFECT_VALUES))
def test_render_defects_are_what_each_version_fails_to_render(
    defect: str, version: str, helm: str, k8app_charts: Callable[[str], Path], tmp_path: Path
) -> None:
    """k8app.RENDER_DEFECTS lists a defect for a version exactly when that version's chart fails on it, and
    the neighbouring values (the HPA without behavior, rbac with resources) render."""
    chart_dir = k8app_charts(version)
    base = MINIMAL + "".join(f"{k[0]}: {{{k[1]}: {v}}}\n" for k, v in k8app.required_keys(version).items())
    failing, fine, template = DEFECT_VALUES[defect]
    result = render(helm, chart_dir, base + failing, tmp_path)
    if defect in k8app.render_defects(version):
        assert result.returncode != 0
        assert f"YAML parse error on app/templates/{template}" in result.stderr, result.stderr
    else:
        assert result.returncode == 0, result.stderr
    assert render(helm, chart_dir, base + fine, tmp_path).returncode == 0


def test_rbac_with_resources_renders_a_cluster_role_no_current_kubernetes_serves(
    helm: str, k8app_chart: Path, tmp_path: Path
) -> None:
    from gitops_poc.render.manifests import parse_manifests
    from gitops_poc.render.validate import validate_manifests

    values = MINIMAL + "service: {type: ClusterIP}\nrbac: {create: true, resources: [pods]}\n"
    result = render(helm, k8app_chart, values, tmp_path)
    assert result.returncode == 0, result.stderr
    [error] = validate_manifests(parse_manifests(result.stdout), "1.30").errors
    assert error.manifest == "ClusterRole/ns-demo" and "v1beta1" in error.message
