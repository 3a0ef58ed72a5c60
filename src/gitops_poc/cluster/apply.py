"""Carry out a cluster plan step by step: minikube commands, helm releases, server-side apply, patches,
waits. Thin: every decision was made by the plan; this only talks to the tools and reports progress."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_poc import proc
from gitops_poc.cluster.kube import Kube
from gitops_poc.cluster.model import (
    ApplyObject,
    ClusterPlan,
    DeleteObject,
    HelmRelease,
    PatchObject,
    RegisterCluster,
    RunCommand,
    Step,
    VaultBootstrap,
    WaitReady,
    nested,
)
from gitops_poc.cluster.tools import find_tool
from gitops_poc.errors import GitopsError, ToolError
from gitops_poc.render.helm import Helm
from gitops_poc.yamlio import dump

HELM_INSTALL_TIMEOUT = 1200.0
Progress = Callable[[int, int, Step], None]


class StepFailed(ToolError):
    """A step of the plan failed (exit 2: a tool or the cluster failing); the steps before it stay done, a
    re-run continues from here."""


def run_helm_release(release: HelmRelease, helm: Helm, kube_context: str) -> None:
    """`helm upgrade --install`; private values go through a 0600 file in a 0700 folder, deleted after."""
    if not release.private_values.items:
        helm.run(release.helm_args(kube_context))
        return
    with tempfile.TemporaryDirectory(prefix="gitops-poc-values-") as folder:  # mode 0700
        path = Path(folder) / "private-values.yaml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(dump(nested(release.private_values.as_dict())))
        helm.run(release.helm_args(kube_context, str(path)))


def run_command(argv: tuple[str, ...]) -> None:
    binary = find_tool(argv[0])
    if binary is None:
        raise StepFailed(f"{argv[0]} is not installed (see `gitops-poc doctor`)")
    result = proc.run([binary, *argv[1:]], text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise StepFailed(f"`{' '.join(argv)}` failed (exit {result.returncode}): {' / '.join(tail)}")


def workload_ready(workload: dict[str, Any]) -> bool:
    """Deployments and StatefulSets: every wanted replica ready; DaemonSets: every scheduled pod ready."""
    spec, status = workload.get("spec") or {}, workload.get("status") or {}
    if workload.get("kind") == "DaemonSet":
        return int(status.get("numberReady") or 0) >= int(status.get("desiredNumberScheduled") or 0)
    wanted = int(spec.get("replicas", 1) or 0)
    return int(status.get("readyReplicas") or 0) >= wanted


def not_ready(kube: Kube, namespace: str) -> list[str]:
    waiting = []
    for api_version, kind in (
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
    ):
        for item in kube.list(api_version, kind, namespace):
            item.setdefault("kind", kind)
            if not workload_ready(item):
                waiting.append(f"{kind}/{item.get('metadata', {}).get('name')}")
    return waiting


def wait_ready(
    kube: Kube, step: WaitReady, *, poll: float = 3.0, clock: Callable[[], float] = time.monotonic
) -> None:
    deadline = clock() + step.timeout_seconds
    while True:
        waiting = not_ready(kube, step.namespace)
        if not waiting:
            return
        if clock() > deadline:
            raise StepFailed(
                f"not ready in {step.namespace} after {step.timeout_seconds} s: {', '.join(waiting)}"
            )
        time.sleep(poll)


@dataclass
class ClusterRunner:
    """Runs steps against the platform's kube context (and other contexts a step names)."""

    context: str
    helm: Helm
    vault: Callable[[VaultBootstrap], None] | None = None
    report: Callable[[str], None] = lambda message: None  # what a step found out while running
    _kubes: dict[str, Kube] = field(default_factory=dict)

    def kube(self, context: str = "") -> Kube:
        name = context or self.context
        if name not in self._kubes:
            self._kubes[name] = Kube.from_kubeconfig(name)
        return self._kubes[name]

    def _current_now(self, step: HelmRelease) -> bool:
        """A release whose state was unknown when planned (the cluster was not up) is read again now."""
        if not step.state_unknown:
            return False
        from gitops_poc.cluster.helm_state import READ_TIMEOUT, read_release
        from gitops_poc.cluster.releases import is_current

        lookup = read_release(Helm(self.helm.binary, READ_TIMEOUT), step, self.context)
        if not is_current(step, lookup):
            return False
        assert lookup.deployed is not None
        self.report(f"helm release {step.name}: read now, unchanged (revision {lookup.deployed.revision})")
        return True

    def run(self, step: Step) -> None:
        if isinstance(step, RunCommand):
            run_command(step.argv)
        elif isinstance(step, HelmRelease):
            # Already deployed as planned: another revision would change nothing.
            if not step.unchanged and not self._current_now(step):
                run_helm_release(step, self.helm, self.context)
        elif isinstance(step, ApplyObject):
            self.kube(step.context).apply(step.full_body())
        elif isinstance(step, PatchObject):
            self.kube(step.context).patch(step.api_version, step.kind, step.namespace, step.name, step.patch)
        elif isinstance(step, DeleteObject):
            if not self.kube(step.context).delete(step.api_version, step.kind, step.namespace, step.name):
                self.report(f"{step.kind} {step.namespace}/{step.name} was gone already")
        elif isinstance(step, WaitReady):
            wait_ready(self.kube(), step)
        elif isinstance(step, RegisterCluster):
            register_cluster(step, self.kube(step.context), self.kube())
        elif isinstance(step, VaultBootstrap):
            if self.vault is None:
                raise StepFailed("this command cannot configure Vault")
            self.vault(step)


