"""Cluster plans as frozen data: what a `setup` command would do, in the order it does it.

Secrets travel inside `Hidden` (from the Vault model), whose repr and JSON form never show them, so a plan
can be printed, logged and compared with `==` without leaking a value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gitops_poc.argv import Opt, Part, Value
from gitops_poc.vault.model import Hidden

__all__ = [
    "ApplyObject",
    "ClusterPlan",
    "DeleteObject",
    "Hidden",
    "HelmRelease",
    "PatchObject",
    "RegisterCluster",
    "RunCommand",
    "Step",
    "VaultBootstrap",
    "WaitReady",
    "nested",
]


def nested(dotted: dict[str, str]) -> dict[str, Any]:
    """{"config.token": t} -> {"config": {"token": t}}: a values file instead of --set."""
    tree: dict[str, Any] = {}
    for key, value in dotted.items():
        *parents, last = key.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return tree


@dataclass(frozen=True)
class RunCommand:
    """A local command (minikube): `argv` never holds a secret."""

    argv: tuple[str, ...]  # rendered by argv.render: every value checked, `--opt=value` or an operand
    why: str

    def describe(self) -> str:
        return f"run {' '.join(self.argv)}  ({self.why})"

    def as_json(self) -> dict[str, Any]:
        return {"step": "run", "argv": list(self.argv), "why": self.why}


@dataclass(frozen=True)
class HelmRelease:
    """`helm upgrade --install` of a pinned chart from a repository, with values files and private values."""

    name: str
    namespace: str
    chart: str
    repo: str
    version: str
    values_files: tuple[str, ...] = ()
    # Plain values given with --set-string (never a secret).
    set_strings: tuple[tuple[str, str], ...] = ()
    # Values that must not be on a command line (the agent token): written to a 0600 file, passed with -f.
    private_values: Hidden = field(default_factory=Hidden)
    wait: bool = True
    timeout: str = "10m"
    context: str = ""  # the kube context it goes to ("" = the platform's)
    # Set from what is deployed (cluster/releases.py): a current release is skipped, another says why not.
    unchanged_revision: int | None = None
    upgrade_reason: str = ""
    # Its state could not be read when planned (cluster not up yet): read again just before upgrading.
    state_unknown: bool = False

    @property
    def unchanged(self) -> bool:
        return self.unchanged_revision is not None

    def describe(self) -> str:
        where = f" [context {self.context}]" if self.context else ""
        if self.unchanged:
            return (
                f"helm release {self.name} in {self.namespace}: {self.chart} {self.version} unchanged "
                f"(revision {self.unchanged_revision}){where}"
            )
        private = f", {len(self.private_values.items)} private value(s)" if self.private_values.items else ""
        reason = f"; upgrade: {self.upgrade_reason}" if self.upgrade_reason else ""
        plain = "".join(f", {key}={value}" for key, value in self.set_strings)
        wait = ", wait" if self.wait else ""
        return (
            f"helm release {self.name} in {self.namespace}: {self.chart} {self.version} from {self.repo}"
            f" ({len(self.values_files)} values file(s){plain}{private}{wait}){where}{reason}"
        )

    def helm_args(self, kube_context: str, private_file: str | None = None) -> list[Part]:
        """`helm upgrade --install` arguments; private values go in `private_file`, never in --set. The
        release's own context wins over `kube_context` (the platform's). Every value is `--opt=value` or an
        operand after `--`."""
        args: list[Part] = [
            "upgrade",
            "--install",
            Opt("--repo", self.repo),
            Opt("--version", self.version),
            Opt("--namespace", self.namespace),
            "--create-namespace",
            Opt("--kube-context", self.context or kube_context),
        ]
        args += [Opt("--values", path) for path in self.values_files]
        args += [Opt("--set-string", f"{key}={value}") for key, value in self.set_strings]
        if private_file is not None:
            args.append(Opt("--values", private_file))
        if self.wait:
            args += ["--wait", Opt("--timeout", self.timeout)]
        return [*args, "--", Value(self.name, "release"), Value(self.chart, "chart")]

    def as_json(self) -> dict[str, Any]:
        return {
            "step": "helm",
            "release": self.name,
            "namespace": self.namespace,
            "chart": self.chart,
            "repo": self.repo,
            "version": self.version,
            "values_files": list(self.values_files),
            "set_strings": dict(self.set_strings),
            "private_values": [k for k, _ in self.private_values.items],
            "wait": self.wait,
            "context": self.context,
            "unchanged_revision": self.unchanged_revision,
            "upgrade_reason": self.upgrade_reason,
        }


def object_ref(body: dict[str, Any]) -> str:
    meta = body.get("metadata", {})
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{body.get('kind')} {where}{meta.get('name')}"


@dataclass(frozen=True)
class ApplyObject:
    """Server-side apply of one object. `secret_data` (a Secret's stringData) stays hidden in the plan."""

    body_json: str  # the object without secret values, as canonical JSON (hashable, comparable)
    secret_data: Hidden = field(default_factory=Hidden)
    context: str = ""  # the kube context it goes to ("" = the platform's)

    @classmethod
    def of(cls, body: dict[str, Any], secret_data: Hidden | None = None, context: str = "") -> ApplyObject:
        return cls(json.dumps(body, sort_keys=True), secret_data or Hidden(), context)

    @property
    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body_json)
        return data

    def full_body(self) -> dict[str, Any]:
        """What is sent: the object with its secret values (for the adapter only)."""
        body = self.body
        if self.secret_data.items:
            body["stringData"] = {**body.get("stringData", {}), **self.secret_data.as_dict()}
        return body

    def describe(self) -> str:
        hidden = (
            f" ({len(self.secret_data.items)} secret value(s), not shown)" if self.secret_data.items else ""
        )
        where = f" [context {self.context}]" if self.context else ""
        return f"apply {object_ref(self.body)}{hidden}{where}"

    def as_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"step": "apply", "object": self.body, "context": self.context}
        if self.secret_data.items:
            result["secret_keys"] = [k for k, _ in self.secret_data.items]
        return result


