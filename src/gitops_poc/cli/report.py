"""`gitops-poc report --html DIR`: status matrix, timelines, least privilege and lint as one static page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from gitops_poc import fileio
from gitops_poc.cli.common import (
    EnvFileOption,
    ReadRemoteBaseOption,
    RootOption,
    load_platform,
    platform_checkout,
)
from gitops_poc.cli.output import err, out
from gitops_poc.cli.status import (
    ContextOption,
    EnvOption,
    NoClusterOption,
    ServiceOption,
    read_matrix,
)
from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform

if TYPE_CHECKING:
    from gitops_poc.checkout import Checkout


def _vault_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(fileio.read_bytes(path, fileio.JSON_STATE))
    except fileio.FileRefused as exc:
        raise UsageError(f"--vault-json {exc}") from None
    except ValueError as exc:
        raise UsageError(f"--vault-json {path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"--vault-json {path}: not an object (expected `vault check -o json` output)")
    return data


def _lint(checkout: Checkout, platform: Platform) -> list[dict[str, Any]]:
    from dataclasses import replace

    from gitops_poc.cli.lint import platform_crds
    from gitops_poc.lint import lint_platform

    root = checkout.root
    found = lint_platform(platform, root, checkout.lint_paths(), lambda: platform_crds(platform, root))
    return [replace(f, file=checkout.shown(f.file)).to_dict() for f in found]


def report(
    html: Path = typer.Option(
        ..., "--html", help="Folder to write the page into (index.html; created).", file_okay=False
    ),
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    remote_base: str | None = ReadRemoteBaseOption,
    service: list[str] = ServiceOption,
    env: list[str] = EnvOption,
    kube_context: str | None = ContextOption,
    no_cluster: bool = NoClusterOption,
    vault_json: Path | None = typer.Option(
        None,
        "--vault-json",
        dir_okay=False,
        help="`gitops-poc vault check --output json` output, for the least-privilege matrix.",
    ),
    lint: bool = typer.Option(True, "--lint/--no-lint", help="Run lint and show its findings."),
) -> int:
    """Write one static page: the status matrix (filter by service, environment, state), each service's
    timeline from git, the least-privilege matrix aggregated with search and drill-down, the lint findings.
    No server, nothing fetched when it is viewed: open DIR/index.html in a browser or publish DIR (CI: an
    artifact or GitLab Pages). Exit 0 when written (drift is shown, not an exit code: that is `status`)."""
    from gitops_poc.delivery.pins import now_utc, timestamp
    from gitops_poc.report.model import access_of, build_page
    from gitops_poc.report.site import write_site

    vault = access_of(_vault_json(vault_json), f"--vault-json {vault_json}") if vault_json else None
    platform = load_platform(root, env_file)
    with platform_checkout(platform, root, remote_base) as checkout:
        matrix = read_matrix(platform, checkout.root, remote_base, service, env, kube_context, no_cluster)
        findings = _lint(checkout, platform) if lint else None
    page = build_page(matrix, timestamp(now_utc()), vault, findings)
    written = write_site(html, page)
    out.print(
        escape(f"wrote {written} ({written.stat().st_size // 1024} KiB): open file://{written.resolve()}")
    )
    err.print(escape(f"{len(matrix.rows)} service(s) x {len(matrix.environments)} environment(s)"))
    return 0
