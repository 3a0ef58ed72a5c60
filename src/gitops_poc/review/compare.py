"""What changes between the target branch and the merge request in a platform folder (gitops-config and
the services' values side by side): Applications, their rendered objects, platform objects, Vault, lint."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from gitops_poc.argocd.applications import Application, FieldChange, compare
from gitops_poc.argocd.preview import read_applications
from gitops_poc.errors import GitopsError
from gitops_poc.layout import APPLICATIONSET_FILE, GITOPS_CONFIG_DIR, PLATFORM_DIR, SERVICES_DIR
from gitops_poc.lint import lint_platform
from gitops_poc.lint.findings import Finding
from gitops_poc.platform import Platform, Tier
from gitops_poc.render.cache import RenderCache
from gitops_poc.render.diff import diff_manifests
from gitops_poc.render.helm import Helm
from gitops_poc.render.manifests import parse_manifests
from gitops_poc.review.model import AppChange, AppReview, Guard, ObjectsReview, Review, VaultChange
from gitops_poc.review.rendering import Job, Result, rendering
from gitops_poc.review.sources import RenderInput, render_input
from gitops_poc.yamlio import read_text

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Sides:
    """The two platform folders compared, and how to name them."""

    base: Path
    head: Path
    base_label: str
    head_label: str
    # The units (tree.unit_of) that differ, when git told: `base` then holds only those and gitops-config;
    # everything else is read from `head`, where it is the same.
    changed: frozenset[str] | None = None
    # The parts of the platform the checkout holds (checkout.Checkout.scope); empty: all of it.
    scope: tuple[Path, ...] = ()

    def base_service_tree(self, service: str) -> Path:
        return self.head if self.unchanged(f"{SERVICES_DIR}/{service}") else self.base

    def unchanged(self, unit: str) -> bool:
        """Git says the unit is the same on both sides (False when git was not asked)."""
        return self.changed is not None and unit not in self.changed


@dataclass(frozen=True)
class Renderer:
    helm: Helm
    kube_version: str | None
    cache: RenderCache | None
    on_progress: Progress | None = None
    chart_mirror: str | None = None  # pull every Application's chart from here (CHART_REPO_MIRROR)

    def run(self, jobs: Sequence[Job]) -> list[Result]:
        with self.start(jobs) as results:
            return list(results)

    def start(self, jobs: Sequence[Job]) -> AbstractContextManager[Iterator[Result]]:
        """The renders started in the background; their results in order, each when it is done."""
        return rendering(
            jobs,
            self.helm,
            self.kube_version,
            self.cache,
            on_progress=self.on_progress,
            mirror=self.chart_mirror,
        )


def _applications(tree: Path) -> tuple[Application, ...]:
    path = tree / APPLICATIONSET_FILE
    return read_applications(path) if path.is_file() else ()


def _inputs(app: Application, tree: Path) -> RenderInput | str:
    try:
        return render_input(app, tree)
    except GitopsError as exc:  # a values file that does not parse: lint names the line
        return str(exc)


@dataclass
class _Pending:
    """One Application to report, and the renders it waits for."""

    base: Application | None
    head: Application | None
    fields: tuple[FieldChange, ...]
    base_inputs: RenderInput | str | None = None
    head_inputs: RenderInput | str | None = None
    base_result: Result | None = None
    head_result: Result | None = None


def _pending(
    base_apps: Sequence[Application], head_apps: Sequence[Application], sides: Sides
) -> list[_Pending]:
    """Only what the change can affect: an Application whose render inputs and manifest are the same on
    both sides is left out before anything is rendered."""
    comparison = compare(base_apps, head_apps)
    fields = {c.after.key: c.fields for c in comparison.changed}
    before = {app.key: app for app in base_apps}
    pending = [_Pending(None, app, (), head_inputs=_inputs(app, sides.head)) for app in comparison.added]
    for app in head_apps:
        old = before.get(app.key)
        if old is None:
            continue
        if app.key not in fields and sides.unchanged(f"{SERVICES_DIR}/{app.service}"):
            continue  # the same manifest and the same value files: nothing to read, nothing to render
        head_inputs = _inputs(app, sides.head)
        base_inputs = _inputs(old, sides.base_service_tree(old.service))
        same = (
            isinstance(head_inputs, RenderInput)
            and isinstance(base_inputs, RenderInput)
            and head_inputs.identity() == base_inputs.identity()
        ) or head_inputs == base_inputs
        if same and app.key not in fields:
            continue
        pending.append(
            _Pending(
                old,
                app,
                fields.get(app.key, ()),
                None if same else base_inputs,
                None if same else head_inputs,
            )
        )
    pending += [
        _Pending(app, None, (), base_inputs=_inputs(app, sides.base_service_tree(app.service)))
        for app in comparison.deleted
    ]
    return pending


SIDES = ("base", "head")


def _job(item: _Pending, side: str) -> Job | None:
    app, inputs = (item.base, item.base_inputs) if side == "base" else (item.head, item.head_inputs)
    if isinstance(inputs, RenderInput) and app is not None:
        return Job(app.service, app.environment, inputs)
    return None


def _jobs(pending: Sequence[_Pending]) -> list[Job]:
    """Every render the pending Applications wait for, in their order (base before head)."""
    return [job for item in pending for side in SIDES if (job := _job(item, side)) is not None]


def _app_reviews(
    pending: Sequence[_Pending],
    results: Iterator[Result],
    platform: Platform,
    sides: Sides,
    errors: list[str],
) -> Iterator[AppReview]:
    """Each Application's review as soon as its renders are done (`results`: those of `_jobs(pending)`, in
    order); its rendered objects are let go once diffed, so memory does not grow with the fleet."""
    for item in pending:
        for side in SIDES:
            inputs = getattr(item, f"{side}_inputs")
            if isinstance(inputs, str):
                setattr(item, f"{side}_result", inputs)
            elif _job(item, side) is not None:
                setattr(item, f"{side}_result", next(results))
        yield _app_review(item, platform, sides, errors)
        item.base_result = item.head_result = None


def _app_review(item: _Pending, platform: Platform, sides: Sides, errors: list[str]) -> AppReview:
    app = item.head or item.base
    assert app is not None
    change = (
        AppChange.ADDED
        if item.base is None
        else AppChange.DELETED
        if item.head is None
        else AppChange.CHANGED
    )
    notes = []
    if isinstance(item.head_result, str):
        errors.append(f"{app.name}: {item.head_result}")
        notes.append(item.head_result)
    if isinstance(item.base_result, str) and item.base is not None:
        notes.append(f"on {sides.base_label}: {item.base_result}")
    changes = None
    if not isinstance(item.head_result, str) and not isinstance(item.base_result, str):
        old, new = item.base_result or (), item.head_result or ()
        labels = f"{app.name}@{sides.base_label}", f"{app.name}@{sides.head_label}"
        changes = tuple(diff_manifests(old, new, *labels))
    env = app.environment
    return AppReview(
        name=app.name,
        service=app.service,
        environment=env,
        project=str(app.spec.get("project") or "default"),
        namespace=app.destination_namespace,
        change=change,
        auto_sync=app.auto_sync,
        production=env in platform.environments and platform.tier(env) is Tier.PRODUCTION,
        fields=item.fields,
        objects=changes,
        note="; ".join(notes) or None,
        cascades=app.cascades if change is AppChange.DELETED else False,
        chart_version=app.chart_version,
    )


def _order(platform: Platform) -> Callable[[AppReview], tuple[int, str, int, str]]:
    envs = {env: i for i, env in enumerate(platform.environments)}
    ranks = {AppChange.DELETED: 0, AppChange.CHANGED: 1, AppChange.ADDED: 2}
    return lambda a: (ranks[a.change], a.service, envs.get(a.environment, len(envs)), a.name)


def platform_objects(sides: Sides) -> tuple[list[ObjectsReview], list[str]]:
    """gitops-config/platform/<env>/*.yaml, file by file: objects added, changed, removed."""
    if sides.unchanged(GITOPS_CONFIG_DIR.as_posix()):
        return [], []  # git says gitops-config/ is the same: no file to read
    folder = GITOPS_CONFIG_DIR / PLATFORM_DIR
    names: set[str] = set()
    for tree in (sides.base, sides.head):
        if (tree / folder).is_dir():
            names.update(
                p.relative_to(tree).as_posix() for p in (tree / folder).rglob("*.yaml") if p.is_file()
            )
    reviews, notes = [], []
    for name in sorted(names):
        texts = [_text(tree / name) for tree in (sides.base, sides.head)]
        if texts[0] == texts[1]:
            continue  # the same bytes: nothing to parse
        try:
            old, new = (parse_manifests(text, name) if text else [] for text in texts)
        except GitopsError as exc:
            notes.append(f"{name}: not compared ({exc})")
            continue
        changes = diff_manifests(old, new, sides.base_label, sides.head_label)
        if changes:
            reviews.append(ObjectsReview(name, tuple(changes)))
    return reviews, notes


def _text(path: Path) -> str | None:
    return read_text(path) if path.is_file() else None


def vault_changes(
    platform: Platform, base_apps: Sequence[Application], head_apps: Sequence[Application]
) -> list[VaultChange]:
    """The policy and role of every service x environment that appears or disappears (`vault provision`
    creates them; `vault provision --prune` deletes them)."""

    def pairs(apps: Sequence[Application]) -> set[tuple[str, str]]:
        return {(a.service, a.environment) for a in apps if a.environment in platform.environments}

    before, after = pairs(base_apps), pairs(head_apps)
    changes = []
    for change, chosen in (("create", sorted(after - before)), ("delete", sorted(before - after))):
        for service, env in chosen:
            changes.append(VaultChange(change, f"policy {platform.vault_policy(service, env)}"))
            changes.append(
                VaultChange(
                    change, f"role {platform.vault_role(service, env)} (namespace {platform.namespace(env)})"
                )
            )
    return changes


def _identity(finding: Finding) -> tuple[str, str, str, str]:
    # Lines move when a file is edited above a finding: the same rule, file and message is the same finding.
    return finding.rule_id, finding.severity.value, finding.file, finding.message


def new_findings(base: Sequence[Finding], head: Sequence[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(introduced by the change, fixed by it): findings counted per identity on each side."""
    base_count = Counter(_identity(f) for f in base)
    head_count = Counter(_identity(f) for f in head)
    introduced, fixed = [], []
    seen: Counter[tuple[str, str, str, str]] = Counter()
    for finding in head:
        seen[_identity(finding)] += 1
        if seen[_identity(finding)] > base_count[_identity(finding)]:
            introduced.append(finding)
    seen = Counter()
    for finding in base:
        seen[_identity(finding)] += 1
        if seen[_identity(finding)] > head_count[_identity(finding)]:
            fixed.append(finding)
    return introduced, fixed


def _files(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def changed_units(sides: Sides) -> list[Path]:
    """The folders lint looks at that differ between the sides (relative): gitops-config/ and each
    services/<name>/. Lint runs on these only: a values change lints one service, not the fleet."""
    if sides.changed is not None:
        known = (
            u for u in sides.changed if u == GITOPS_CONFIG_DIR.as_posix() or u.startswith(f"{SERVICES_DIR}/")
        )
        return sorted(Path(u) for u in known)
    units = [GITOPS_CONFIG_DIR]
    for tree in (sides.base, sides.head):
        if (tree / SERVICES_DIR).is_dir():
            units += [Path(SERVICES_DIR) / p.name for p in (tree / SERVICES_DIR).iterdir() if p.is_dir()]
    changed = [u for u in dict.fromkeys(units) if _files(sides.base / u) != _files(sides.head / u)]
    return sorted(changed)


def _lint(platform: Platform, tree: Path, units: Sequence[Path]) -> list[Finding]:
    paths = [tree / unit for unit in units if (tree / unit).is_dir()]
    return lint_platform(platform, tree, paths) if paths else []


def _lint_review(
    platform: Platform, sides: Sides, every_finding: bool
) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """(findings introduced, fixed, the merge request's side's findings): lint runs on the folders that
    differ; with `every_finding`, the merge request's side is linted whole (the reports)."""
    units = changed_units(sides)
    if every_finding:  # the reports: GitLab compares them with the target branch's whole report
        head_findings = lint_platform(platform, sides.head, [sides.head / p for p in sides.scope])
        prefixes = tuple(f"{unit.as_posix()}/" for unit in units)
        scoped = [f for f in head_findings if f.file.startswith(prefixes)]
    else:
        head_findings = scoped = _lint(platform, sides.head, units)
    introduced, fixed = new_findings(_lint(platform, sides.base, units), scoped)
    return introduced, fixed, head_findings


def review_platform(
    platform: Platform,
    sides: Sides,
    renderer: Renderer,
    max_deletions: int | None = None,
    lint: bool = True,
    every_finding: bool = False,
) -> Review:
    """The review of a platform folder: `sides.head` (the merge request) against `sides.base`. Lint runs on
    the folders that differ; with `every_finding`, the merge request's side is linted whole (the reports)."""
    head_apps = _applications(sides.head)
    # gitops-config the same on both sides: the same ApplicationSet expands to the same Applications.
    base_apps = head_apps if sides.unchanged(GITOPS_CONFIG_DIR.as_posix()) else _applications(sides.base)
    pending = _pending(base_apps, head_apps, sides)
    errors: list[str] = []
    with renderer.start(_jobs(pending)) as results:
        # helm renders in the background: everything else is done meanwhile, on the cores' spare time.
        introduced, fixed, head_findings = (
            _lint_review(platform, sides, every_finding) if lint else ([], [], [])
        )
        objects, notes = platform_objects(sides)
        apps = sorted(_app_reviews(pending, results, platform, sides, errors), key=_order(platform))
    return Review(
        mode="platform",
        base=sides.base_label,
        head=sides.head_label,
        applications=tuple(apps),
        platform_objects=tuple(objects),
        vault=tuple(vault_changes(platform, base_apps, head_apps)),
        lint_introduced=tuple(introduced),
        lint_fixed=tuple(fixed),
        lint_findings=tuple(head_findings),
        guard=Guard(max_deletions, sum(1 for a in apps if a.change is AppChange.DELETED)),
        errors=tuple(sorted(errors)),
        notes=tuple(notes),
    )
