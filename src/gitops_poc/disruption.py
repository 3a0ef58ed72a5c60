"""PodDisruptionBudgets the platform owns in production.

The k8app chart's PDB renders no selector, and in policy/v1 a PDB without one selects no pods: it protects
nothing. So for each production environment `gitops-config/platform/<env>/<service>.yaml` carries a PDB
that selects the chart's pods (`app: <appName>`, `release: <release>`), with the budget the service's values
ask for (`pdb.minAvailable` or `pdb.maxUnavailable`) or PDB_MAX_UNAVAILABLE, while the values switch the
chart's own PDB off (`pdb.enabled: false`, a managed key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from gitops_poc.errors import UsageError
from gitops_poc.k8app import POD_SELECTOR_LABELS
from gitops_poc.platform import Platform

LIMITS = ("minAvailable", "maxUnavailable")
Budget = dict[str, int | str]
_PERCENT = re.compile(r"^[0-9]+%$")


def _limit(value: Any, where: str, key: str) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and _PERCENT.match(value) and int(value[:-1]) <= 100:
        return value
    raise UsageError(
        f"{where}: pdb.{key} is {value!r}; a disruption budget is a number of pods or a percentage"
        ' such as "50%"'
    )


def budget_from_values(layers: Sequence[tuple[str, Mapping[str, Any] | None]], default: Budget) -> Budget:
    """The budget the value files ask for, read as Helm merges them (a later file wins, null unsets).

    `layers` are (file name, values) in Helm's order; neither limit set means `default`."""
    chosen: dict[str, tuple[str, Any]] = {}
    for where, values in layers:
        pdb = (values or {}).get("pdb")
        if isinstance(pdb, Mapping):
            for key in LIMITS:
                if key in pdb:
                    chosen[key] = (where, pdb[key])
    found = {key: (where, value) for key, (where, value) in chosen.items() if value is not None}
    if len(found) == len(LIMITS):
        places = ", ".join(f"pdb.{key}: {value!r} in {where}" for key, (where, value) in found.items())
        raise UsageError(
            f"{places}: a PodDisruptionBudget takes one of minAvailable and maxUnavailable; "
            "set the other to null"
        )
    if not found:
        return dict(default)
    [(key, (where, value))] = found.items()
    return {key: _limit(value, where, key)}


def selector(platform: Platform, service: str) -> dict[str, str]:
    """The labels the chart puts on every pod of the service's Deployment."""
    values = {"app": platform.app_name(service), "release": platform.release_name(service)}
    return {label: values[label] for label in POD_SELECTOR_LABELS}


def pod_disruption_budget(
    platform: Platform, service: str, env: str, budget: Budget, labels: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {
            "name": platform.disruption_budget_name(service),
            "namespace": platform.namespace(env),
            "labels": dict(labels),
        },
        "spec": {**budget, "selector": {"matchLabels": selector(platform, service)}},
    }
