"""Promotion gates in push mode: is the source environment's Helm release deployed with the image being
promoted, has each Deployment of the release rolled out, and for how long? Pure: the release as helm reports
it, the Deployments as the API server returns them, the image and the clock are given.

Rolled out is what `kubectl rollout status` waits for: the controller saw the latest spec (observedGeneration
>= generation) and every replica is updated and available, none of an older ReplicaSet left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gitops_poc.delivery.image import Image
from gitops_poc.release.gates import Check, Evaluation, GateSpec, dig, soak_check
from gitops_poc.render.manifests import parse_manifests


@dataclass(frozen=True)
class ReleaseState:
    """The latest revision of the source's release: status, when it was deployed, what it was given and the
    Deployments its manifest holds. `values` may hold a secret: compared in memory, never shown."""

    name: str
    namespace: str
    revision: int
    status: str
    deployed_at: datetime | None
    values: Mapping[str, Any] = field(default_factory=dict, repr=False)
    deployments: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.name} in {self.namespace} (revision {self.revision})"


def deployments_in(manifest: str, origin: str) -> tuple[str, ...]:
    """The names of the Deployments a release manifest (`helm get manifest`) holds."""
    return tuple(m.name for m in parse_manifests(manifest, origin) if m.kind == "Deployment")


def _count(deployment: Mapping[str, Any], *keys: str) -> int:
    value = dig(deployment, *keys)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def rollout_problem(deployment: Mapping[str, Any]) -> str | None:
    """Why a Deployment (as the API server returns it) has not rolled out; None when it has."""
    generation = _count(deployment, "metadata", "generation")
    observed = _count(deployment, "status", "observedGeneration")
    if observed < generation:
        return f"generation {generation} not yet observed (observed {observed})"
    wanted = dig(deployment, "spec", "replicas")
    replicas = wanted if isinstance(wanted, int) and not isinstance(wanted, bool) else 1
    updated = _count(deployment, "status", "updatedReplicas")
    total = _count(deployment, "status", "replicas")
    available = _count(deployment, "status", "availableReplicas")
    if updated == replicas == total == available:
        return None
    return f"{updated} of {replicas} updated, {total} running, {available} available"


def _images(deployment: Mapping[str, Any]) -> list[str]:
    containers = dig(deployment, "spec", "template", "spec", "containers")
    if not isinstance(containers, list):
        return []
    return [str(c.get("image")) for c in containers if isinstance(c, Mapping) and c.get("image")]


def _release_image(values: Mapping[str, Any]) -> tuple[str | None, str | None]:
    repository, tag = dig(values, "image", "repository"), dig(values, "image", "tag")
    return (str(repository) if repository else None, str(tag) if tag else None)


def evaluate_release(
    release: ReleaseState,
    live: Mapping[str, Mapping[str, Any] | None],
    *,
    image: Image,
    spec: GateSpec,
    now: datetime,
) -> Evaluation:
    """Every check `spec` asks for on the release and its Deployments (`live`: name -> the object, None when
    the API server has none)."""
    checks: list[Check] = []
    deployed = release.status == "deployed"
    if spec.health:
        checks.append(
            Check(
                "status",
                deployed,
                f"release revision {release.revision} {release.status}"
                + ("" if deployed else " (needs deployed)"),
            )
        )
        repository, tag = _release_image(release.values)
        given = f"{repository or '(chart default)'}:{tag or '(none)'}"
        same = tag == image.tag_field and (image.repository is None or repository == image.repository)
        checks.append(
            Check(
                "image",
                same,
                f"{image.reference} in the release's values"
                if same
                else f"the release's values hold {given}, not {image.reference}",
            )
        )
        checks.append(_rollout(release, live, image))
    if spec.soak > timedelta(0):
        # helm marks a revision deployed once its rollout was waited for: the soak counts from then.
        checks.append(soak_check("deployed", release.deployed_at if deployed else None, spec.soak, now))
    return Evaluation(release.describe(), tuple(checks), now, subject="release")


def _rollout(release: ReleaseState, live: Mapping[str, Mapping[str, Any] | None], image: Image) -> Check:
    if not release.deployments:
        return Check("rollout", False, f"the release's manifest holds no Deployment ({release.describe()})")
    seen: list[str] = []
    ok = True
    for name in release.deployments:
        deployment = live.get(name)
        if deployment is None:
            ok = False
            seen.append(f"Deployment {name} not found in {release.namespace}")
            continue
        images = _images(deployment)
        if image.repository is not None and image.reference not in images:
            ok = False
            seen.append(f"Deployment {name} runs {', '.join(images) or 'no image'}, not {image.reference}")
            continue
        if problem := rollout_problem(deployment):
            ok = False
            seen.append(f"Deployment {name} not rolled out: {problem}")
            continue
        replicas = _count(deployment, "status", "availableReplicas")
        seen.append(f"Deployment {name} rolled out ({replicas} available)")
    return Check("rollout", ok, "; ".join(seen))
