"""The `gitops-poc` command line. Only this package imports Typer and Rich."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence

import typer
from rich.markup import escape

from gitops_poc import __version__
from gitops_poc.cli import init as init_cmd
from gitops_poc.cli import lint as lint_cmd
from gitops_poc.cli import new_service as new_service_cmd
from gitops_poc.cli import plan as plan_cmd
from gitops_poc.cli import render as render_cmd
from gitops_poc.cli import diff as diff_cmd
from gitops_poc.cli import vault as vault_cmd
from gitops_poc.cli.output import err
from gitops_poc.errors import GitopsError

app = typer.Typer(
    name="gitops-poc",
    help="Build and run a multi-repository GitOps platform (ArgoCD, GitLab Agent, Vault, k8app) from one .env.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("init")(init_cmd.init)
app.command("new-service")(new_service_cmd.new_service)
app.command("plan")(plan_cmd.plan)
app.command("lint")(lint_cmd.lint)
app.command("render")(render_cmd.render)
app.command("diff")(diff_cmd.diff)
app.add_typer(vault_cmd.app, name="vault")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gitops-poc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what is done, to stderr."),
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure/changes, 2 bad input, 3 internal error, 130 Ctrl-C)."""
    try:
        result = app(args=list(argv) if argv is not None else None, prog_name="gitops-poc", standalone_mode=False)
    except GitopsError as exc:
        err.print("[red]error:[/]", escape(str(exc)))
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
        err.print("Interrupted.")
        return 130
    except Exception as exc:  # click usage errors come as ClickException
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        log = os.path.join(tempfile.gettempdir(), "gitops-poc-crash.log")
        with open(log, "w", encoding="utf-8") as handle:
            handle.write(f"gitops-poc {__version__}, Python {sys.version}\n")
            traceback.print_exc(file=handle)
        err.print(f"[red]internal error:[/] {type(exc).__name__}: {exc} (traceback in {log})")
        return 3
    return result if isinstance(result, int) else 0
