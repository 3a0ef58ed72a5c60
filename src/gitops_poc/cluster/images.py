"""`build-images` as a plan: build each platform service that has sources here (services/<svc>/Dockerfile)
into minikube's image store. A failed build fails; nothing is ever substituted for it."""

from __future__ import annotations

from pathlib import Path

from gitops_poc.cluster.infrastructure import minikube_profile
from gitops_poc.cluster.model import ClusterPlan, RunCommand, Step
from gitops_poc.layout import SERVICES_DIR
from gitops_poc.platform import Platform


def image_name(platform: Platform, service: str, tag: str) -> str:
    return f"{platform.image_repository(service)}:{tag}"


def plan_images(platform: Platform, root: Path, tag: str) -> ClusterPlan:
    steps: list[Step] = []
    notes: list[str] = []
    for service in platform.services:
        folder = root / SERVICES_DIR / service
        if not (folder / "Dockerfile").is_file():
            notes.append(
                f"{service}: no {SERVICES_DIR}/{service}/Dockerfile here (it runs a published image)"
            )
            continue
        steps.append(
            RunCommand(
                (
                    "minikube",
                    "image",
                    "build",
                    "--profile",
                    minikube_profile(platform),
                    "--tag",
                    image_name(platform, service, tag),
                    str(folder),
                ),
                f"build {service} from {folder}",
            )
        )
    return ClusterPlan(tuple(steps), tuple(notes))