def register_cluster(step: RegisterCluster, target: Kube, argocd: Kube, *, timeout: float = 60) -> None:
    """Wait for the token controller to fill the token Secret, then apply ArgoCD's cluster Secret."""
    import base64

    from gitops_poc.cluster.clusters import cluster_secret
    from gitops_poc.cluster.model import Hidden

    namespace, name = step.token_secret
    deadline = time.monotonic() + timeout
    while True:
        secret = target.get("v1", "Secret", namespace, name) or {}
        token = (secret.get("data") or {}).get("token")
        if token:
            break
        if time.monotonic() > deadline:
            raise StepFailed(f"no token in {namespace}/{name} of {step.context} after {timeout:.0f} s")
        time.sleep(1)
    body, secret_data = cluster_secret(step, base64.b64decode(token).decode())
    argocd.apply(ApplyObject.of(body, Hidden.of(secret_data)).full_body())


def default_runner(context: str, vault: Callable[[VaultBootstrap], None] | None = None) -> ClusterRunner:
    helm = find_tool("helm")
    if helm is None:
        raise StepFailed(
            "helm is not installed: `make tools` installs .tools/bin/helm (see `gitops-poc doctor`)"
        )
    return ClusterRunner(context, Helm(helm, timeout=HELM_INSTALL_TIMEOUT), vault)


def apply_plan(plan: ClusterPlan, runner: ClusterRunner, progress: Progress | None = None) -> int:
    """Run every step in order; the number done. The first failure stops the run (later steps need it)."""
    total = len(plan.steps)
    for done, step in enumerate(plan.steps, start=1):
        if progress is not None:
            progress(done - 1, total, step)
        try:
            runner.run(step)
        except GitopsError as exc:  # ClusterError, HelmError, StepFailed, VaultError, ...
            raise StepFailed(f"step {done}/{total} ({step.describe()}): {exc}") from None
    if progress is not None and total:
        progress(total, total, plan.steps[-1])
    return total


def wait_pod_running(
    kube: Kube, namespace: str, pod: str, *, timeout: float = 600, poll: float = 2.0
) -> None:
    """A pod can be forwarded to once it runs, ready or not (a sealed Vault is never ready)."""
    deadline = time.monotonic() + timeout
    while True:
        found = kube.get("v1", "Pod", namespace, pod)
        if found and (found.get("status") or {}).get("phase") == "Running":
            return
        if time.monotonic() > deadline:
            raise StepFailed(f"pod {namespace}/{pod} is not running after {timeout:.0f} s")
        time.sleep(poll)
