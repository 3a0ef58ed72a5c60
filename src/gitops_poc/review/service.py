"""The review of a service repository's merge request: every environment rendered on both sides
(production first), image and pin changes, lint introduced, and what merging triggers per environment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from gitops_poc.argocd.applications import FieldChange
from gitops_poc.delivery.pins import find_pin
from gitops_poc.errors import GitopsError
from gitops_poc.layout import VALUES_DIR
from gitops_poc.lint import lint_platform
from gitops_poc.lint.findings import Finding
from gitops_poc.platform import Platform, Tier
from gitops_poc.render.diff import diff_manifests
from gitops_poc.render.model import ChartRef
from gitops_poc.review.compare import Renderer, Sides, new_findings
from gitops_poc.review.model import AppChange, AppReview, Review
from gitops_poc.review.rendering import Job
from gitops_poc.review.sources import RenderInput, service_inputs
from gitops_poc.values import get_path, merge_files, parse_values
from gitops_poc.yamlio import read_text

IMAGE_KEYS = ("image.repository", "image.tag", "image.digest")


def environments(platform: Platform) -> list[str]:
    """Production first (what a reviewer must see), then the others in their order."""
    envs = list(platform.environments)
    return sorted(envs, key=lambda env: (platform.tier(env) is not Tier.PRODUCTION, envs.index(env)))


def _inputs(platform: Platform, tree: Path, service: str, env: str) -> RenderInput | str:
    return service_inputs(platform, tree, service, env, ChartRef.from_config(platform.config, env))


def _image_fields(base: RenderInput | str, head: RenderInput | str) -> list[FieldChange]:
    def values(inputs: RenderInput | str) -> dict[str, object]:
        if isinstance(inputs, str):
            return {}
        try:
            return merge_files(parse_values(text, str(path)) for path, text in inputs.value_texts)
        except GitopsError:
            return {}

    old, new = values(base), values(head)
    changes = []
    for key in IMAGE_KEYS:
        before, after = get_path(old, key), get_path(new, key)
        if before != after:
            changes.append(FieldChange(f"values.{key}", before, after))
    return changes


def _pin(tree: Path, env: str) -> str | None:
    name = f"{VALUES_DIR}/{env}.yaml"
    try:
        pin = find_pin(read_text(tree / name, tree), name)
    except GitopsError:
        return None
    return None if pin is None else f"pinned by {pin.by}: {pin.reason}"


def review_service(
    platform: Platform, service: str, sides: Sides, renderer: Renderer, lint: bool = True
) -> Review:
    """`sides.head` (the service repository's working tree) against `sides.base` (the target branch)."""
    envs = environments(platform)
    pairs = {
        env: (_inputs(platform, sides.base, service, env), _inputs(platform, sides.head, service, env))
        for env in envs
    }
    jobs, slots = [], []
    for env, (base, head) in pairs.items():
        same = (
            isinstance(base, RenderInput)
            and isinstance(head, RenderInput)
            and base.identity() == head.identity()
        )
        if same:
            continue
        for side, inputs in (("base", base), ("head", head)):
            if isinstance(inputs, RenderInput):
                jobs.append(Job(service, env, inputs))
                slots.append((env, side))
    results = dict(zip(slots, renderer.run(jobs), strict=True))
    apps, errors, triggers = [], [], []
    for env, (base, head) in pairs.items():
        pins = (_pin(sides.base, env), _pin(sides.head, env))
        fields = _image_fields(base, head)
        if pins[0] != pins[1]:
            fields.append(FieldChange(f"pin ({VALUES_DIR}/{env}.yaml)", pins[0], pins[1]))
        if (env, "head") not in results and (env, "base") not in results and not fields:
            continue
        old = base if isinstance(base, str) else results.get((env, "base"), ())
        new = head if isinstance(head, str) else results.get((env, "head"), ())
        name = platform.application_name(service, env)
        note = None
        objects = None
        if isinstance(new, str):
            errors.append(f"{name}: {new}")
            note = new
        elif isinstance(old, str):
            note = f"on {sides.base_label}: {old}"
        else:
            objects = tuple(
                diff_manifests(old, new, f"{name}@{sides.base_label}", f"{name}@{sides.head_label}")
            )
        production = platform.tier(env) is Tier.PRODUCTION
        apps.append(
            AppReview(
                name=name,
                service=service,
                environment=env,
                project=platform.project_name,
                namespace=platform.namespace(env),
                change=AppChange.CHANGED,
                auto_sync=platform.auto_sync(env),
                production=production,
                fields=tuple(fields),
                objects=objects,
                note=note,
                chart_version=platform.config.chart_version_of(env),
            )
        )
        if objects or fields:
            how = "ArgoCD syncs it automatically" if platform.auto_sync(env) else "it waits for a manual sync"
            triggers.append(f"{env}{' (production)' if production else ''}: {name} changes; {how}")
    introduced: Sequence[Finding] = ()
    fixed: Sequence[Finding] = ()
    head_findings: list[Finding] = []
    if lint:
        head_findings = _lint(platform, sides.head)
        introduced, fixed = new_findings(_lint(platform, sides.base), head_findings)
    return Review(
        mode="service",
        base=sides.base_label,
        head=sides.head_label,
        applications=tuple(apps),
        lint_introduced=tuple(introduced),
        lint_fixed=tuple(fixed),
        lint_findings=tuple(head_findings),
        errors=tuple(sorted(errors)),
        triggers=tuple(triggers),
    )


def _lint(platform: Platform, tree: Path) -> list[Finding]:
    """The repository linted as the service named after its folder; files shown relative to it."""
    if not (tree / VALUES_DIR).is_dir():
        return []
    tree = tree.resolve()  # `.` has no parent to lint it from
    findings = lint_platform(platform, tree.parent, [tree])
    return [replace(f, file=f.file.split("/", 1)[-1]) for f in findings]
