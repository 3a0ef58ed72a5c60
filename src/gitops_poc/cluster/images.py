"""`build-images` as a plan: build each platform service that has sources here (services/<svc>/Dockerfile)
into minikube's image store. A failed build fails; nothing is ever substituted for it."""

from __future__ import annotations

from pathlib import Path

from gitops_poc.argv import Opt, render
from gitops_poc.cluster.infrastructure import minikube_profile
from gitops_poc.cluster.model import ClusterPlan, RunCommand, Step
from gitops_poc.layout import SERVICES_DIR
from gitops_poc.platform import Platform
from gitops_poc.vendoring import require_vendored


def image_name(platform: Platform, service: str, tag: str) -> str:
    return f"{platform.image_repository(service)}:{tag}"


def built_image(step: RunCommand) -> str:
    """The image a build step of `plan_images` makes (its `--tag=` value)."""
    return next(arg.removeprefix("--tag=") for arg in step.argv if arg.startswith("--tag="))


def plan_images(platform: Platform, root: Path, tag: str) -> ClusterPlan:
    steps: list[Step] = []
    notes: list[str] = []
    built = [s for s in platform.services if (root / SERVICES_DIR / s / "Dockerfile").is_file()]
    # Each folder is the whole build context; its vendor/ must hold the libraries as they are in libs/.
    require_vendored(root, built, "build-images")
    for service in platform.services:
        folder = root / SERVICES_DIR / service
        if service not in built:
            notes.append(
                f"{service}: no {SERVICES_DIR}/{service}/Dockerfile here (it runs a published image)"
            )
            continue
        steps.append(
            RunCommand(
                tuple(
                    render(
                        [
                            "minikube",
                            "image",
                            "build",
                            Opt("--profile", minikube_profile(platform)),
                            Opt("--tag", image_name(platform, service, tag)),
                            folder,
                        ]
                    )
                ),
                f"build {service} from {folder}",
            )
        )
    return ClusterPlan(tuple(steps), tuple(notes))
