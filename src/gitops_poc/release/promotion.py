"""The gates of one `ci promote` job: which apply (release.yaml's pair, else the tier default), the evidence
read (the Argo CD Application in pull mode, the Helm release and its Deployments in push mode) and recorded
as commit trailers, or the recorded break-glass skip."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from gitops_poc.config import load_config
from gitops_poc.delivery.decide import values_path
from gitops_poc.delivery.image import Image
from gitops_poc.delivery.pins import find_pin
from gitops_poc.delivery.target import Target
from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform
from gitops_poc.release.evidence import check_gates, gate_spec
from gitops_poc.release.gates import Evaluation, GateSpec
from gitops_poc.release.policy import GATES_VARIABLE, gates_from_json, parse_policy, read_release_config

READ_TIMEOUT = 60.0  # seconds for each read-only helm command


@dataclass(frozen=True)
class Gated:
    trailers: tuple[tuple[str, str], ...] = ()
    expected: Image | None = None  # the image the evidence is for: the promotion writes this one or none
    note: str | None = None
    pinned: bool = False  # no evidence read: the target is pinned, so the promotion stands down (exit 5)


def configured_gates(environ: Mapping[str, str], release_config: Path | None) -> dict[str, GateSpec]:
    if release_config is not None:
        return dict(parse_policy(read_release_config(release_config), str(release_config)).gates)
    return dict(gates_from_json(environ.get(GATES_VARIABLE, "")))


def evidence_context(platform: Platform, source: str, given: str | None, environ: Mapping[str, str]) -> str:
    """The kube context the source's evidence is read through: --kube-context; else KUBE_CONTEXT (Argo CD's
    cluster, where every Application is), except in push mode for a source on another cluster, where its
    release is: that cluster's agent in GitLab CI (the context its deploy job used), else its context."""
    if given:
        return given
    cluster = platform.cluster_of(source)
    if platform.config.gitops_mode == "push" and cluster is not None:
        in_ci = environ.get("GITLAB_CI") == "true"
        return platform.agent_context_of(source) if in_ci else platform.cluster_context(cluster)
    return platform.config.kube_context


def promotion_gates(
    environ: Mapping[str, str],
    *,
    target: Target,
    push: bool,
    source: str,
    env: str,
    service: str,
    skip_gates: bool,
    reason: str | None,
    kube_context: str | None,
    release_config: Path | None,
    now: datetime,
) -> Gated:
    platform = Platform(load_config(None, environ))
    spec = gate_spec(platform, source, env, configured_gates(environ, release_config))
    if skip_gates and not (reason or "").strip():
        raise UsageError("--skip-gates needs --reason TEXT saying why the promotion goes without evidence")
    if not spec.any:
        return Gated()
    if skip_gates:
        text = " ".join((reason or "").split())
        return Gated(
            (("Gates-skipped", text), ("Gates-required", spec.describe())),
            note=f"gates skipped ({spec.describe()}): {text}",
        )
    from gitops_poc.cluster.kube import Kube

    repo = target.repo
    head = repo.fetch(target.url, target.branch) if push else repo.head()
    path = values_path(env)
    pin = find_pin(repo.read(head, path), path)
    if pin is not None and not pin.expired(now):
        # A pinned target changes nothing whatever the evidence: no cluster is asked (exit 5 follows).
        return Gated(pinned=True)
    context = evidence_context(platform, source, kube_context, environ)
    check: Callable[..., tuple[Evaluation, Image]] = check_gates
    if platform.config.gitops_mode == "push":
        # Push mode: no Application; the evidence is the Helm release `ci deploy` made and its rollout.
        from gitops_poc.release.push_evidence import check_push_gates
        from gitops_poc.render.helm import Helm, find_helm

        check = partial(check_push_gates, helm=Helm(find_helm(), timeout=READ_TIMEOUT), context=context)
    evaluation, image = check(
        kube=lambda: Kube.from_kubeconfig(context),
        platform=platform,
        repo=repo,
        head=head,
        service=service,
        source=source,
        spec=spec,
        now=now,
    )
    return Gated(evaluation.trailers(), image)
