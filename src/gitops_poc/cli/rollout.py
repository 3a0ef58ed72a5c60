"""`gitops-poc rollout chart|template`: change every service at once, safely (a chart version environment by
environment; a template change into every service repository)."""

from __future__ import annotations

from pathlib import Path

import typer

from gitops_poc.cli.common import EnvFileOption, RootOption, load_platform
from gitops_poc.cli.rollout_template import template
from gitops_poc.errors import UsageError

app = typer.Typer(
    help="Change every service safely: a chart version wave by wave, a template change everywhere.",
    no_args_is_help=True,
)
app.command("template")(template)


@app.command()
def chart(
    version: str = typer.Argument(..., help="The chart version to roll out (CHART_NAME in CHART_REPO)."),
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
) -> None:
    """Roll a chart version out in ENVIRONMENTS order, one wave (one gitops-config change) per environment."""
    load_platform(root, env_file)
    raise UsageError(f"rollout chart {version}: not implemented yet (issue 22, in progress)")
