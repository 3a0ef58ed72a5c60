"""`gitops-poc rollout chart|template`: change every service at once, safely (a chart version environment by
environment; a template change into every service repository)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from gitops_poc.cli.common import (
    EnvFileOption,
    RemoteBaseOption,
    RootOption,
    TokenFileOption,
    load_platform,
    remote_token,
    writer_lock,
)
from gitops_poc.cli.output import OutputFormat, err, out, print_json
from gitops_poc.cli.rollout_template import template
from gitops_poc.config import SEMVER
from gitops_poc.errors import UsageError
from gitops_poc.tokenhome import Token

app = typer.Typer(
    help="Change every service safely: a chart version wave by wave, a template change everywhere.",
    no_args_is_help=True,
)
app.command("template")(template)


def _merge_requests(url: str | None, token: Token | None) -> Any:
    """(project, target branch, source branch, title, description) -> the merge request's URL."""
    if url is None:
        raise UsageError(
            "merge requests need GitLab: give --remote-base an https URL of GitLab, or pass --push "
            "(or --dry-run to look)"
        )
    if not token:
        raise UsageError("merge requests need GitLab's API: set GITLAB_TOKEN (or pass --token-file)")
    from gitops_poc.gitlab.client import connect, open_merge_request

    gl = connect(url, token)

    def open_one(project: str, target: str, source: str, title: str, text: str) -> str:
        found = open_merge_request(gl, project, source, target, title, text)
        return f"!{found.iid} ({found.action}) {found.web_url}".rstrip()

    return open_one


@app.command()
def chart(
    version: str = typer.Argument(..., help="The chart version to roll out (of CHART_NAME in CHART_REPO)."),
    env: list[str] = typer.Option(
        [], "--env", "-e", help="Only these environments (repeat; still in ENVIRONMENTS order)."
    ),
    push: bool = typer.Option(
        False, "--push", help="Push each wave to the branch directly (default: a merge request per wave)."
    ),
    no_wait: bool = typer.Option(
        False, "--no-wait", help="Do not wait for each environment to be healthy (no cluster reachable)."
    ),
    timeout: float = typer.Option(
        600.0, "--timeout", min=1, help="Seconds to wait for one environment to be Synced and Healthy."
    ),
    yes_production: bool = typer.Option(
        False, "--yes-production", help="The explicit go for production environments' waves."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the waves and the pre-flight verdicts; write nothing."
    ),
    remote_base: str | None = RemoteBaseOption,
    token_file: Path | None = TokenFileOption,
    wait_lock: float = typer.Option(
        0.0,
        "--wait-lock",
        min=0,
        help="Seconds to wait for another run holding the platform folder (default: refuse at once).",
    ),
    branch: str | None = typer.Option(
        None, "--branch", help="The branch of gitops-config the waves change (default: GIT_BRANCH)."
    ),
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text or json (the waves)."
    ),
) -> int:
    """Roll chart VERSION out in ENVIRONMENTS order, one wave (one gitops-config change) per environment.

    Before a wave, every service of its environment is rendered with VERSION and validated: a failure stops
    the rollout before that wave writes anything, naming service, environment and error (exit 1). Then the
    ApplicationSet element of the environment gets chartVersion VERSION (pushed without force with --push,
    else a merge request), and the rollout waits until the environment's Applications are Synced and Healthy
    on VERSION. Production waits for --yes-production. The repository is the state: a re-run continues where
    the last run stopped. Exit 2: a VERSION the chart repository does not have, an unknown environment, git
    or GitLab failing (what was written stays; re-run).
    """
    from gitops_poc.render.cache import RenderCache, render_cache_root
    from gitops_poc.render.helm import Helm, find_helm
    from gitops_poc.rollout.applications import cluster_reader
    from gitops_poc.rollout.chart import Rollout, RolloutStopped, Settings, Target, Tools, verdict_lines

    if not SEMVER.match(version):
        raise UsageError(f"VERSION {version!r} is not an exact chart version such as 3.13.0")
    from gitops_poc.gitauth import askpass_env
    from gitops_poc.platform import GITOPS_CONFIG_REPO
    from gitops_poc.publish.remote import parse_remote_base

    platform = load_platform(root, env_file)
    base = parse_remote_base(remote_base, root)
    token = remote_token(platform, base, token_file)
    project = platform.repo_path(GITOPS_CONFIG_REPO)
    target = Target(base.location(project), branch or platform.config.git_branch)
    open_request = None if push or dry_run else _merge_requests(base.url if base.is_http else None, token)

    def say(line: str) -> None:
        err.print(escape(line))

    settings = Settings(version, tuple(env), yes_production, dry_run, None if no_wait else timeout)
    tools = Tools(
        Helm(find_helm(root)),
        RenderCache(render_cache_root(os.environ)),
        read_apps=None if no_wait else cluster_reader(platform),
        open_request=None if open_request is None else lambda *a: open_request(project, target.branch, *a),
    )
    rollout = Rollout(platform, root, target, tools, say)
    stopped: RolloutStopped | None = None
    lock = writer_lock(root, "rollout chart", writes=not dry_run, wait_seconds=wait_lock)
    with lock, askpass_env(token) as git_env:
        tools.environ = {**os.environ, **git_env}
        try:
            results = rollout.run(settings)
        except RolloutStopped as exc:
            stopped, results = exc, rollout.results
    if output is OutputFormat.text and dry_run:
        for line in verdict_lines(results):
            out.print(escape(line))
    if output is OutputFormat.json:
        print_json(
            {
                "version": version,
                "stopped": str(stopped) if stopped else None,
                "waves": [r.as_dict() for r in results],
            }
        )
    if stopped is not None:
        raise stopped
    return 1 if dry_run and any(r.action == "preflight-failed" for r in results) else 0
