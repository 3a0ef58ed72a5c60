"""Is a Helm release of the plan already what we would install? Then its step is skipped ("unchanged").

A release is current when its latest revision is `deployed`, from the same chart and version, with the same
user-supplied values (`helm get values`) as the values files, private values and --set-string of the step
would give. The deployed values may hold a secret (the agent token): they are compared in memory only and
never shown; a difference is reported by key path, never by value.

Pure: what is deployed is read by the caller (`gitops_poc.cluster.helm_state`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gitops_poc import fileio
from gitops_poc.cluster.model import ClusterPlan, HelmRelease, Step, nested
from gitops_poc.values import merge_files, parse_values

MAX_PATHS_SHOWN = 3


@dataclass(frozen=True)
class Deployed:
    """The latest revision of a release as helm reports it. `values` may hold secrets: never shown."""

    revision: int
    status: str
    chart: str  # "<chart>-<version>", as `helm history` prints it
    values: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    updated: str = field(default="", compare=False)  # when it was deployed (RFC 3339, as helm prints it)


@dataclass(frozen=True)
class Lookup:
    """What reading a release found: `deployed` None and `unreadable` "" means not installed."""

    deployed: Deployed | None = None
    unreadable: str = ""


def release_key(release: HelmRelease, kube_context: str) -> tuple[str, str, str]:
    return (release.context or kube_context, release.namespace, release.name)


def load_values_file(path: str) -> dict[str, Any]:
    return parse_values(fileio.read_text(Path(path), fileio.YAML_FILE), path)


def wanted_values(
    release: HelmRelease, load: Callable[[str], Mapping[str, Any]] = load_values_file
) -> dict[str, Any]:
    """The user-supplied values helm records for the step's arguments: the `--values` files in order (the
    private file last), then each --set-string (a path of maps, as `nested` builds it)."""
    return merge_files(
        [
            *(load(path) for path in release.values_files),
            nested(release.private_values.as_dict()) if release.private_values.items else None,
            *(nested({key: value}) for key, value in release.set_strings),
        ]
    )


def differing_paths(wanted: Any, found: Any, prefix: str = "") -> Iterator[str]:
    """Key paths where two value trees differ (the values themselves are never part of the answer)."""
    if isinstance(wanted, Mapping) and isinstance(found, Mapping):
        for key in sorted(set(wanted) | set(found), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in wanted or key not in found:
                yield path
            else:
                yield from differing_paths(wanted[key], found[key], path)
    elif wanted != found or type(wanted) is not type(found):
        yield prefix or "(all values)"


def why_upgrade(release: HelmRelease, wanted: Mapping[str, Any], lookup: Lookup) -> str:
    """ "" when the deployed release is current, else why it is upgraded (no value ever named)."""
    if lookup.unreadable:
        return f"its state could not be read ({lookup.unreadable})"
    deployed = lookup.deployed
    if deployed is None:
        return "not installed"
    if deployed.status != "deployed":
        return f"revision {deployed.revision} is {deployed.status}"
    chart = f"{release.chart}-{release.version}"
    if deployed.chart != chart:
        return f"revision {deployed.revision} runs {deployed.chart}, not {chart}"
    paths = list(differing_paths(dict(wanted), dict(deployed.values)))
    if paths:
        shown = ", ".join(paths[:MAX_PATHS_SHOWN]) + (", ..." if len(paths) > MAX_PATHS_SHOWN else "")
        return f"revision {deployed.revision} has other values ({shown})"
    return ""


def is_current(
    release: HelmRelease, lookup: Lookup, load: Callable[[str], Mapping[str, Any]] = load_values_file
) -> bool:
    return lookup.deployed is not None and not why_upgrade(release, wanted_values(release, load), lookup)


def settle_releases(
    plan: ClusterPlan,
    lookups: Mapping[tuple[str, str, str], Lookup],
    kube_context: str,
    load: Callable[[str], Mapping[str, Any]] = load_values_file,
) -> ClusterPlan:
    """The plan with each current release marked unchanged (its step is skipped) and each other one given
    the reason it is upgraded."""
    steps: list[Step] = []
    for step in plan.steps:
        if isinstance(step, HelmRelease):
            lookup = lookups.get(release_key(step, kube_context), Lookup(unreadable="not read"))
            reason = why_upgrade(step, wanted_values(step, load), lookup)
            if reason:
                step = replace(step, upgrade_reason=reason, state_unknown=bool(lookup.unreadable))
            else:
                assert lookup.deployed is not None
                step = replace(step, unchanged_revision=lookup.deployed.revision)
        steps.append(step)
    return replace(plan, steps=tuple(steps))
