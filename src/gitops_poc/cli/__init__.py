"""The `gitops-poc` command line. Only this package imports Typer and Rich."""

from __future__ import annotations

import logging
import os
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import typer

from gitops_poc import __version__
from gitops_poc.cli.lazy import Lazy, LazyGroup
from gitops_poc.errors import GitopsError
from gitops_poc.redact import RedactingStream, redact, remember_url_passwords


class Commands(LazyGroup):
    # Every command and sub-app, in the order `--help` lists them. Each is imported only when it runs.
    # To add one: one line here, "name": Lazy("gitops_poc.cli.<module>:<function or typer.Typer app>",
    # "summary for the command list"), with the command in its own module cli/<module>.py.
    registry = {
        "init": Lazy(
            "gitops_poc.cli.init:init", "Generate gitops-config/, services/*/.cicd and templates/ from .env."
        ),
        "new-service": Lazy("gitops_poc.cli.new_service:new_service", "Create a service from the template."),
        "plan": Lazy(
            "gitops_poc.cli.plan:plan", "Expand the ApplicationSet as ArgoCD does; show the change."
        ),
        "lint": Lazy("gitops_poc.cli.lint:lint", "Check values files and ArgoCD objects before a push."),
        "render": Lazy("gitops_poc.cli.render:render", "Render a service for an environment, validated."),
        "diff": Lazy("gitops_poc.cli.diff:diff", "What a change does to a service's desired state."),
        "review": Lazy(
            "gitops_poc.cli.review:review", "What a merge request will do, as a note for its reviewers."
        ),
        "vault": Lazy("gitops_poc.cli.vault:app", "Configure Vault and prove least privilege."),
        "ci": Lazy("gitops_poc.cli.ci:app", "Pipeline commands: bump, promote, pin, unpin an image; deploy."),
        "status": Lazy(
            "gitops_poc.cli.status:status", "What runs where: git and Argo CD per service and environment."
        ),
        "report": Lazy(
            "gitops_poc.cli.report:report", "Write the status, timelines, Vault and lint as a page."
        ),
        "publish": Lazy(
            "gitops_poc.cli.publish:publish", "Push gitops-config and each service to their remotes."
        ),
        "demo": Lazy("gitops_poc.cli.demo:demo", "Run the whole GitOps loop here (no GitLab, no cluster)."),
        "doctor": Lazy(
            "gitops_poc.cli.doctor:doctor", "Check the tools, the kube context and the room needed."
        ),
        "setup": Lazy(
            "gitops_poc.cli.setup:app", "Stand the platform up on Kubernetes (minikube by default)."
        ),
        "verify": Lazy("gitops_poc.cli.verify:verify", "Smoke-test the running platform (every check runs)."),
        "up": Lazy("gitops_poc.cli.up:up", "doctor, setup, verify: the whole platform, resumable."),
        "proxy": Lazy(
            "gitops_poc.cli.proxy:proxy", "Port-forwards to Vault, ArgoCD or the gateway, with URLs."
        ),
        "build-images": Lazy(
            "gitops_poc.cli.build_images:build_images", "Build the platform's own images into minikube."
        ),
        "gitlab": Lazy(
            "gitops_poc.cli.gitlab:app", "Create and check the GitLab group, projects and tokens."
        ),
        "rollout": Lazy(
            "gitops_poc.cli.rollout:app", "Roll a chart version or a template change out to every service."
        ),
    }


app = typer.Typer(
    name="gitops-poc",
    help=(
        "Build and run a multi-repository GitOps platform (ArgoCD, GitLab Agent, Vault, k8app) from one .env."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    cls=Commands,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gitops-poc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what is done, to stderr."),
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


def _crash_log(exc: BaseException) -> str:
    """Write the traceback to a new private file (0600, unique name) and return its path."""
    fd, path = tempfile.mkstemp(prefix="gitops-poc-crash-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"gitops-poc {__version__}, Python {sys.version}\n")
        handle.write(redact("".join(traceback.format_exception(exc))))
    return path


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def _stops_like_ctrl_c() -> Iterator[None]:
    """SIGTERM (a cancelled CI job, `kill`) and SIGHUP (a closed terminal) end a command as Ctrl-C does:
    its cleanup runs, so no child process it started (a server, a port-forward) outlives it. Only in the
    main thread (where Python delivers signals), and not where the caller chose to ignore them (nohup)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for number in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(number) is signal.SIG_DFL:
            previous[number] = signal.signal(number, _interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def _redacted_output(argv: Sequence[str]) -> Iterator[None]:
    """Everything written to stdout and stderr while a command runs (Rich, logging, a child's output passed
    through, typer's own messages) passes one redaction; a URL password given in argv is one it knows."""
    remember_url_passwords(argv)
    if isinstance(sys.stdout, RedactingStream):  # a command run from inside another one
        yield
        return
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(sys.stdout), RedactingStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure/changes, 2 bad input, 3 internal error, 130
    Ctrl-C, SIGTERM or SIGHUP)."""
    with _stops_like_ctrl_c(), _redacted_output(sys.argv[1:] if argv is None else argv):
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    try:
        result = app(
            args=list(argv) if argv is not None else None, prog_name="gitops-poc", standalone_mode=False
        )
    except GitopsError as exc:
        from rich.markup import escape  # Rich only when there is something to show

        from gitops_poc.cli.output import err

        err.print("[red]error:[/]", escape(str(exc)))
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
        print("Interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last resort: exit 3 and a crash log, never a raw traceback
        # Usage errors (typer's click, vendored or not): one `error:` line like every other error, with the
        # command's help named; only "no arguments" shows the help itself, as asked.
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            if type(exc).__name__ == "NoArgsIsHelpError" or not callable(
                message := getattr(exc, "format_message", None)
            ):
                show()
                return code
            from rich.markup import escape

            from gitops_poc.cli.output import err

            context = getattr(exc, "ctx", None)
            command = getattr(context, "command_path", None) or "gitops-poc"
            text = " ".join(str(message()).split())  # one line, whatever the library wrapped
            err.print("[red]error:[/]", escape(f"{text} (see `{command} --help`)"))
            return code
        from gitops_poc.cli.output import err

        log = _crash_log(exc)
        err.print(f"[red]internal error:[/] {type(exc).__name__} (a bug; the traceback is in {log})")
        return 3
    return result if isinstance(result, int) else 0
