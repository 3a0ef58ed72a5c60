"""`gitops-poc gitlab bootstrap|check`: the group, projects, protected branches, CI variables, registry
deploy token and agent, through GitLab's API. The API token comes from GITLAB_TOKEN or --token-file."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape

from gitops_poc.cli.common import EnvFileOption, RootOption, TokenFileOption, load_platform
from gitops_poc.cli.output import OutputFormat, err, out, print_json
from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.gitlab import credentials
from gitops_poc.gitlab.bootstrap import Target, gitlab_url
from gitops_poc.gitlab.bootstrap import bootstrap as run_bootstrap
from gitops_poc.gitlab.bootstrap import check as run_check
from gitops_poc.gitlab.model import Step
from gitops_poc.gitlab.plan import PUSH_TOKEN_VARIABLE
from gitops_poc.platform import Platform
from gitops_poc.secretfile import read_secret
from gitops_poc.tokenhome import Token, gitlab_home

app = typer.Typer(
    help="Create and check the platform's GitLab group, projects, variables and tokens.", no_args_is_help=True
)


class Visibility(StrEnum):
    private = "private"
    internal = "internal"
    public = "public"


class GitLabDiffers(GitopsError):
    """`gitlab check` found differences from the plan."""


UrlOption = typer.Option(
    None,
    "--url",
    help="GitLab's URL, the only address the token is sent to (default: GITLAB_URL, else in GitLab CI "
    "CI_SERVER_URL, else https://GITLAB_HOST).",
)
VisibilityOption = typer.Option(Visibility.private, "--visibility", help="Of the group and the projects.")


def _target(platform: Platform, url: str | None, token_file: Path | None, *, required: bool) -> Target:
    """GitLab at --url, else by tokenhome.ADDRESS_RULE; the token is for that address (--url included: it
    names the GitLab the token belongs to for this run)."""
    value = read_secret(token_file, "--token-file") if token_file else os.environ.get("GITLAB_TOKEN") or None
    if value is None and required:
        raise UsageError(
            "no GitLab token: set GITLAB_TOKEN (scope api) or pass --token-file "
            "(never the token itself on the command line)"
        )
    address = url or gitlab_url(platform, os.environ)
    target = Target(address, None)  # the URL is checked first: a bad one is named as the user gave it
    home = gitlab_home(os.environ, platform.config.gitlab_host, (address, "--url") if url else None)
    assert home is not None
    name = "--token-file" if token_file else "GITLAB_TOKEN"
    return target if value is None else Target(target.url, Token(value, name, home))


@app.command()
def bootstrap(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    url: str | None = UrlOption,
    token_file: Path | None = TokenFileOption,
    push_token_file: Path | None = typer.Option(
        None,
        "--push-token-file",
        dir_okay=False,
        allow_dash=True,
        help=f"The write-back token for the {PUSH_TOKEN_VARIABLE} group variable (default: the "
        f"{PUSH_TOKEN_VARIABLE} environment variable; left as it is when neither is given).",
    ),
    credentials_file: Path | None = typer.Option(
        None,
        "--credentials-file",
        dir_okay=False,
        help="Where the issued deploy and agent tokens go, mode 0600 (default: ROOT/.env, which "
        "setup registry "
        "and setup push read).",
    ),
    visibility: Visibility = VisibilityOption,
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Print the plan, change nothing (without a token: "
        "the plan for a GitLab that has none of it yet).",
    ),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json (the plan)."),
) -> int:
    """Create what the platform needs in GitLab; a re-run changes nothing and says so.

    The group (and parents), gitops-config and one project per service (empty, for publish), the protected
    default branch (maintainers only, no force push), group CI variables (CI_PUSH_TOKEN masked and
    protected, GITOPS_MODE, CI_TOOL_IMAGE), a read_registry deploy token and the agents registered in
    gitops-config with a token each: GITLAB_AGENT_NAME, and one named after each cluster of
    ENVIRONMENT_CLUSTERS. The issued tokens go to the credentials file only (mode 0600): GITLAB_DEPLOY_TOKEN,
    GITLAB_AGENT_TOKEN and GITLAB_AGENT_TOKEN_<CLUSTER>.

    The review token: a group access token <group>-review (scope api, role Reporter, 180 days), whose value
    goes straight into the group variable GITOPS_REVIEW_TOKEN (masked, hidden, not protected: merge-request
    pipelines post the review note with it), never to a file or the screen. A run in its last 30 days
    rotates it. Creating it needs the Owner role of the group.

    Each service project's CI/CD job token allowlist admits gitops-config, with access limited to the
    allowlist: gitops-config's pipeline reads the services' repositories with its own CI_JOB_TOKEN. The group
    variable REPORT_URL: gitops-config's GitLab Pages address (the report page review notes link), once
    GitLab has one.
    """
    platform = load_platform(root, env_file)
    target = _target(platform, url, token_file, required=not dry_run)
    push_token = (
        read_secret(push_token_file, "--push-token-file")
        if push_token_file
        else os.environ.get(PUSH_TOKEN_VARIABLE) or None
    )
    store = credentials.place(credentials_file, root)
    err.print(
        f"GitLab {escape(target.url)}: group {escape(platform.config.gitlab_group)}"
        + ("" if target.token else " (no token: planned as if GitLab had none of it)")
    )

    def progress(step: Step) -> None:
        if output is OutputFormat.text:
            err.print(f"  [green]+[/] {escape(step.describe())}")

    result = run_bootstrap(
        platform,
        target,
        store,
        os.environ,
        push_token=push_token,
        visibility=visibility.value,
        dry_run=dry_run,
        progress=progress,
    )
    if output is OutputFormat.json:
        print_json(
            {
                "url": target.url,
                "dry_run": dry_run,
                "read_from_gitlab": result.read_from_gitlab,
                "steps": [
                    {"kind": s.kind.value, "action": s.action, "target": s.target, "detail": s.detail}
                    for s in result.plan.steps
                ],
                "applied": len(result.done),
                "notes": list(result.plan.notes),
                "credentials_written": {"file": str(store), "keys": list(result.stored)}
                if result.stored
                else None,
            }
        )
        return 0
    if dry_run or not result.plan.steps:
        for step in result.plan.steps:
            out.print(f"  + {escape(step.describe())}")
    for note in result.plan.notes:
        err.print(f"[yellow]note:[/] {escape(note)}")
    if not result.plan.steps:
        err.print("GitLab matches the plan: nothing to change")
    elif dry_run:
        err.print(f"{len(result.plan)} change(s) planned (dry run: nothing changed)")
    else:
        err.print(f"{len(result.done)} change(s) applied")
    if result.stored:
        err.print(
            f"{', '.join(result.stored)} written to {escape(str(store))} (mode 0600); "
            "setup registry and setup push read them from there"
        )
    return 0


@app.command()
def check(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    url: str | None = UrlOption,
    token_file: Path | None = TokenFileOption,
    visibility: Visibility = VisibilityOption,
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json."),
) -> int:
    """Report how GitLab differs from the plan (a missing project or variable, an unprotected variable or
    branch, a wrong visibility, a missing token, a review token missing or expiring within 30 days, a service
    whose CI job token allowlist lacks gitops-config); exit 1 when it does."""
    platform = load_platform(root, env_file)
    target = _target(platform, url, token_file, required=True)
    _want, differences = run_check(platform, target, visibility=visibility.value)
    if output is OutputFormat.json:
        print_json(
            {
                "url": target.url,
                "differences": [{"target": d.target, "problem": d.problem} for d in differences],
            }
        )
    else:
        for diff in differences:
            out.print(f"  [red]x[/] {escape(diff.target)}: {escape(diff.problem)}")
    if differences:
        raise GitLabDiffers(
            f"GitLab differs from the plan in {len(differences)} place(s); "
            "`gitops-poc gitlab bootstrap` fixes what it can"
        )
    err.print(f"GitLab {escape(target.url)} matches the plan")
    return 0
