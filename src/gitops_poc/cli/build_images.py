"""`gitops-poc build-images`: the platform's own service images, built into minikube from these sources."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from gitops_poc.cli.common import EnvFileOption, RootOption, load_platform
from gitops_poc.cli.output import OutputFormat, err, print_json
from gitops_poc.errors import GitopsError


class BuildFailed(GitopsError):
    """At least one image did not build (none is ever replaced by another image)."""


def build_images(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    tag: str = typer.Option(
        "local", "--tag", help="Image tag; images are <DOCKER_REGISTRY>/<group>/<service>:TAG."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the builds; run nothing."),
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text, or json for scripts."
    ),
) -> int:
    """Build every service that has a Dockerfile under services/ into minikube's image store
    (`minikube image build`). Every build runs; exit 1 when any failed (nothing is substituted)."""
    from gitops_poc.cli.setup import show_plan
    from gitops_poc.cluster.apply import StepFailed, run_command
    from gitops_poc.cluster.images import built_image, plan_images
    from gitops_poc.cluster.minikube import require_running_minikube
    from gitops_poc.cluster.model import RunCommand
    from gitops_poc.delivery.image import check_tag

    platform = load_platform(root, env_file)
    plan = plan_images(platform, root, check_tag(tag))
    if not dry_run and plan.steps:
        require_running_minikube(platform)
    if output is OutputFormat.text:
        show_plan("build-images", plan)
    results: dict[str, str] = {}
    if not dry_run:
        for step in plan.steps:
            assert isinstance(step, RunCommand)
            image = built_image(step)
            if output is OutputFormat.text:
                err.print(f"building {escape(image)} ...")
            try:
                run_command(step.argv)
                results[image] = "built"
            except StepFailed as exc:
                results[image] = f"failed: {exc}"
                if output is OutputFormat.text:
                    err.print(f"[red]failed:[/] {escape(str(exc))}")
    failures = [image for image, result in results.items() if result != "built"]
    if output is OutputFormat.json:
        print_json({"dry_run": dry_run, "images": results, **plan.as_json()})
    elif not dry_run:
        err.print(f"{len(results) - len(failures)}/{len(results)} image(s) built")
    if failures:
        raise BuildFailed(f"{len(failures)} image(s) failed to build: {', '.join(failures)}")
    return 0
