"""Helm values: merging value files the way Helm does (maps merge, lists replace, null deletes)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` over `base`: maps merge key by key, anything else replaces, None deletes the key."""
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(_drop_nulls(value))
    return merged


def _drop_nulls(value: Any) -> Any:
    # A null inside a map that has nothing to delete from is simply absent in Helm's result.
    if isinstance(value, Mapping):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    return value


def merge_all(layers: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """Merge value files in order (later wins), as `helm -f a -f b` and ArgoCD `valueFiles` do."""
    result: dict[str, Any] = {}
    for layer in layers:
        if layer:
            result = merge_values(result, layer)
    return result


def get_path(values: Mapping[str, Any], dotted: str, default: Any = None) -> Any:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node
