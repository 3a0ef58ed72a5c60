"""The set of platform objects `setup push` owns in an environment's namespace, as a Kubernetes ApplySet
(KEP-3659, what `kubectl apply --prune --applyset` uses), so that objects it no longer generates (a removed
service's ServiceAccount, VaultAuth and PodDisruptionBudget) are pruned and nothing else ever is.

- The parent is a ConfigMap `gitops-poc-platform` in the namespace, labelled `applyset.kubernetes.io/id`
  (`applyset-<base64url(sha256(<name>.<namespace>.ConfigMap.))>-v1`, the KEP's derivation), annotated with
  `applyset.kubernetes.io/tooling` and `applyset.kubernetes.io/contains-group-kinds`.
- Every member carries the label `applyset.kubernetes.io/part-of: <id>`.
- Prune candidates are the live objects of the parent's group-kinds in that namespace that carry the
  part-of label with this id and are not wanted now. An object without the label (applied by hand, by
  another tool, by a `setup push` from before ApplySets) is never a candidate.

Pure: the live state comes in as data (`LiveSet`), read by cli/setup.py through the adapter.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitops_poc import __version__
from gitops_poc.cluster.registry import MANAGED_BY

ID_LABEL = "applyset.kubernetes.io/id"
PART_OF_LABEL = "applyset.kubernetes.io/part-of"
TOOLING_ANNOTATION = "applyset.kubernetes.io/tooling"
CONTAINS_ANNOTATION = "applyset.kubernetes.io/contains-group-kinds"
PARENT_NAME = "gitops-poc-platform"
PARENT_KIND, PARENT_API_VERSION = "ConfigMap", "v1"
DEFAULT_MAX_PRUNE = 10
# The API version to list a group-kind the parent names but no wanted object has any more (the KEP uses
# discovery; these are the kinds gitops-config/platform/<env>/ holds and the adapter can address).
KNOWN_API_VERSIONS = {
    "ServiceAccount": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "Service": "v1",
    "Role.rbac.authorization.k8s.io": "rbac.authorization.k8s.io/v1",
    "RoleBinding.rbac.authorization.k8s.io": "rbac.authorization.k8s.io/v1",
    "PodDisruptionBudget.policy": "policy/v1",
    "VaultAuth.secrets.hashicorp.com": "secrets.hashicorp.com/v1beta1",
    "VaultStaticSecret.secrets.hashicorp.com": "secrets.hashicorp.com/v1beta1",
    "VaultConnection.secrets.hashicorp.com": "secrets.hashicorp.com/v1beta1",
}


def applyset_id(namespace: str, name: str = PARENT_NAME, kind: str = PARENT_KIND, group: str = "") -> str:
    """The KEP-3659 id of a parent object: base64url (no padding) of the sha256 of
    `<name>.<namespace>.<kind>.<group>`."""
    digest = hashlib.sha256(f"{name}.{namespace}.{kind}.{group}".encode()).digest()
    return f"applyset-{base64.urlsafe_b64encode(digest).decode().rstrip('=')}-v1"


def group_kind(api_version: str, kind: str) -> str:
    """`Kind.group` as the contains-group-kinds annotation writes it (`Kind` for the core group)."""
    group = api_version.rpartition("/")[0]
    return f"{kind}.{group}" if group else kind


def api_version_of(group_kind_text: str, wanted: Iterable[Mapping[str, Any]]) -> str | None:
    for body in wanted:
        if group_kind(str(body["apiVersion"]), str(body["kind"])) == group_kind_text:
            return str(body["apiVersion"])
    return KNOWN_API_VERSIONS.get(group_kind_text)


@dataclass(frozen=True)
class LiveObject:
    api_version: str
    kind: str
    name: str

    @property
    def group_kind(self) -> str:
        return group_kind(self.api_version, self.kind)

    def describe(self, namespace: str) -> str:
        return f"{self.kind} {namespace}/{self.name}"


@dataclass(frozen=True)
class LiveSet:
    """What the cluster holds of one environment's ApplySet: the parent's group-kinds (empty: no parent yet)
    and the objects labelled part of it."""

    group_kinds: tuple[str, ...] = ()
    members: tuple[LiveObject, ...] = ()


def member(body: Mapping[str, Any], set_id: str) -> dict[str, Any]:
    """The object as applied: labelled part of the set."""
    meta = dict(body.get("metadata") or {})
    meta["labels"] = {**(meta.get("labels") or {}), PART_OF_LABEL: set_id}
    return {**body, "metadata": meta}


def parent(namespace: str, env: str, group_kinds: Iterable[str]) -> dict[str, Any]:
    kinds = ",".join(sorted(set(group_kinds)))
    return {
        "apiVersion": PARENT_API_VERSION,
        "kind": PARENT_KIND,
        "metadata": {
            "name": PARENT_NAME,
            "namespace": namespace,
            "labels": {**MANAGED_BY, "environment": env, ID_LABEL: applyset_id(namespace)},
            "annotations": {
                TOOLING_ANNOTATION: f"gitops-poc/v{__version__}",
                CONTAINS_ANNOTATION: kinds,
            },
        },
        "data": {"purpose": "the ApplySet parent of the platform objects `gitops-poc setup push` applies"},
    }


def wanted_group_kinds(wanted: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted({group_kind(str(b["apiVersion"]), str(b["kind"])) for b in wanted})


def prune_candidates(wanted: Sequence[Mapping[str, Any]], live: LiveSet) -> list[LiveObject]:
    """Live members no wanted object matches by group-kind and name, in a stable order."""
    keep = {(group_kind(str(b["apiVersion"]), str(b["kind"])), str(b["metadata"]["name"])) for b in wanted}
    return sorted(
        (m for m in live.members if (m.group_kind, m.name) not in keep),
        key=lambda m: (m.group_kind, m.name),
    )


def parse_group_kinds(annotation: object) -> tuple[str, ...]:
    if not isinstance(annotation, str):
        return ()
    return tuple(sorted({part.strip() for part in annotation.split(",") if part.strip()}))
