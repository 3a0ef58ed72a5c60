"""The evidence behind a promotion, read where it lives: the source environment's Argo CD Application
through the Kubernetes API (the kube client with its deadlines), the service repository's history through
git. Anything that cannot be read fails closed: exit 2 with the reason, never a promotion."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from gitops_poc.cluster.kube import ClusterError, Kube
from gitops_poc.delivery.gitops import Repository
from gitops_poc.delivery.image import Image
from gitops_poc.errors import GitopsError, ToolError, UsageError
from gitops_poc.platform import Platform
from gitops_poc.release.gates import DEFAULT_PRODUCTION, Evaluation, GateSpec, evaluate
from gitops_poc.release.history import Entry, image_at

ARGOCD_API = "argoproj.io/v1alpha1"
EXIT_GATE_FAILED = 8


class GateFailed(GitopsError):
    """The source environment does not show the evidence the promotion needs."""

    exit_code = EXIT_GATE_FAILED


def gate_spec(platform: Platform, source: str, target: str, configured: Mapping[str, GateSpec]) -> GateSpec:
    """release.yaml's gates for the pair, else the default: health + soak into production, none elsewhere."""
    if f"{source}->{target}" in configured:
        return configured[f"{source}->{target}"]
    return DEFAULT_PRODUCTION if target in platform.config.production_environments else GateSpec()


def read_application(connect: Callable[[], Kube], namespace: str, name: str) -> dict[str, Any]:
    try:
        kube = connect()
        found = kube.get(ARGOCD_API, "Application", namespace, name)
    except ClusterError as exc:
        raise ToolError(f"promotion gate cannot be checked (failing closed): {exc}") from None
    if found is None:
        raise ToolError(
            f"promotion gate cannot be checked (failing closed): no Application {namespace}/{name} "
            f"in kube context {kube.context}"
        )
    return found


def _contains(repo: Repository) -> Callable[[str, str], bool]:
    def contains(revision: str, commit: str) -> bool:
        if not all(c in "0123456789abcdef" for c in revision.lower()) or not revision:
            return False  # a revision that is no commit id (a branch name) reaches no git argv
        return repo.run("merge-base", "--is-ancestor", commit, revision, check=False).returncode == 0

    return contains


def promoted_entry(repo: Repository, head: str, source: str) -> Entry:
    """The image `.cicd/SOURCE.yaml` holds at `head` and the commit that brought it in."""
    commits = repo.run("log", "--format=%H", "-1", head, "--", f".cicd/{source}.yaml").stdout.split()
    entry = image_at(repo.read, commits[0], source) if commits else None
    if entry is None:
        raise UsageError(f".cicd/{source}.yaml sets no image.tag: there is nothing to promote from {source}")
    return entry


def refusal(source: str, subject: str, spec: GateSpec, evaluation: Evaluation) -> GateFailed:
    failed = "; ".join(f"{c.name}: {c.seen}" for c in evaluation.failures())
    return GateFailed(
        f"promotion from {source} refused: {subject} does not show the evidence ({spec.describe()}): "
        f"{failed} (nothing was changed; --skip-gates --reason TEXT overrides and is recorded)"
    )


def check_gates(
    *,
    kube: Callable[[], Kube],
    platform: Platform,
    repo: Repository,
    head: str,
    service: str,
    source: str,
    spec: GateSpec,
    now: datetime,
) -> tuple[Evaluation, Image]:
    """Evaluate `spec` on the source environment's Application for the image its values file holds at
    `head`; raise GateFailed naming every failed check."""
    entry = promoted_entry(repo, head, source)
    name = platform.application_name(service, source)
    application = read_application(kube, platform.config.argocd_namespace, name)
    evaluation = evaluate(
        application,
        name=name,
        image=entry.image,
        image_commit=entry.commit,
        values_repo=platform.repo_url(service),
        contains=_contains(repo),
        spec=spec,
        now=now,
    )
    if not evaluation.ok:
        raise refusal(source, name, spec, evaluation)
    return evaluation, entry.image