@dataclass(frozen=True)
class PatchObject:
    """A strategic merge patch of an existing object (only the fields in `patch`)."""

    api_version: str
    kind: str
    namespace: str
    name: str
    patch_json: str
    why: str
    context: str = ""  # the kube context it goes to ("" = the platform's)

    @classmethod
    def of(
        cls,
        api_version: str,
        kind: str,
        namespace: str,
        name: str,
        patch: dict[str, Any],
        why: str,
        context: str = "",
    ) -> PatchObject:
        return cls(api_version, kind, namespace, name, json.dumps(patch, sort_keys=True), why, context)

    @property
    def patch(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.patch_json)
        return data

    def describe(self) -> str:
        where = f" [context {self.context}]" if self.context else ""
        return f"patch {self.kind} {self.namespace}/{self.name}: {self.patch_json}  ({self.why}){where}"

    def as_json(self) -> dict[str, Any]:
        return {
            "step": "patch",
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "patch": self.patch,
            "why": self.why,
            "context": self.context,
        }


@dataclass(frozen=True)
class DeleteObject:
    """Delete one object (push mode's prune of a platform object it no longer generates); gone already is
    fine."""

    api_version: str
    kind: str
    namespace: str
    name: str
    why: str
    context: str = ""  # the kube context it goes to ("" = the platform's)

    def describe(self) -> str:
        where = f" [context {self.context}]" if self.context else ""
        return f"delete {self.kind} {self.namespace}/{self.name}  ({self.why}){where}"

    def as_json(self) -> dict[str, Any]:
        return {
            "step": "delete",
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "why": self.why,
            "context": self.context,
        }


@dataclass(frozen=True)
class WaitReady:
    """Wait until every Deployment, StatefulSet and DaemonSet in `namespace` is ready."""

    namespace: str
    timeout_seconds: int = 600

    def describe(self) -> str:
        return f"wait for the workloads in {self.namespace} to be ready (up to {self.timeout_seconds} s)"

    def as_json(self) -> dict[str, Any]:
        return {"step": "wait", "namespace": self.namespace, "timeout_seconds": self.timeout_seconds}


@dataclass(frozen=True)
class VaultBootstrap:
    """Over a managed port-forward to Vault: initialise (once) and unseal a standalone server, then
    `vault provision` (policies, roles, kubernetes auth of each cluster)."""

    namespace: str
    service: str
    port: int
    dev_mode: bool

    def describe(self) -> str:
        first = "" if self.dev_mode else "initialise (once) and unseal, then "
        return f"vault: {first}provision over a port-forward to svc/{self.service} in {self.namespace}"

    def as_json(self) -> dict[str, Any]:
        return {
            "step": "vault",
            "namespace": self.namespace,
            "service": self.service,
            "port": self.port,
            "dev_mode": self.dev_mode,
        }


@dataclass(frozen=True)
class RegisterCluster:
    """What `argocd cluster add` does last: read the ServiceAccount token minted in the target cluster and
    apply ArgoCD's labelled cluster Secret (server, CA, token) in ArgoCD's namespace."""

    name: str
    context: str  # the target cluster's kube context
    server: str
    ca_data: str  # base64 PEM, as ArgoCD's tlsClientConfig wants it
    token_secret: tuple[str, str]  # (namespace, name) of the token Secret in the target cluster
    argocd_namespace: str

    def describe(self) -> str:
        ns, secret = self.token_secret
        return (
            f"register cluster {self.name} ({self.server}) with ArgoCD: token from {ns}/{secret} in "
            f"context {self.context} into Secret {self.argocd_namespace}/cluster-{self.name} (not shown)"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "step": "register-cluster",
            "name": self.name,
            "context": self.context,
            "server": self.server,
            "token_secret": "/".join(self.token_secret),
            "argocd_namespace": self.argocd_namespace,
        }


Step = (
    RunCommand
    | HelmRelease
    | ApplyObject
    | PatchObject
    | DeleteObject
    | WaitReady
    | VaultBootstrap
    | RegisterCluster
)


@dataclass(frozen=True)
class ClusterPlan:
    steps: tuple[Step, ...] = ()
    notes: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def as_json(self) -> dict[str, Any]:
        return {"steps": [s.as_json() for s in self.steps], "notes": list(self.notes)}
