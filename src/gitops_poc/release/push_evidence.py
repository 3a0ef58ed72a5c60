"""The evidence behind a promotion in push mode, read where it lives: the source environment's Helm release
(through the helm binary: its latest revision, values and manifest) and the release's Deployments (through
the Kubernetes API, the kube client with its deadlines). Anything that cannot be read fails closed: exit 2
with the reason, never a promotion."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from gitops_poc.cluster.helm_state import read_manifest, read_release
from gitops_poc.cluster.kube import ClusterError, Kube
from gitops_poc.cluster.model import HelmRelease
from gitops_poc.delivery.gitops import Repository
from gitops_poc.delivery.image import Image
from gitops_poc.errors import GitopsError, ToolError
from gitops_poc.platform import Platform
from gitops_poc.release.evidence import GateFailed, promoted_entry, refusal
from gitops_poc.release.gates import Evaluation, GateSpec, parse_time
from gitops_poc.release.push_gates import ReleaseState, deployments_in, evaluate_release
from gitops_poc.render.helm import Helm, HelmError, HelmNotFound

CLOSED = "promotion gate cannot be checked (failing closed)"


def source_release(platform: Platform, service: str, source: str, context: str) -> HelmRelease:
    """The release `ci deploy` made of `service` in `source` (its name, namespace and chart)."""
    cfg = platform.config
    return HelmRelease(
        platform.release_name(service),
        platform.namespace(source),
        cfg.chart_name,
        cfg.chart_repo,
        cfg.chart_version,
        context=context,
    )


def read_state(helm: Helm, release: HelmRelease, context: str) -> ReleaseState:
    where = f"{release.name} in {release.namespace} (kube context {context})"
    lookup = read_release(helm, release, context)
    if lookup.unreadable:
        raise ToolError(f"{CLOSED}: helm release {where}: {lookup.unreadable}")
    deployed = lookup.deployed
    if deployed is None:
        raise GateFailed(f"no helm release {where}: nothing was deployed there to promote from")
    try:
        manifest = read_manifest(helm, release, context, deployed.revision)
    except (HelmError, HelmNotFound) as exc:
        raise ToolError(f"{CLOSED}: helm release {where}: {str(exc).splitlines()[-1]}") from None
    try:
        names = deployments_in(manifest, f"the manifest of {release.name} revision {deployed.revision}")
    except GitopsError as exc:
        raise ToolError(f"{CLOSED}: {exc}") from None
    return ReleaseState(
        release.name,
        release.namespace,
        deployed.revision,
        deployed.status,
        parse_time(deployed.updated),
        deployed.values,
        names,
    )


def read_deployments(
    connect: Callable[[], Kube], namespace: str, names: tuple[str, ...]
) -> dict[str, Mapping[str, Any] | None]:
    try:
        kube = connect()
        return {name: kube.get("apps/v1", "Deployment", namespace, name) for name in names}
    except ClusterError as exc:
        raise ToolError(f"{CLOSED}: {exc}") from None


def check_push_gates(
    *,
    helm: Helm,
    kube: Callable[[], Kube],
    context: str,
    platform: Platform,
    repo: Repository,
    head: str,
    service: str,
    source: str,
    spec: GateSpec,
    now: datetime,
) -> tuple[Evaluation, Image]:
    """Evaluate `spec` on the source environment's Helm release and its Deployments for the image its values
    file holds at `head`; raise GateFailed naming every failed check."""
    entry = promoted_entry(repo, head, source)
    release = source_release(platform, service, source, context)
    state = read_state(helm, release, context)
    live = read_deployments(kube, state.namespace, state.deployments)
    evaluation = evaluate_release(state, live, image=entry.image, spec=spec, now=now)
    if not evaluation.ok:
        raise refusal(source, f"helm release {state.describe()}", spec, evaluation)
    return evaluation, entry.image
