"""The Vault plan as frozen data: what `vault provision` would do, in the order it does it.

Secret values travel with the plan (apply needs them) inside `Hidden`, whose repr and JSON form never show
them, so printing, logging or serialising a plan cannot leak a secret.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Change(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class ValueSource(StrEnum):
    """Where a seeded value comes from (shown in the plan instead of the value)."""

    FILE = "secrets file"
    GENERATED = "generated"
    DEMO = "demo"
    DEFAULT = "default"


@dataclass(frozen=True)
class Hidden:
    """Secret values, hidden from repr, str and equality (so plans compare by what they do, not by values)."""

    items: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:
        return f"Hidden({len(self.items)} value(s))"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hidden)

    def __hash__(self) -> int:
        return 0

    def as_dict(self) -> dict[str, str]:
        return dict(self.items)

    @classmethod
    def of(cls, values: Mapping[str, str]) -> Hidden:
        return cls(tuple(sorted(values.items())))


# What Vault holds now (read by vault/state.py), for the names the platform manages.


@dataclass(frozen=True)
class Mount:
    type: str
    version: str = ""  # KV: "1" or "2"


@dataclass(frozen=True)
class KubernetesConfig:
    host: str
    ca_cert: str = field(repr=False)


@dataclass(frozen=True)
class ClusterAuthState:
    """One cluster's kubernetes auth mount as Vault has it (when it is a kubernetes mount)."""

    config: KubernetesConfig | None = None
    roles: Mapping[str, RoleState] = field(default_factory=dict)


@dataclass(frozen=True)
class RoleState:
    service_accounts: tuple[str, ...]
    namespaces: tuple[str, ...]
    namespace_selector: str
    policies: tuple[str, ...]
    audience: str
    ttl: int
    no_default_policy: bool = False


@dataclass(frozen=True)
class SecretState:
    version: int
    deleted: bool = False  # the latest version is soft-deleted or destroyed
    data: Hidden | None = None  # only read when overwriting was asked for


@dataclass(frozen=True)
class VaultState:
    secret_engines: Mapping[str, Mount] = field(default_factory=dict)  # by path, without the trailing '/'
    auth_methods: Mapping[str, Mount] = field(default_factory=dict)
    kubernetes_config: KubernetesConfig | None = None
    # Every policy and role whose name starts with the platform's stem (Platform.vault_name_stem): its own,
    # leftovers of removed services/environments, and look-alikes of other platforms (stale.py tells them
    # apart).
    policies: Mapping[str, str] = field(default_factory=dict)  # name -> rules
    roles: Mapping[str, RoleState] = field(default_factory=dict)
    secrets: Mapping[str, SecretState] = field(default_factory=dict)  # KV path (relative to the mount)
    # The kubernetes auth mounts of other clusters (ENVIRONMENT_CLUSTERS), by mount path: config and roles.
    cluster_auth: Mapping[str, ClusterAuthState] = field(default_factory=dict)
    # Kubernetes auth mounts named like a cluster's (`kubernetes-<name>`) that no cluster uses now, by mount
    # path: the platform's roles on them (a cluster its environments left) still let logins in.
    former_auth_roles: Mapping[str, Mapping[str, RoleState]] = field(default_factory=dict)
    calls: int = 0  # API calls it took to read this


# The steps of a provision plan.


@dataclass(frozen=True)
class EnableKv:
    """Mount a KV version 2 secrets engine."""

    mount: str

    def describe(self) -> str:
        return f"enable secrets engine kv-v2 at {self.mount}/"


@dataclass(frozen=True)
class EnableKubernetesAuth:
    mount: str

    def describe(self) -> str:
        return f"enable auth method kubernetes at {self.mount}/"


CA_REQUIRED = "CA required at apply: pass --kubernetes-ca-file"


@dataclass(frozen=True)
class ConfigureKubernetesAuth:
    """Where Vault checks ServiceAccount tokens (TokenReview) and the CA it trusts for that API server.

    `ca_cert` None: a dry run's preview without a CA anywhere; such a step cannot be applied.
    """

    mount: str
    host: str
    ca_cert: str | None = field(repr=False)
    change: Change = Change.CREATE

    @property
    def ca_fingerprint(self) -> str | None:
        if self.ca_cert is None:
            return None
        return "sha256:" + hashlib.sha256(self.ca_cert.strip().encode()).hexdigest()[:16]

    def describe(self) -> str:
        if self.ca_cert is None:
            return f"configure kubernetes auth ({CA_REQUIRED}): auth/{self.mount}/config, host {self.host}"
        return f"configure auth/{self.mount}/config: host {self.host}, CA {self.ca_fingerprint}"


@dataclass(frozen=True)
class Policy:
    name: str
    hcl: str
    change: Change = Change.CREATE

    def describe(self) -> str:
        return f"policy {self.name}"


@dataclass(frozen=True)
class Role:
    """A kubernetes auth role: one ServiceAccount in one namespace, one audience, the given policies."""

    name: str
    service_account: str
    namespace: str
    policies: tuple[str, ...]
    audience: str
    ttl: str
    mount: str
    change: Change = Change.CREATE

    def describe(self) -> str:
        return (
            f"role {self.name}: ServiceAccount {self.service_account} in {self.namespace}, "
            f"audience {self.audience}, policies {', '.join(self.policies)}, ttl {self.ttl}"
        )


