"""Read what a cluster holds of each environment's ApplySet (cluster/applyset.py): the parent ConfigMap's
group-kinds and the objects labelled part of it, listed per group-kind in the environment's namespace with
a label selector. The adapter half of push mode's prune; the decisions are in applyset.py and push.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gitops_poc.cluster import applyset
from gitops_poc.cluster.applyset import LiveObject, LiveSet
from gitops_poc.cluster.kube import KINDS, Kube
from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform


def read_live_set(kube: Kube, namespace: str, wanted: Sequence[Mapping[str, Any]]) -> LiveSet:
    """The environment's ApplySet as the cluster holds it; empty when it has no parent yet (nothing of it
    can exist: the parent is applied before any member)."""
    set_id = applyset.applyset_id(namespace)
    parent = kube.get(applyset.PARENT_API_VERSION, applyset.PARENT_KIND, namespace, applyset.PARENT_NAME)
    if parent is None:
        return LiveSet()
    meta = parent.get("metadata") or {}
    if (meta.get("labels") or {}).get(applyset.ID_LABEL) != set_id:
        raise UsageError(
            f"ConfigMap {namespace}/{applyset.PARENT_NAME} exists but is not the ApplySet parent `setup push`"
            f" made (label {applyset.ID_LABEL} is not {set_id}): rename or remove it; nothing was changed"
        )
    kinds = applyset.parse_group_kinds((meta.get("annotations") or {}).get(applyset.CONTAINS_ANNOTATION))
    members: list[LiveObject] = []
    for group_kind in sorted({*kinds, *applyset.wanted_group_kinds(wanted)}):
        api_version = applyset.api_version_of(group_kind, wanted)
        kind = group_kind.split(".", 1)[0]
        if api_version is None or kind not in KINDS:
            raise UsageError(
                f"ConfigMap {namespace}/{applyset.PARENT_NAME} lists {group_kind}, which setup push cannot"
                " list to prune: delete those objects by hand and remove the kind from its annotation"
                f" {applyset.CONTAINS_ANNOTATION}"
            )
        selector = f"{applyset.PART_OF_LABEL}={set_id}"
        for item in kube.list(api_version, kind, namespace, label_selector=selector):
            name = (item.get("metadata") or {}).get("name")
            if isinstance(name, str) and name:
                members.append(LiveObject(api_version, kind, name))
    return LiveSet(kinds, tuple(members))


def read_live_sets(
    platform: Platform, objects: Mapping[str, Sequence[Mapping[str, Any]]], kube_of: Callable[[str], Kube]
) -> dict[str, LiveSet | None]:
    """env -> its ApplySet, each read in its cluster (`kube_of(context)`, "" = KUBE_CONTEXT)."""
    return {
        env: read_live_set(
            kube_of(platform.cluster_context(platform.cluster_of(env))),
            platform.namespace(env),
            objects.get(env, ()),
        )
        for env in platform.environments
    }
