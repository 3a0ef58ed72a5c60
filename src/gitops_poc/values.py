"""Helm values: merging value files (`merge_files`) and applying chart defaults (`coalesce`) as Helm does.

Maps merge key by key and lists replace; a null deletes only a chart default (checked against helm 4.1.4).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_poc.errors import UsageError
from gitops_poc.yamlio import load_k8s


def merge_files(layers: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """Value files merged exactly as `helm -f a -f b` merges them before the chart is involved.

    Helm's mergeMaps: maps merge key by key, anything else replaces, and a null is KEPT as an explicit null.
    Only `coalesce` (chart defaults) turns a null into a deletion: a key set by an earlier value file and
    nulled by a later one still reaches the templates, as null (verified with helm 4.1.4: `DROP: null` over
    default.yaml's `DROP: x` renders `DROP: "<nil>"` in the chart's ConfigMap).
    """
    result: dict[str, Any] = {}
    for layer in layers:
        if layer:
            result = _merge_maps(result, layer)
    return result


def _merge_maps(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge_maps(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def coalesce(chart_defaults: Mapping[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    """What the templates see (Helm's CoalesceValues): user values over the chart's values.yaml, where a
    user null deletes the chart's default for that key; a null the chart has no default for stays null."""
    result: dict[str, Any] = copy.deepcopy(dict(user))
    for key, default in chart_defaults.items():
        if key not in result:
            result[key] = copy.deepcopy(default)
        elif result[key] is None:
            del result[key]
        elif isinstance(result[key], Mapping) and isinstance(default, Mapping):
            result[key] = coalesce(default, result[key])
    return result


def get_path(values: Mapping[str, Any], dotted: str, default: Any = None) -> Any:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


@dataclass(frozen=True)
class ValuesFile:
    path: Path
    text: str | None  # None: the file does not exist
    data: dict[str, Any]


def parse_values(text: str | None, where: str) -> dict[str, Any]:
    """The Helm values in a values file's text ({} for a missing or empty file)."""
    data = load_k8s(text, where) if text else None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(
            f"{where}: expected a mapping of Helm values at the top level, found {type(data).__name__}"
        )
    return data