@dataclass(frozen=True)
class SecretSeed:
    """Write a KV v2 secret. CREATE uses check-and-set 0 (never overwrites); UPDATE uses cas=`version`."""

    mount: str
    path: str
    keys: tuple[str, ...]
    sources: tuple[str, ...]
    values: Hidden = field(default=Hidden(), repr=False)
    change: Change = Change.CREATE
    version: int = 0

    def describe(self) -> str:
        what = "secret" if self.change is Change.CREATE else "overwrite secret"
        return f"{what} {self.mount}/{self.path}: keys {', '.join(self.keys)} ({', '.join(self.sources)})"


@dataclass(frozen=True)
class Leftover:
    """A role or policy of this platform for a service x environment it no longer has (see stale.py)."""

    kind: str  # "role" or "policy"
    name: str
    service: str
    env: str
    reason: str  # which of the two was removed, or where the environment runs now
    mount: str = ""  # a role's auth mount ("": not known, e.g. roles of several mounts in one mapping)
    moved: bool = False  # a wanted role left on the mount of a cluster its environment moved away from

    def describe(self) -> str:
        # A moved role has a namesake on its new mount: always say which one is meant.
        named = self.mount and (self.moved or self.mount != "kubernetes")
        where = f" on auth/{self.mount}" if named else ""
        return f"{self.kind} {self.name}{where} ({self.reason})"

    def as_json(self) -> dict[str, Any]:
        found = {
            "kind": self.kind,
            "name": self.name,
            "service": self.service,
            "environment": self.env,
            "reason": self.reason,
        }
        return {**found, "mount": self.mount} if self.mount else found


@dataclass(frozen=True)
class DeleteRole:
    """Delete a leftover role (--prune): `reason` says which service or environment was removed."""

    name: str
    mount: str
    reason: str
    change: Change = Change.DELETE

    def describe(self) -> str:
        return f"delete role {self.name} ({self.reason})"


@dataclass(frozen=True)
class DeletePolicy:
    """Delete a leftover policy (--prune). Secrets are never deleted."""

    name: str
    reason: str
    change: Change = Change.DELETE

    def describe(self) -> str:
        return f"delete policy {self.name} ({self.reason})"


Step = (
    EnableKv
    | EnableKubernetesAuth
    | ConfigureKubernetesAuth
    | Policy
    | Role
    | SecretSeed
    | DeleteRole
    | DeletePolicy
)

KIND: dict[type, str] = {
    EnableKv: "secrets-engine",
    EnableKubernetesAuth: "auth-method",
    ConfigureKubernetesAuth: "auth-config",
    Policy: "policy",
    Role: "role",
    SecretSeed: "secret",
    DeleteRole: "role",
    DeletePolicy: "policy",
}


def step_action(step: Step) -> Change:
    return getattr(step, "change", Change.CREATE)


def step_label(step: Step) -> str:
    """How a step is counted: its kind, and deletions apart (`role deletion`)."""
    kind = KIND[type(step)]
    return f"{kind} deletion" if step_action(step) is Change.DELETE else kind


def step_as_json(step: Step) -> dict[str, Any]:
    """A step for `--output json`: everything but secret values."""
    data: dict[str, Any] = {
        "kind": KIND[type(step)],
        "action": step_action(step).value,
        "description": step.describe(),
    }
    if isinstance(step, Policy):
        data.update(name=step.name, hcl=step.hcl)
    elif isinstance(step, Role):
        data.update(
            name=step.name,
            service_account=step.service_account,
            namespace=step.namespace,
            policies=list(step.policies),
            audience=step.audience,
            ttl=step.ttl,
        )
    elif isinstance(step, SecretSeed):
        data.update(mount=step.mount, path=step.path, keys=list(step.keys), sources=list(step.sources))
    elif isinstance(step, ConfigureKubernetesAuth):
        data.update(host=step.host, ca_fingerprint=step.ca_fingerprint, ca_required=step.ca_cert is None)
    elif isinstance(step, (DeleteRole, DeletePolicy)):
        data.update(name=step.name, reason=step.reason)
    else:
        data.update(mount=step.mount)
    return data


@dataclass(frozen=True)
class VaultPlan:
    steps: tuple[Step, ...]
    kept_secrets: tuple[str, ...] = ()  # existing secrets left as they are
    notes: tuple[str, ...] = ()  # things the user should know, e.g. secrets-file values not applied
    # Roles and policies of removed services/environments; deleted only with --prune (then also in `steps`).
    stale: tuple[Leftover, ...] = ()
    pruned: bool = False

    @property
    def stale_kept(self) -> tuple[Leftover, ...]:
        """Leftovers this plan leaves in Vault."""
        return () if self.pruned else self.stale

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def count(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for step in self.steps:
            label = step_label(step)
            counts[label] = counts.get(label, 0) + 1
        return counts

    def as_json(self) -> dict[str, Any]:
        return {
            "steps": [step_as_json(s) for s in self.steps],
            "writes": len(self.steps),
            "counts": self.count(),
            "kept_secrets": list(self.kept_secrets),
            "notes": list(self.notes),
            "stale": [{**s.as_json(), "action": "delete" if self.pruned else "kept"} for s in self.stale],
        }
