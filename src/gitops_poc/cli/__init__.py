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
from gitops_poc.cli import ci as ci_cmd
from gitops_poc.cli import diff as diff_cmd
from gitops_poc.cli import init as init_cmd
from gitops_poc.cli import lint as lint_cmd
from gitops_poc.cli import new_service as new_service_cmd
from gitops_poc.cli import plan as plan_cmd
from gitops_poc.cli import render as render_cmd
from gitops_poc.cli import vault as vault_cmd
from gitops_poc.cli.output import err
from gitops_poc.errors import GitopsError

app = typer.Typer(
    name="gitops-poc",
    help="Build and run a multi-repository GitOps platform (ArgoCD, GitLab Agent, Vault, k8app) from one .env.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("init")(init_cmd.init)
app.command("new-service")(new_service_cmd.new_service)
app.command("plan")(plan_cmd.plan)
app.command("lint")(lint_cmd.lint)
app.command("render")(render_cmd.render)
app.command("diff")(diff_cmd.diff)
app.add_typer(vault_cmd.app, name="vault")
app.add_typer(ci_cmd.app, name="ci")


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


SECRET_VARIABLES = ("VAULT_TOKEN", "GITLAB_TOKEN", "GITLAB_DEPLOY_TOKEN", "GITLAB_AGENT_TOKEN", "CI_PUSH_TOKEN")


def _redact(text: str) -> str:
    """Remove the values of known secret variables, in case an exception message carried one."""
    for name in SECRET_VARIABLES:
        value = os.environ.get(name, "")
        if len(value) >= 4:
            text = text.replace(value, "***")
    return text


def _crash_log(exc: BaseException) -> str:
    """Write the traceback to a new private file (0600, unique name) and return its path."""
    fd, path = tempfile.mkstemp(prefix="gitops-poc-crash-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"gitops-poc {__version__}, Python {sys.version}\n")
        handle.write(_redact("".join(traceback.format_exception(exc))))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure/changes, 2 bad input, 3 internal error, 130 Ctrl-C)."""
    try:
        result = app(args=list(argv) if argv is not None else None, prog_name="gitops-poc", standalone_mode=False)
    except GitopsError as exc:
        err.print("[red]error:[/]", escape(_redact(str(exc))))
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
        err.print("Interrupted.")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last resort: exit 3 and a crash log, never a raw traceback
        # Usage errors (typer's click, vendored or not): they know how to show themselves and their code.
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            return code
        log = _crash_log(exc)
        err.print(f"[red]internal error:[/] {type(exc).__name__} (a bug; the traceback is in {log})")
        return 3
    return result if isinstance(result, int) else 0
