"""Values keys a chart does not know: Helm ignores them silently, so a typo in a shipped values file would
quietly change nothing. Pure: compares a values tree with the chart's own defaults (values.yaml).

A key is unknown when its parent is a non-empty map in the chart's defaults that lacks it. Empty maps and
nulls in the defaults are free-form (annotations, extraArgs); so are the maps a chart documents as
free-form although they hold defaults (`FREE_FORM`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# chart name -> dotted paths of maps that take any key besides their defaults
FREE_FORM: dict[str, frozenset[str]] = {
    # argocd-cmd-params-cm and argocd-cm take every Argo CD parameter as a key (`create`/`annotations` aside).
    "argo-cd": frozenset({"configs.params", "configs.cm"}),
}


def unknown_keys(defaults: Any, values: Any, *, chart: str = "", _path: tuple[str, ...] = ()) -> list[str]:
    """Dotted paths of the keys in `values` that the chart's `defaults` do not know."""
    if not isinstance(values, Mapping) or not isinstance(defaults, Mapping) or not defaults:
        return []
    if ".".join(_path) in FREE_FORM.get(chart, frozenset()):
        return []
    found: list[str] = []
    for key, value in values.items():
        path = (*_path, str(key))
        if key not in defaults:
            found.append(".".join(path))
            continue
        found += unknown_keys(defaults[key], value, chart=chart, _path=path)
    return found
