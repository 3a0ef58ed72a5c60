"""`gitops-poc review`: what a merge request will do, as a note for its reviewers."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path

import typer

from gitops_poc import gitrepo
from gitops_poc.changes import write_atomic
from gitops_poc.cli.common import (
    EnvFileOption,
    ReadRemoteBaseOption,
    RootOption,
    load_platform,
    platform_checkout,
)
from gitops_poc.cli.output import err
from gitops_poc.cli.render import RenderKubeVersionOption
from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.layout import APPLICATIONSET_FILE, VALUES_DIR
from gitops_poc.render.cache import RenderCache, render_cache_root
from gitops_poc.render.helm import Helm, find_helm
from gitops_poc.render.validate import parse_kube_version
from gitops_poc.review.codequality import codequality_json
from gitops_poc.review.compare import Renderer, Sides, review_platform
from gitops_poc.review.junit import junit_xml
from gitops_poc.review.markdown import DEFAULT_BUDGET, render_markdown
from gitops_poc.review.post import post as post_note
from gitops_poc.review.post import target_from
from gitops_poc.review.service import review_service
from gitops_poc.review.tree import base_side, tree_at

BASE_VARIABLE = "CI_MERGE_REQUEST_DIFF_BASE_SHA"


class ReviewOutput(StrEnum):
    markdown = "markdown"
    json = "json"


def _progress(done: int, total: int) -> None:
    if done == total or done % 50 == 0:
        err.print(f"Rendered {done}/{total}", markup=False)


def review(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    base: str | None = typer.Option(
        None,
        "--base",
        help=f"Revision of the target branch to compare with [default: ${BASE_VARIABLE} in a merge request].",
    ),
    output: ReviewOutput = typer.Option(
        ReviewOutput.markdown,
        "--output",
        "-o",
        help="markdown (the merge-request note), or json for scripts.",
    ),
    report: Path | None = typer.Option(
        None, "--report", dir_okay=False, help="Also write the full Markdown report here (the job artifact)."
    ),
    codequality: Path | None = typer.Option(
        None,
        "--codequality",
        dir_okay=False,
        help="Write lint findings as a GitLab Code Quality report here.",
    ),
    junit: Path | None = typer.Option(
        None, "--junit", dir_okay=False, help="Write lint, renders and the guard as a JUnit report here."
    ),
    max_deletions: int | None = typer.Option(
        None, "--max-deletions", min=0, help="Exit 1 when more Applications than this would be deleted."
    ),
    budget: int = typer.Option(
        DEFAULT_BUDGET, "--budget", min=10_000, help="Largest note in characters; past it diffs are left out."
    ),
    argocd_url: str | None = typer.Option(
        None, "--argocd-url", envvar="ARGOCD_URL", help="Argo CD's URL, for a link to every Application."
    ),
    service: str | None = typer.Option(
        None,
        "--service",
        help="In a service repository: the service's name [default: $CI_PROJECT_NAME, else the folder's].",
    ),
    post: bool = typer.Option(
        False,
        "--post",
        help=(
            "Post the note on the merge request (one note, updated in place), with $GITOPS_REVIEW_TOKEN; "
            "a failed post is a warning, never the verdict."
        ),
    ),
    remote_base: str | None = ReadRemoteBaseOption,
    chart_mirror: str | None = typer.Option(
        None,
        "--chart-mirror",
        envvar="CHART_REPO_MIRROR",
        help="Pull every Application's chart (same name and version) from this Helm repository, not its "
        "repoURL: CI without the public repository.",
    ),
    report_url: str | None = typer.Option(
        None,
        "--report-url",
        envvar="REPORT_URL",
        help="The published report page (`report --html`), linked under the summary.",
    ),
    kube_version: str | None = RenderKubeVersionOption,
    no_cache: bool = typer.Option(False, "--no-cache", help="Render everything again (no render cache)."),
) -> int:
    """Show what a merge request will do: Applications added, changed and deleted with their rendered
    difference, platform objects, Vault policies and roles, lint findings it introduces or fixes.

    Run in the platform folder, a service repository or a clone of the published gitops-config (the
    services' value files then come from --remote-base) with the target branch's revision (in GitLab CI,
    $CI_MERGE_REQUEST_DIFF_BASE_SHA is used). Only Applications the change can affect are rendered,
    in parallel, through a render cache. Markdown starts with a one-line summary. Exit 0 ok; 1 when
    the change trips the deletion guard, fails to render or introduces a lint error; 2 on bad input
    or a missing tool.
    """
    if post:
        target_from(os.environ)  # a pipeline that is not a merge request's: bad input, before any work
    base = base if base is not None else os.environ.get(BASE_VARIABLE) or None
    if base is None:
        raise UsageError(
            f"give --base REV (the target branch's revision); in a merge request ${BASE_VARIABLE}"
        )
    gitrepo.check_revision(base, "--base")
    platform = load_platform(root, env_file)
    kube_version = kube_version or platform.config.kubernetes_version
    parse_kube_version(kube_version, for_validation=False)
    helm = Helm(find_helm(root))
    cache = None if no_cache else RenderCache(render_cache_root(os.environ))
    renderer = Renderer(helm, kube_version, cache, _progress, chart_mirror or None)
    base_label = base if len(base) < 40 else base[:12]
    if (root / VALUES_DIR).is_dir() and not (root / APPLICATIONSET_FILE).is_file():
        name = service or os.environ.get("CI_PROJECT_NAME") or root.resolve().name
        with tree_at(root, base, name=root.resolve().name) as base_tree:
            result = review_service(platform, name, Sides(base_tree, root, base_label, "head"), renderer)
    else:
        with (
            platform_checkout(platform, root, remote_base) as checkout,
            base_side(root, base, checkout) as (base_tree, changed),
        ):
            result = review_platform(
                platform,
                Sides(base_tree, checkout.root, base_label, "head", changed, checkout.scope),
                renderer,
                max_deletions,
                every_finding=codequality is not None or junit is not None,
            )
        result = result.with_files_named(checkout.shown)
    if report is not None:
        write_atomic(report, render_markdown(result, argocd_url, budget=2**62, report_url=report_url))
    if codequality is not None:
        write_atomic(codequality, codequality_json(result.lint_findings))
    if junit is not None:
        write_atomic(junit, junit_xml(result, result.lint_findings))
    note = render_markdown(result, argocd_url, budget, _full_report(report), report_url)
    if output is ReviewOutput.json:
        typer.echo(json.dumps(result.as_dict(), indent=2, sort_keys=False))
    else:
        typer.echo(note, nl=False)
    if post:
        _post(note)
    if cache is not None:
        err.print(f"Render cache: {cache.hits} hit(s), {cache.misses} miss(es)", markup=False)
    return 1 if result.failed else 0


def _full_report(report: Path | None) -> str | None:
    """Where the whole report is: the job's artifact in GitLab CI, else the --report file."""
    if report is None:
        return None
    job_url = os.environ.get("CI_JOB_URL")
    if job_url:
        return f"{job_url}/artifacts/file/{report.as_posix()}"
    return str(report)


def _post(note: str) -> None:
    try:
        done = post_note(note, target_from(os.environ), os.environ)
    except GitopsError as exc:
        err.print(f"warning: the review note was not posted: {exc}", markup=False)
        return
    err.print(f"Review note {done} on the merge request", markup=False)
